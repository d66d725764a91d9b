"""Briefing charts: pure functions from a run's tables to matplotlib figures.

Every chart states its finding in the title, labels units, puts dates on time axes,
shows uncertainty (5-95% bands over replications, or 90% intervals of means), shades
shock windows and carries a source line naming the scenario files, chipsim version and
run. ``save_charts`` writes each as PNG (and SVG on request) with a CSV of the plotted numbers.
"""
from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.text import Text

from .._version import __version__
from ..labels import printable
from ..rundir import csv_text, write_csv
from ..safefs import write_bytes
from ..sanitize import for_chart, for_xml, shorten
from ..selectors import all_lanes
from ..statistics import paired_interval
from ..units import flops, is_compute, plain_tick, sig, unit_word
from .bands import daily_bands, daily_means, focus_of, has_running_totals, unit_of
from .layout import map_positions, stages
from .shading import legend_shade, shade_shocks
from .style import PALETTE, chart_formats, chart_style, new_figure, variant_colours
from .words import is_plural, node_label, product_label, recovery_reference

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..rundir import RunData


# --- shared pieces ---------------------------------------------------------------------

def source_line(data: RunData) -> str:
    """The source line under every chart: scenario files, chipsim version, seed, replications."""
    files = []
    for v in data.variants:
        files += [_short(Path(i["path"]).name, 60) for i in v.inputs[:1]] or [_short(f"{v.id}.yaml", 60)]
    created = str(data.manifest.get("created", ""))[:10]
    reps = data.manifest.get("replications", "")
    return (f"Source: chipsim {__version__}; scenario files: {', '.join(files)}; run of {created}, "
            f"seed {data.manifest.get('seed', '')}, {reps} replications.")


def _finish(fig, data, legend_rows: int = 0) -> None:
    fig.text(0.01, 0.01, textwrap.fill(source_line(data), 190), fontsize=7, color="#555555", va="bottom")
    fig.subplots_adjust(bottom=0.16 + 0.045 * legend_rows, top=0.88, left=0.08, right=0.98)


def _dates(ax) -> None:
    ax.xaxis.set_major_locator(locator := mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _label(data, vid: str) -> str:
    v = next(v for v in data.variants if v.id == vid)
    return _short(v.label, 48)


def _where(data, node: str) -> str:
    """A node's label for a chart, shortened."""
    return _short(node_label(data.base.scenario, node), 40)


def _plain(axis) -> None:
    """Plain or SI tick labels on an axis: never an offset or scientific notation."""
    axis.set_major_formatter(mticker.FuncFormatter(plain_tick))


def _tick(data, vid: str) -> str:
    """A variant's label wrapped for a y axis."""
    return textwrap.fill(_label(data, vid), 26)


def _title(target, text: str, width: int = 95) -> None:
    """A wrapped bold title on an axes (left) or a figure (suptitle)."""
    wrapped = textwrap.fill(text, width)
    if hasattr(target, "suptitle"):
        target.suptitle(wrapped, x=0.01, ha="left", fontsize=12.5, fontweight="bold")
    else:
        target.set_title(wrapped)


def _short(label: str, n: int = 40) -> str:
    """``label`` without control characters, cut to ``n`` characters with an ellipsis."""
    return shorten(printable(label), n)


# --- the charts ---------------------------------------------------------------------------

@chart_style()
def fan_chart(data, metric: str, node: str | None, product: str | None, what: str, unit: str,
              cumulative: bool = False):
    """``metric`` per variant over calendar time (daily, or its running total): median
    line and 5-95% band over replications, shocks shaded."""
    band = daily_bands(data.timeseries, metric, node, product, cumulative)
    colours = variant_colours([v.id for v in data.variants])
    per_rep = daily_means(data.timeseries)
    totals = (per_rep[(per_rep["metric"] == metric)
                      & ((per_rep["node"] == node) if node else True)
                      & ((per_rep["product"] == product) if product else True)]
              .groupby(["variant", "replication"], observed=True)["value"].sum()
              .groupby(level=0, observed=True).mean())
    if is_compute(unit):  # TFLOPS and the like, shown in EFLOPS
        factor = flops(1.0, unit) / 1e18
        band = band.assign(p05=band["p05"] * factor, median=band["median"] * factor, p95=band["p95"] * factor)
        totals, unit = totals * factor, "EFLOPS"
    fig = new_figure()
    ax = fig.subplots()
    drawn: set[bytes] = set()
    for v in data.variants:
        grp = band[band["variant"] == v.id]
        ax.plot(grp["date"], grp["median"], color=colours[v.id], lw=1.8, label=_label(data, v.id))
        key = grp[["p05", "p95"]].to_numpy(float).round(9).tobytes()
        if key not in drawn:  # options equal to an earlier one would stack their bands into a dark block
            drawn.add(key)
            ax.fill_between(grp["date"], grp["p05"], grp["p95"], color=colours[v.id], alpha=0.15, lw=0)
    shade_shocks(ax, data, node)
    where = f"{_where(data, node)}: " if node else ""
    if not cumulative:  # a daily rate: its level at the end, not a sum of rates
        totals = band[band["date"] == band["date"].max()].set_index("variant")["median"]
    base_total = float(totals.get(data.base.id, 0.0))
    says = "totals" if cumulative else f"reaches, per day by {band['date'].max():%b %Y},"
    title = f"{where}{what} {says} {sig(base_total)} {unit} in the base case"
    if len(data.variants) > 1:
        best = min(totals.index, key=lambda v: totals[v]) if "short" in metric else max(totals.index, key=lambda v: totals[v])
        title += ("; no option does better" if abs(float(totals[best]) - base_total) <= 1e-9 * max(1.0, abs(base_total))
                  else f"; with '{_short(_label(data, best))}' it is {sig(float(totals[best]))} {unit}")
    _title(ax, title)
    ax.set_ylabel(f"{what} since {data.base.scenario.start_date:%b %Y} ({unit})" if cumulative else f"{what} per day ({unit})")
    _dates(ax)
    ncol = 2 if len(data.variants) > 1 else 1
    legend_shade(ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=ncol))
    ax.set_ylim(bottom=0)
    _plain(ax.yaxis)
    _finish(fig, data, legend_rows=math.ceil(len(ax.get_legend_handles_labels()[1]) / 2))
    return fig, band


@chart_style()
def kpi_bars(data, node: str, product: str):
    """Total shortfall and fill rate per variant at the focus row, 90% intervals of the mean."""
    unit = unit_of(data, node, product)
    colours = variant_colours([v.id for v in data.variants])
    rows = []
    for v in data.variants:
        sub = data.table[(data.table["variant"] == v.id) & (data.table["node"] == node) & (data.table["product"] == product)]
        for metric in ("shortfall", "fill_rate"):
            mean, low, high, n = paired_interval(sub.loc[sub["metric"] == metric, "value"].to_numpy(float))
            rows.append({"variant": v.id, "label": v.label, "metric": metric, "mean": mean, "low": low, "high": high, "n": n,
                         "unit": unit if metric == "shortfall" else "share"})  # the table's units; the chart shows EFLOPS
    table = pd.DataFrame(rows)
    fig = new_figure(figsize=(10, 4.6))
    axes = fig.subplots(1, 2)
    # compute in EFLOPS, as the fan chart and the briefing's text give it
    factor, shown = (flops(1.0, unit) / 1e18, "EFLOPS") if is_compute(unit) else (1.0, unit_word(unit))
    panels = ((axes[0], "shortfall", f"total shortfall ({shown})"), (axes[1], "fill_rate", "fill rate (%)"))
    for ax, metric, title in panels:
        sub = table[table["metric"] == metric].reset_index(drop=True)
        scale = 100.0 if metric == "fill_rate" else factor
        y = np.arange(len(sub))
        means = sub["mean"].to_numpy() * scale
        err_low = np.nan_to_num((sub["mean"] - sub["low"]).to_numpy() * scale)
        err_high = np.nan_to_num((sub["high"] - sub["mean"]).to_numpy() * scale)
        ax.barh(y, means, color=[colours[v] for v in sub["variant"]], xerr=[err_low, err_high], capsize=4,
                error_kw={"elinewidth": 1, "ecolor": "#333333"})
        ax.set_yticks(y, [_tick(data, v) for v in sub["variant"]])
        ax.invert_yaxis()
        ax.set_xlabel(title)
        _plain(ax.xaxis)
        ax.grid(axis="x", alpha=0.3)
        ax.grid(axis="y", visible=False)
    axes[1].set_yticks([])
    short = table[table["metric"] == "shortfall"].set_index("variant")["mean"] * factor
    best = short.idxmin() if short.notna().any() else short.index[0]
    if len(data.variants) > 1:
        tied = bool(np.allclose(short.to_numpy(float), float(short.iloc[0]), rtol=1e-9, atol=0.0))
        lead = (f"no option changes the shortfall, {sig(short[best])} {shown}" if tied else
                f"'{_short(_label(data, best))}' leaves the least shortfall, {sig(short[best])} {shown}")
        title = (f"{_where(data, node)}: {lead}"
                 + (" (bars: 90% intervals)" if table["n"].max() > 1 else " (one run: no intervals)"))
    else:
        what = "" if is_compute(unit) else f" of {_short(product_label(data.base.scenario, product), 30)}"
        title = f"{_where(data, node)}: {sig(short.iloc[0])} {shown}{what} short over the run"
    _title(fig, title)
    fig.text(0.01, 0.01, textwrap.fill(source_line(data), 190), fontsize=7, color="#555555", va="bottom")
    fig.subplots_adjust(bottom=0.18, top=0.84, left=0.22, right=0.98, wspace=0.08)
    return fig, table


@chart_style()
def survive_recover(data, node: str, product: str):
    """Days the focus row lasts after the first shock, and days to recover after it ends."""
    colours = variant_colours([v.id for v in data.variants])
    rows = []
    for v in data.variants:
        sub = data.table[(data.table["variant"] == v.id) & (data.table["node"] == node) & (data.table["product"] == product)]
        for metric in ("time_to_survive_days", "time_to_recover_days"):
            values = sub.loc[sub["metric"] == metric, "value"].to_numpy(float)
            finite = values[np.isfinite(values)]
            rows.append({"variant": v.id, "metric": metric, "mean": finite.mean() if finite.size else math.nan,
                         "p05": np.quantile(finite, 0.05) if finite.size else math.nan,
                         "p95": np.quantile(finite, 0.95) if finite.size else math.nan,
                         "runs_with_value": int(finite.size), "runs": int(values.size)})
    table = pd.DataFrame(rows)
    fig = new_figure(figsize=(10, 4.6))
    ax = fig.subplots()
    y = np.arange(len(data.variants))
    bars = ((-0.2, "time_to_survive_days", None, "lasts: days from the first shock's start to the first short day"),
            (0.2, "time_to_recover_days", "//", f"recovers: {recovery_reference(data.base.scenario)}, until no longer short"))
    short_runs = table[table["metric"] == "time_to_survive_days"]["runs_with_value"].to_numpy()
    for offset, metric, hatch, name in bars:
        sub = table[table["metric"] == metric].reset_index(drop=True)
        means = np.nan_to_num(sub["mean"].to_numpy())
        # clipped at 0: the mean of equal values can miss them by a rounding step, and
        # matplotlib refuses a negative error bar
        low = np.maximum(np.nan_to_num(sub["mean"] - sub["p05"]), 0.0)
        high = np.maximum(np.nan_to_num(sub["p95"] - sub["mean"]), 0.0)
        ax.barh(y + offset, means, height=0.38, color=[colours[v] for v in sub["variant"]], hatch=hatch,
                alpha=1.0 if hatch is None else 0.55, xerr=[low, high], capsize=3, label=name,
                error_kw={"elinewidth": 1, "ecolor": "#333333"})
        for yi, (top, n_val, n_all) in enumerate(zip(sub["p95"], sub["runs_with_value"], sub["runs"], strict=False)):
            if metric == "time_to_survive_days":
                text = "never short" if n_val == 0 else (f"short in {n_val} of {n_all} runs" if n_val < n_all else "")
            else:
                text = f"{n_val} of {short_runs[yi]} short runs recover" if short_runs[yi] else ""
            if text:
                ax.annotate(text, xy=(0 if math.isnan(top) else top, yi + offset), xytext=(5, 0),
                            textcoords="offset points", va="center", fontsize=7.5)
    ax.margins(x=0.18)
    ax.set_yticks(y, [_tick(data, v.id) for v in data.variants])
    ax.invert_yaxis()
    ax.set_xlabel("days")
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    survive = table[table["metric"] == "time_to_survive_days"].set_index("variant")["mean"]
    base = survive.get(data.base.id, math.nan)
    title = (f"{_where(data, node)} lasts {sig(base)} days after the first shock in the base case" if not math.isnan(base)
             else f"{_where(data, node)} is never short in the base case")
    _title(fig, title + (" (whiskers: 5-95% of runs)" if table["runs"].max() > 1 else " (one run)"))
    fig.text(0.01, 0.01, textwrap.fill(source_line(data), 190), fontsize=7, color="#555555", va="bottom")
    fig.subplots_adjust(bottom=0.3, top=0.86, left=0.22, right=0.98)
    return fig, table


@chart_style()
def network_map(data, variant_id: str | None = None):
    """The chain left to right by stage, regions as bands, nodes coloured by unmet share:
    shortfall / demand at demand nodes, lost output (1 - produced / capacity) at producers."""
    vid = variant_id or data.base.id
    variant = next(v for v in data.variants if v.id == vid)
    sc = variant.scenario
    ts = daily_means(data.timeseries[data.timeseries["variant"] == vid])
    sums = ts.groupby(["node", "metric"], observed=True)["value"].sum().unstack(fill_value=0.0)
    pain, kind = {}, {}
    for nid, node in sc.nodes.items():
        row = sums.loc[nid] if nid in sums.index else pd.Series(dtype=float)
        if node.demand is not None:
            demand = row.get("compute_demand", 0.0) or row.get("demand", 0.0)
            short = row.get("compute_shortfall", 0.0) or row.get("shortfall", 0.0)
            pain[nid], kind[nid] = (short / demand if demand > 0 else 0.0), "demand"
        elif node.produces is not None:
            cap, made = row.get("capacity", 0.0), row.get("wafers_started", 0.0) if node.fab else row.get("produced", 0.0)
            pain[nid], kind[nid] = (max(0.0, 1.0 - made / cap) if cap > 0 else 0.0), "producer"
        else:
            pain[nid], kind[nid] = math.nan, "stock"
    stage = stages(sc)
    pos, bands = map_positions(sc, stage)
    regions = list(bands)
    fig = new_figure(figsize=(12, min(16.0, max(4.5, 0.32 * sum(h for _, h in bands.values()) + 2))))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["Reds"]
    for src, dst, _ in all_lanes(sc):
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "-|>", "color": "#b0b7c0", "lw": 0.8,
                                                                   "shrinkA": 7, "shrinkB": 7}, zorder=1)
    for i, (y0, height) in enumerate(bands.values()):
        if i % 2 == 0:
            ax.axhspan(y0, y0 + height, color="#f3f4f6", zorder=0)
    for nid, (x, y) in pos.items():
        value = pain[nid]
        colour = "#ffffff" if math.isnan(value) else cmap(min(1.0, value / 0.5))
        marker = {"demand": "s", "producer": "o", "stock": "D"}[kind[nid]]
        ax.scatter([x], [y], s=260, marker=marker, color=colour, edgecolors="#2e4057", linewidths=1.0, zorder=3)
        ax.annotate(_short(node_label(sc, nid), 22), (x, y), xytext=(9, 0), textcoords="offset points", ha="left",
                    va="center", fontsize=7, zorder=4)
    ax.set_yticks([y0 + h / 2 for y0, h in bands.values()], [_short(r, 24) for r in regions])
    last = max(stage.values(), default=0)  # a network without nodes still draws an empty map
    ax.set_xticks(range(last + 1), [f"stage {s}" for s in range(last + 1)])
    ax.set_xlim(-0.3, last + 0.7)
    ax.set_ylim(max(1.0, sum(h for _, h in bands.values())), 0)
    ax.grid(False)
    # unmet demand is what the reader asks about: an idle producer leads only when no buyer is short
    short = [n for n in pain if kind[n] == "demand" and pain[n] > 0]
    worst = max(short or [n for n in pain if not math.isnan(pain[n])], key=lambda n: pain[n], default=None)
    if worst is not None and pain[worst] > 0:
        name = _short(node_label(sc, worst))
        has, its = ("have", "their") if is_plural(name) else ("has", "its")
        what = f"of {its} demand unmet" if kind[worst] == "demand" else f"of {its} capacity idle for want of inputs"
        title = f"Where the pain lands: {name} {has} {pain[worst]:.0%} {what}"
    else:
        title = "No node falls short or stands idle in this run"
    _title(fig, f"{title} ({_short(_label(data, vid), 50)})")
    sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 50))
    bar = fig.colorbar(sm, ax=ax, fraction=0.025, pad=0.01)
    bar.set_label("unmet share, % (50 or more: darkest)")
    fig.text(0.08, 0.045, "Squares: demand nodes, shortfall / demand. Circles: producers, capacity idle for want of inputs. "
             "Diamonds: stock-holding nodes. Arrows: lanes.", fontsize=8, color="#333333")
    fig.text(0.01, 0.01, textwrap.fill(source_line(data), 190), fontsize=7, color="#555555", va="bottom")
    fig.subplots_adjust(bottom=0.14, top=0.88, left=0.08, right=0.93)
    table = pd.DataFrame({"node": list(pos), "stage": [stage[n] for n in pos], "region": [sc.nodes[n].region for n in pos],
                          "kind": [kind[n] for n in pos], "unmet_share": [pain[n] for n in pos]})
    return fig, table


def save_figure(fig: Figure, path: Path, write: Callable[[Path, bytes], object] = write_bytes) -> None:
    """``fig`` drawn in memory (format from the suffix), then handed to ``write``: by default
    written to a temporary name beside ``path`` and renamed into place (never through a
    link planted at ``path``)."""
    for text in fig.findobj(Text):  # the last guard: no control character reaches a glyph, no text is unbounded
        text.set_text(for_chart(printable(text.get_text())))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix[1:], bbox_inches="tight", pad_inches=0.15)
    data = buffer.getvalue()
    if path.suffix == ".svg":  # labels with control characters would make the XML ill-formed
        data = for_xml(data.decode("utf-8")).encode("utf-8")
    write(path, data)


def save_charts(data: RunData, folder: Path, svg: bool = False, pick: Callable[[str], bool] = lambda name: True,
                write: Callable[[Path, bytes], object] = write_bytes) -> list[Path]:
    """Every chart of a run as PNG (and SVG when ``svg``), with the plotted numbers as CSV;
    only the charts whose name ``pick`` accepts, each file's bytes handed to ``write``
    (by default ``sim.safefs.write_bytes``)."""
    made = []

    def save(name: str, fig: Figure, table: pd.DataFrame) -> None:
        with chart_style():  # savefig.dpi is read when saving
            for ext in chart_formats(svg):
                path = folder / f"{name}.{ext}"
                save_figure(fig, path, write)
                made.append(path)
        write(folder / f"{name}.csv", csv_text(table).encode("utf-8"))
        made.append(folder / f"{name}.csv")

    node, product = focus_of(data)
    if node:
        compute = product not in data.base.scenario.products
        metric = "compute_shortfall" if compute else "shortfall"
        if pick("shortfall_fan") and has_running_totals(data.timeseries, metric, node):  # an older summary may lack them
            save("shortfall_fan", *fan_chart(data, metric, node, product, "shortfall", unit_of(data, node, product),
                                             cumulative=True))
        if pick("kpi_bars"):
            save("kpi_bars", *kpi_bars(data, node, product))
        if pick("survive_recover"):
            save("survive_recover", *survive_recover(data, node, product))
    if pick("compute_fan") and (data.timeseries["metric"] == "compute_delivered").any():
        measures = sorted({d.demand.measure for v in data.variants for d in v.scenario.nodes.values()
                           if d.demand is not None and d.demand.measure})
        fig, band = fan_chart(data, "compute_delivered", None, None, "Compute delivered", ", ".join(measures))
        medians = band.pivot_table(index="date", columns="variant", values="median", observed=True)
        if len(data.variants) == 1 or not np.allclose(medians.to_numpy(), medians[[data.base.id]].to_numpy()):
            save("compute_fan", fig, band)  # left out when every option equals the base
    if pick("network_map"):
        save("network_map", *network_map(data))
    return made


@chart_style()
def tornado_chart(sens: pd.DataFrame, node: str, unit: str, metric: str, source: str) -> Figure:
    """Bars from the KPI at each lever's LOW to its HIGH (in ``unit``), largest effect on
    top; ``sens`` is ``sim.sweep.sensitivity``'s table."""
    fig = new_figure(figsize=(10, 1.6 + 0.55 * len(sens)))
    ax = fig.subplots()
    centre = float(sens["centre"].iloc[0]) if len(sens) else 0.0
    for i, row in sens.iterrows():
        lo, hi = row["kpi_at_low"], row["kpi_at_high"]
        ax.barh(i, hi - lo, left=lo, color=PALETTE[1] if hi > lo else PALETTE[2], height=0.6)
        ax.annotate(f"{row['low']:g}", (lo, i), xytext=(-4, 0), textcoords="offset points",
                    ha="right" if hi >= lo else "left", va="center", fontsize=8)
        ax.annotate(f"{row['high']:g}", (hi, i), xytext=(4, 0), textcoords="offset points",
                    ha="left" if hi >= lo else "right", va="center", fontsize=8)
    ax.axvline(centre, color="#333333", lw=1)
    ax.set_yticks(range(len(sens)), [_short(lever, 48) for lever in sens["lever"]])
    node = _short(node)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"{metric.replace('_', ' ')} at {node} ({unit}); bar from the lever's low to its high value")
    top = sens.iloc[0] if len(sens) else None
    title = (f"{_short(top['lever'], 48)} moves {metric.replace('_', ' ')} at {node} most: {top['effect']:+,.4g} {unit} "
             "across its range" if top is not None else "No levers")
    ax.set_title(textwrap.fill(title, 95))
    fig.text(0.01, 0.01, source, fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.28, right=0.95, bottom=0.22 if len(sens) < 4 else 0.12, top=0.85)
    return fig


def save_tornado(sens: pd.DataFrame, node: str, unit: str, source: str, folder: Path) -> list[Path]:
    """The shortfall tornado chart of a sweep as PNG and SVG, with its numbers as CSV, in
    a new ``folder``."""
    fig = tornado_chart(sens, node, unit, "shortfall", source)
    folder.mkdir()
    made = []
    with chart_style():
        for ext in ("png", "svg"):
            made.append(folder / f"tornado.{ext}")
            save_figure(fig, made[-1])
    write_csv(folder / "tornado.csv", sens)
    return made + [folder / "tornado.csv"]

