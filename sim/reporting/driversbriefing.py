"""What drives each headline, as words, a chart and a briefing section (``drivers.html``).

Pure functions of a ``drivers.csv`` table (``sim.driverssave.DRIVERS_COLUMNS``), so a
run's briefing or a script can read the same file the ``chipsim drivers`` command wrote:
``driver_sentences`` gives one sentence per headline, ``drivers_chart`` a tornado chart
(per headline, the headline at each top input's 5% and 95% quantile against its value
with every input at its median), ``write_drivers_briefing`` the self-contained HTML
section. Every user string is escaped by the template engine; labels lose control
characters first.
"""
from __future__ import annotations

import base64
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from ..labels import printable
from ..safefs import write_text
from ..sanitize import for_xml
from .charts import save_figure
from .style import PALETTE, chart_style, new_figure

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                          finalize=lambda v: printable(v) if isinstance(v, str) else v)
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body { font-family: Arial, sans-serif; color: #1f2933; max-width: 980px; margin: 2em auto; padding: 0 1.2em;
line-height: 1.45; } h1 { color: #2e4057; } li { margin: 0.4em 0; } .small { font-size: 0.85em; color: #52606d; }
img { max-width: 100%; height: auto; }</style></head><body>
<section id="drivers"><h1>{{ title }}</h1>
<p>{% if differences %}Each option's difference from the base in each headline (option minus base, both run on
the same random numbers at every point): its{% else %}Each headline's{% endif %} 5-95% interval over the uncertain
inputs, and the two or three inputs that move it most
(Morris screening; mu* is the mean absolute change of the headline when one input moves from its 5% to its 95%
quantile, with its 95% bootstrap half-width).</p>
<ul>{% for s in sentences %}<li>{{ s }}</li>{% endfor %}</ul>
{% if chart %}<figure><img alt="What drives each headline" src="data:image/png;base64,{{ chart }}"></figure>{% endif %}
<p class="small">{{ source }}</p></section></body></html>
"""


def number(value: Any) -> str:
    """A headline or input value as a reader reads it: 3 significant figures with k, M
    or bn; a small fraction as is; non-numbers as written."""
    suffix = ""
    written = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-z]+)\s*", value) if isinstance(value, str) else None
    if written:  # a document value with its unit suffix, e.g. 45.4wd
        value, suffix = written.group(1), written.group(2)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "n/a"
    for scale, prefix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{prefix}{suffix}"
    return f"{x:.3g}{suffix}"


def _unit(unit: Any) -> str:
    text = "" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else str(unit)
    return f" {text}" if text and text not in ("fraction", "ratio", "flag") else ""


def _title(h: Any) -> str:
    """A row's headline as a reader names it; a difference names its option."""
    option = h.get("option") if hasattr(h, "get") else None
    if isinstance(option, str) and option:
        return f"{h['label']}, {option} minus base"
    return str(h["label"])


def _unchanged(rows: pd.DataFrame) -> bool:
    """Whether a difference is 0 at every point: no input moves it and its interval is [0, 0]."""
    h = rows.iloc[0]
    return (not (rows["input"].fillna("").astype(str) != "").any() and float(h["p05"]) == 0 == float(h["p95"])
            and float(h["at_median"]) == 0)


def driver_sentences(table: pd.DataFrame, differences: bool = False) -> list[str]:
    """One sentence per headline of a ``drivers.csv`` table: its median and 5-95% interval
    over the uncertain inputs, then its top inputs with mu* and the headline at the
    input's 5% and 95% quantiles; a warning where the first two cannot be ranked. With
    ``differences`` (a ``compare --drivers`` table), the differences that are 0 at every
    point share one last sentence."""
    out: list[str] = []
    unchanged: dict[str, list[str]] = {}
    for _, rows in table.groupby("headline", sort=False):
        h = rows.iloc[0]
        if differences and _unchanged(rows):
            option = h.get("option")
            unchanged.setdefault(option if isinstance(option, str) and option else "The option", []).append(
                str(h["label"]))
            continue
        unit = _unit(h["unit"])
        text = (f"{_title(h)}: {number(h['p50'])}{unit} ({number(h['p05'])} to {number(h['p95'])} over the uncertain "
                f"inputs)")
        movers = rows[rows["input"].fillna("").astype(str) != ""]
        if not len(movers):
            out.append(text + "; no input moves it.")
            continue
        parts = []
        for _, r in movers.iterrows():
            part = f"{r['input_label']} (mu* {number(r['mu_star'])} ± {number(r['mu_star_conf'])}"
            if pd.notna(r.get("headline_at_low")) and pd.notna(r.get("headline_at_high")):
                # the quantile named: a shared draw's values are its leading field's, in that field's unit
                part += (f"; {number(r['headline_at_low'])} at its 5% point ({number(r['input_low'])}), "
                         f"{number(r['headline_at_high'])} at its 95% point ({number(r['input_high'])})")
            parts.append(part + ")")
        text += "; driven by " + ", then ".join(parts)
        if str(movers.iloc[0]["ranked"]) == "no":
            text += " (the first two overlap within their 95% intervals: too close to rank)"
        out.append(text + ".")
    for option, labels in unchanged.items():
        out.append(f"{option} leaves these exactly at the base's value at every point (difference 0): "
                   + "; ".join(labels) + ".")
    return out


def drivers_chart(table: pd.DataFrame, source: str) -> Any | None:
    """Per headline, a bar per top input from the headline at the input's 5% quantile to
    its 95% quantile (others at their median), the median point marked; None when no
    input moves any headline."""
    shown = table[table["headline_at_low"].notna() & table["headline_at_high"].notna()]
    heads = list(dict.fromkeys(shown["headline"]))
    if not heads:
        return None
    fig = new_figure(figsize=(10, 0.9 + 1.5 * len(heads)))
    axes = fig.subplots(len(heads), 1, squeeze=False)[:, 0]
    for ax, head in zip(axes, heads, strict=True):
        rows = shown[shown["headline"] == head].reset_index(drop=True)
        for i, r in rows.iterrows():
            low, high = float(r["headline_at_low"]), float(r["headline_at_high"])
            ax.plot([low, high], [i, i], color=PALETTE[0], lw=6, solid_capstyle="butt", alpha=0.6)
            ax.plot([low], [i], "<", color=PALETTE[2], ms=6)
            ax.plot([high], [i], ">", color=PALETTE[1], ms=6)
        ax.axvline(float(rows["at_median"].iloc[0]), color="#333333", lw=1, ls="--")
        ax.set_yticks(range(len(rows)), [textwrap.shorten(str(x), 48, placeholder="...") for x in rows["input_label"]],
                      fontsize=7)
        ax.invert_yaxis()
        unit = _unit(rows["unit"].iloc[0]).strip()
        ax.set_title(textwrap.shorten(_title(rows.iloc[0]) + (f" ({unit})" if unit else ""), 90, placeholder="..."),
                     fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.text(0.01, 0.005, textwrap.shorten(source + " Triangles: the input at its 5% (left-pointing) and 95% "
                                           "(right-pointing) quantile; dashed: every input at its median.", 300),
             fontsize=6, color="#555555")
    fig.subplots_adjust(left=0.33, right=0.97, bottom=0.5 / (0.9 + 1.5 * len(heads)), top=0.97, hspace=0.8)
    return fig


def write_drivers_briefing(table: pd.DataFrame, folder: Path, source: str, name: str,
                           differences: bool = False) -> list[Path]:
    """``charts/drivers.png`` and ``drivers.html`` (the chart embedded) in ``folder``;
    with ``differences`` the table screens options minus the base ``name``."""
    made: list[Path] = []
    chart = ""
    with chart_style():
        fig = drivers_chart(table, source)
        if fig is not None:
            (folder / "charts").mkdir(exist_ok=True)
            made.append(folder / "charts" / "drivers.png")
            save_figure(fig, made[-1])
            chart = base64.b64encode(made[-1].read_bytes()).decode("ascii")
    html = folder / "drivers.html"
    title = f"What moves each option's difference from '{name}'" if differences else f"What drives the headlines of '{name}'"
    write_text(html, for_xml(_ENV.from_string(_PAGE).render(title=title, differences=differences,
                                                            sentences=driver_sentences(table, differences), chart=chart,
                                                            source=source)))
    return [html, *made]
