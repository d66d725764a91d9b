"""The briefing: a self-contained HTML page (charts embedded) and a typeset PDF.

First a one-page summary (the question, one answer per option, the focus node's key
figures, what drives the result, what the model cannot say), then the charts, then an
appendix (other changes, collapsed where nothing differs; headlines; assumptions and
sources). The sentences come from ``summary``; every user string is escaped by the
template engine (HTML) or by ``pdf`` (reportlab markup).
"""
from __future__ import annotations

import base64
import datetime
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from .._version import __version__
from ..labels import printable
from ..safefs import write_text
from ..sanitize import for_xml
from ..units import date_text, unit_word
from . import summary
from .charts import focus_of, save_charts, unit_of
from .driversbriefing import driver_sentences
from .pdf import write_pdf
from .pricechart import save_price_chart
from .words import METHOD, is_plural, limits, recovery_reference

if TYPE_CHECKING:
    from ..rundir import RunData



def _finalize(value: Any) -> Any:
    """Every value the template prints: strings lose control characters (then autoescape)."""
    return printable(value) if isinstance(value, str) else value


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                          autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize)
CAPTIONS = {
    "shortfall_fan": "Cumulative shortfall at the focus demand node since the start of the run: median over replications "
                     "(line) and 5-95% band; shocks shaded.",
    "compute_fan": "Daily compute delivered to all compute demand nodes: median and 5-95% band.",
    "kpi_bars": "Total shortfall and fill rate at the focus node; whiskers: 90% interval of the mean.",
    "survive_recover": "How long the focus node lasts after the first shock starts, and how long it takes to recover after it "
                       "ends; whiskers: 5-95% of runs.",
    "price_fan": "Price of each market product at its demand nodes (currency per unit): median over replications "
                 "(line) and 5-95% band; shocks shaded. The price rises with scarcity and with a licence fee.",
    "network_map": "The chain by stage (left to right) and region (bands): how much demand goes unmet or capacity stands idle, "
                   "in the base scenario.",
}
ORDER = ["shortfall_fan", "kpi_bars", "survive_recover", "compute_fan", "price_fan", "network_map"]


def _focus(data: Any) -> summary.Focus | None:
    node, product = focus_of(data)
    return summary.focus(data, node, product, unit_of(data, node, product)) if node else None


def headline(data: Any) -> list[str]:
    """Plain-language findings: the base case, then one sentence per option."""
    return summary.headline(data, _focus(data))


def _question(data: Any, f: summary.Focus | None) -> str:
    what = f"{f.node_label} ({f.product_label})" if f else "the network"
    does = "do" if f and is_plural(f.node_label) else "does"
    if data.kind == "compare":
        names = "; ".join(v.label for v in data.variants[1:])
        return f"How {does} {what} fare under {data.base.label}, and what do these options change: {names}?"
    return f"How {does} {what} fare under {data.base.label}?"


def _charts(charts: list[Path]) -> list[dict]:
    pngs = {p.stem: p for p in charts if p.suffix == ".png"}
    return [{"name": name, "path": pngs[name], "data": base64.b64encode(pngs[name].read_bytes()).decode("ascii"),
             "caption": CAPTIONS[name]} for name in ORDER if name in pngs]


MOVERS_NOTE = ("Morris screening over the file's uncertain inputs (its distributions), one replication per "
               "evaluation; each headline's 5-95% range over those inputs, then the inputs that move it most, with "
               "mu* (the mean size of its effect, ± its 95% interval) and the headline at the input's 5% and 95% "
               "quantiles. Tables and chart: drivers/drivers.html.")
MOVERS_NOTE_COMPARE = ("Morris screening over the files' uncertain inputs (their distributions), one replication per "
                       "evaluation, the base and every option run on the same random numbers at each point; each "
                       "option's difference from the base (option minus base) in each headline, its 5-95% range over "
                       "those inputs, then the inputs that move the difference most, with mu* (± its 95% interval) and "
                       "the difference at the input's 5% and 95% quantiles. An input marked 'base only' is one the "
                       "option fixes or lacks. Tables and chart: drivers/drivers.html.")


def _movers(data: Any) -> list[str]:
    """One sentence per headline from the run's ``drivers/drivers.csv`` (``--drivers``); none without it."""
    table = getattr(data, "drivers", None)
    return [] if table is None or not len(table) else driver_sentences(table, data.kind == "compare")


def context(data: Any, charts: list[Path]) -> dict:
    """Everything the HTML template and the PDF writer show, as plain strings and lists."""
    f = _focus(data)
    sc = data.base.scenario
    reps = data.manifest.get("replications", "?")
    title = data.base.label if data.kind == "run" else f"{data.base.label}: {len(data.variants) - 1} option(s) compared"
    end = sc.start_date + datetime.timedelta(days=sc.horizon - 1)
    subtitle = (f"chipsim {__version__} | {reps} replication(s), seed {data.manifest.get('seed', '?')} | "
                f"{date_text(sc.start_date)} to {date_text(end)} ({sc.horizon} days)")
    rows, collapsed = summary.other_changes(data, f)
    assumptions, sources, other_notes = summary.split_notes(data)
    files = sorted({Path(i["path"]).name for v in data.variants for i in v.inputs})
    return {"title": title, "subtitle": subtitle, "question": _question(data, f),
            "description": sc.description.strip(), "headline": summary.headline(data, f),
            "focus": f.node_label if f else "", "focus_product": f.product_label if f else "",
            "focus_unit": unit_word(f.unit) if f else "", "kpis": summary.focus_rows(data, f) if f else [],
            "drivers": summary.drivers(data, f), "movers": _movers(data), "recover_basis": recovery_reference(sc),
            "limits": limits(sc), "method": METHOD,
            "charts": _charts(charts), "changes": rows, "collapsed": collapsed,
            "headlines": summary.headline_rows(data), "assumption_groups": summary.assumption_groups(data),
            "assumptions": assumptions, "sources": sources, "other_notes": other_notes,
            "movers_note": MOVERS_NOTE_COMPARE if data.kind == "compare" else MOVERS_NOTE,
            "movers_title": "What moves each option's difference" if data.kind == "compare" else "What moves the headlines",
            "provenance": f"Run created {data.manifest.get('created', '')}; git {data.manifest.get('git_sha') or 'n/a'}; "
                          f"input files: {', '.join(files) or 'n/a'}."}


def template() -> jinja2.Template:
    """The briefing's HTML template (compiled once, then kept by the template engine)."""
    return _ENV.get_template("briefing.html.j2")


def write_briefing(data: Any, folder: Path, charts: list[Path], pdf: bool = True) -> list[Path]:
    """``briefing.html`` (self-contained) and, unless ``pdf`` is false, ``briefing.pdf`` in ``folder``."""
    ctx = context(data, charts)
    html = folder / "briefing.html"
    write_text(html, for_xml(template().render(**ctx)))
    if not pdf:
        return [html]
    printed = folder / "briefing.pdf"
    write_pdf(ctx, printed)
    return [html, printed]


def build_report(data: RunData, folder: Path, svg: bool = False, pdf: bool = True,
                 step: Callable[[str], object] | None = None,
                 draw: Callable[[Any, Path, bool], list[Path]] = save_charts) -> list[Path]:
    """Charts (PNG, CSV, and SVG when ``svg``) and the briefing (HTML, and the PDF unless
    ``pdf`` is false; it places the PNGs already drawn) into ``folder``; ``step`` is told
    each part as it starts. ``draw`` draws the run's charts into a folder (``save_charts``,
    or the same files from two processes: ``sim.reporting.background``); the price chart
    follows."""
    if step is not None:
        step("Drawing charts")
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    made = draw(data, charts, svg) + save_price_chart(data, charts, svg)
    if step is not None:
        step("Writing briefing" if pdf else "Writing briefing (HTML)")
    return made + write_briefing(data, folder, made, pdf=pdf)
