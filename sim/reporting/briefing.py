"""The briefing: a self-contained HTML page (charts embedded) and a PDF for print.

The headline sentences are written from the numbers of the run; every user-provided
string (scenario names, descriptions, node ids) is escaped by the template engine.
"""
from __future__ import annotations

import base64
import datetime as _dt
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import numpy as np

from .._version import __version__
from ..metrics import briefed
from ..metrics import label as metric_label
from ..quantities import day_number
from .charts import focus_of, save_charts, unit_of
from .pdf import write_pdf
from .style import variant_colours

if TYPE_CHECKING:
    from ..rundir import RunData

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                          autoescape=True, undefined=jinja2.StrictUndefined)
CAPTIONS = {
    "shortfall_fan": "Cumulative shortfall at the focus demand node since the start of the run: median over replications "
                     "(line) and 5-95% band; shocks shaded.",
    "compute_fan": "Daily compute delivered to all compute demand nodes: median and 5-95% band.",
    "kpi_bars": "Total shortfall and fill rate at the focus node; whiskers: 90% interval of the mean.",
    "survive_recover": "How long the focus node lasts after the first shock starts, and how long it takes to recover after it "
                       "ends; whiskers: 5-95% of runs.",
    "network_map": "The chain by stage (left to right) and region (bands): how much demand goes unmet or capacity stands idle, "
                   "in the base scenario.",
}
ORDER = ["shortfall_fan", "compute_fan", "kpi_bars", "survive_recover", "network_map"]


def _num(x, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if pct:
        return f"{x:.1%}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def _mean(data, variant: str, node: str, product: str, metric: str) -> tuple[float, float, float, int]:
    t = data.table
    values = t[(t["variant"] == variant) & (t["node"] == node) & (t["product"] == product) & (t["metric"] == metric)]["value"]
    arr = values.to_numpy(float)
    finite = arr[np.isfinite(arr)]
    if not finite.size:
        return math.nan, math.nan, math.nan, 0
    return float(finite.mean()), float(np.quantile(finite, 0.05)), float(np.quantile(finite, 0.95)), int(finite.size)


def headline(data) -> list[str]:
    """Plain-language findings written from the run's numbers."""
    node, product = focus_of(data)
    if not node:
        return ["The scenarios have no demand nodes, so there is no shortfall to report."]
    base = data.base
    sc = base.scenario
    unit = unit_of(data, node, product)
    lines = []
    short, _, _, _ = _mean(data, base.id, node, product, "shortfall")
    fill, _, _, _ = _mean(data, base.id, node, product, "fill_rate")
    end_date = sc.start_date + _dt.timedelta(days=sc.horizon - 1)
    if short > 0:
        lines.append(f"Under '{base.label}', {node} misses {_num(short)} {unit} of {product}, {1 - fill:.1%} of its demand "
                     f"between {sc.start_date:%d %b %Y} and {end_date:%d %b %Y} (mean of "
                     f"{data.manifest.get('replications', '?')} replications).")
    else:
        lines.append(f"Under '{base.label}', no demand node falls short between {sc.start_date:%d %b %Y} and "
                     f"{end_date:%d %b %Y}.")
    survive, s05, s95, n_short = _mean(data, base.id, node, product, "time_to_survive_days")
    first = sorted(sc.shocks, key=lambda s: (day_number(s.start, sc.start_date)))
    if first:
        label = first[0].label(sc.shocks.index(first[0]))
        if not math.isnan(survive):
            lines.append(f"Its stock lasts {_num(survive)} days after '{label}' starts (5-95% of runs: {_num(s05)} to "
                         f"{_num(s95)} days).")
        recover, r05, r95, n_rec = _mean(data, base.id, node, product, "time_to_recover_days")
        if n_short and not math.isnan(recover) and short > 0:
            lines.append(f"It recovers {_num(recover)} days after the shock ends (5-95%: {_num(r05)} to {_num(r95)}).")
        elif short > 0 and n_rec == 0:
            lines.append("It is still short on the last day of the run: no recovery within the horizon.")
    if data.kind == "compare" and not data.differences.empty:
        d = data.differences
        rows = d[(d["node"] == node) & (d["product"] == product) & (d["metric"] == "shortfall")]
        for _, r in rows.iterrows():
            label = next(v.label for v in data.variants if v.id == r["variant"])
            change = "cuts" if r["difference"] < 0 else "adds to"
            if r["distinguishable"]:
                lines.append(f"'{label}' {change} the shortfall by {_num(abs(r['difference']))} {unit} "
                             f"(90% interval of the change: {_num(r['difference_low'])} to {_num(r['difference_high'])} {unit}).")
            else:
                lines.append(f"'{label}' makes no difference to the shortfall that {r['pairs']} replications can detect "
                             f"(90% interval of the change: {_num(r['difference_low'])} to {_num(r['difference_high'])} {unit}).")
        if len(data.ranking):
            best = data.ranking.iloc[0]
            label = next(v.label for v in data.variants if v.id == best["variant"])
            lines.append(f"Best by {metric_label(data.rank_by)} at {node}: '{label}'.")
    return lines


def _kpi_rows(data) -> list[dict]:
    rows = []
    for v in data.variants:
        keys = data.table[data.table["variant"] == v.id][["node", "product"]].drop_duplicates()
        for node, product in keys.itertuples(index=False):
            demand = _mean(data, v.id, node, product, "demand")[0]
            short = _mean(data, v.id, node, product, "shortfall")[0]
            fill = _mean(data, v.id, node, product, "fill_rate")[0]
            survive = _mean(data, v.id, node, product, "time_to_survive_days")
            recover = _mean(data, v.id, node, product, "time_to_recover_days")
            rows.append({"label": v.label, "node": node, "product": f"{product} ({unit_of(data, node, product)})",
                         "demand": _num(demand), "shortfall": _num(short), "fill": _num(fill, pct=True),
                         "survive": "never short" if survive[3] == 0 else _num(survive[0]),
                         "recover": _num(recover[0]) if recover[3] else ("not recovered" if survive[3] else "0")})
    return rows


def _comparison_rows(data) -> list[dict]:
    if data.differences.empty:
        return []
    rows = []
    shown = briefed()
    for _, r in data.differences.iterrows():
        if r["metric"] not in shown:
            continue
        pct = r["metric"] == "fill_rate"
        label = next(v.label for v in data.variants if v.id == r["variant"])
        verdict = "differs" if r["distinguishable"] else ("no change" if r["difference"] == 0 else "cannot be told apart")
        rows.append({"label": label, "node": r["node"], "metric": metric_label(r["metric"]),
                     "base": _num(r["base_mean"], pct), "option": _num(r["option_mean"], pct),
                     "diff": _num(r["difference"], pct),
                     "interval": f"{_num(r['difference_low'], pct)} to {_num(r['difference_high'], pct)}",
                     "verdict": verdict})
    return rows


def _describe(spec) -> str:
    doc = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    kind = doc.pop("type")
    name = doc.pop("name", None)
    parts = [f"{k}: {v}" for k, v in doc.items() if v not in ([], {}, None)]
    return f"{name + ' - ' if name else ''}{kind} ({'; '.join(parts)})"


_SOURCE_HINT = re.compile(r"(source|\b(19|20)\d\d\b|USGS|IEA|Reuters|Bloomberg|customs)", re.IGNORECASE)


def _sources(data) -> list[str]:
    """Comments citing sources in the scenario files (and their extends chains)."""
    found: list[str] = []
    for v in data.variants:
        for entry in v.inputs:
            try:
                text = Path(entry["path"]).read_text(encoding="utf-8")
            except OSError:
                continue
            for line in text.splitlines():
                if "#" not in line:
                    continue
                comment = line.split("#", 1)[1].strip()
                if comment and _SOURCE_HINT.search(comment) and "ASSUMPTION" not in comment and comment not in found:
                    found.append(comment)
    return found[:80]


def _context(data, charts: list[Path]) -> dict:
    node, product = focus_of(data)
    colours = variant_colours([v.id for v in data.variants])
    title = data.base.label if data.kind == "run" else f"{data.base.label}: {len(data.variants) - 1} option(s) compared"
    sc = data.base.scenario
    subtitle = (f"chipsim {__version__} | {data.manifest.get('replications', '?')} replications, seed "
                f"{data.manifest.get('seed', '?')} | {sc.start_date:%d %b %Y} + {sc.horizon} days")
    chart_items = []
    pngs = {p.stem: p for p in charts if p.suffix == ".png"}
    for name in ORDER:
        if name in pngs:
            chart_items.append({"name": name, "data": base64.b64encode(pngs[name].read_bytes()).decode("ascii"),
                                "alt": CAPTIONS[name], "caption": CAPTIONS[name]})
    ranking = []
    for _, r in data.ranking.iterrows() if len(data.ranking) else []:
        pct = r["metric"] == "fill_rate"
        ranking.append({"rank": int(r["rank"]), "label": next(v.label for v in data.variants if v.id == r["variant"]),
                        "colour": colours[r["variant"]], "mean": _num(r["mean"], pct),
                        "interval": f"{_num(r['mean_low'], pct)} to {_num(r['mean_high'], pct)}", "n": int(r["replications"])})
    assumptions = []
    for v in data.variants:
        s = v.scenario
        items = [f"Shock: {_describe(x)}" for x in s.shocks] + [f"Policy: {_describe(x)}" for x in s.policies]
        assumptions.append({"label": v.label, "colour": colours[v.id], "description": s.description.strip(),
                            "setup": f"{len(s.nodes)} nodes, {len(s.lanes)} lanes; day 0 = {s.start_date}; {s.horizon} days.",
                            "entries": items or ["No shocks or policies."]})
    return {"title": title, "subtitle": subtitle, "headline": headline(data), "ranking": ranking,
            "rank_label": metric_label(data.rank_by), "focus_node": node, "notes": data.notes,
            "charts": chart_items, "comparison": _comparison_rows(data), "replications": data.manifest.get("replications", ""),
            "kpis": _kpi_rows(data), "assumptions": assumptions, "sources": _sources(data),
            "provenance": f"Run created {data.manifest.get('created', '')}; git {data.manifest.get('git_sha') or 'n/a'}; "
                          f"input files: {', '.join(Path(i['path']).name for v in data.variants for i in v.inputs) or 'n/a'}."}


def write_briefing(data, folder: Path, charts: list[Path]) -> list[Path]:
    """``briefing.html`` (self-contained) and ``briefing.pdf`` in ``folder``."""
    context = _context(data, charts)
    html = folder / "briefing.html"
    html.write_text(_ENV.get_template("briefing.html.j2").render(**context), encoding="utf-8")
    pdf = folder / "briefing.pdf"
    pngs = {p.stem: p for p in charts if p.suffix == ".png"}
    write_pdf(context, [(pngs[name], CAPTIONS[name]) for name in ORDER if name in pngs], pdf)
    return [html, pdf]


def build_report(data: RunData, folder: Path) -> list[Path]:
    """Charts (PNG, SVG, CSV) and the briefing (HTML, PDF) into ``folder``."""
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    made = save_charts(data, charts)
    return made + write_briefing(data, folder, made)
