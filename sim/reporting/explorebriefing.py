"""The exploration briefing: a self-contained HTML page (charts embedded) and a PDF.

The robustness table, the regret chart, where the best option fails (its PRIM box in
words, with the chart of its failing futures), what drives the outcome (Sobol indices)
and the signposts to watch. Every user string is escaped by the template engine (HTML)
or by ``pdf.clean`` (reportlab markup); labels lose control characters first.
"""
from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import jinja2
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

from .._version import __version__
from ..futures import value_text as futures_value_text
from ..labels import printable
from ..metrics import METRICS
from ..safefs import write_bytes, write_text
from ..sanitize import for_xml
from .explorecharts import focus_words, input_words, threshold_words
from .pdf import BODY, H1, H2, SMALL, _chart, clean, table

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                          undefined=jinja2.StrictUndefined,
                          finalize=lambda v: printable(v) if isinstance(v, str) else v)
CAPTIONS = {
    "regret": "Regret of each option over the futures: how far its outcome falls behind the best option of the same "
              "future (box 25-75%, whiskers 5-95%, dot the mean, diamond the 90th percentile).",
    "failing": "The best-ranked option's futures over the two inputs its PRIM box restricts first: red where it misses "
               "the threshold; the box outlined.",
    "sensitivity": "Sobol indices of the best-ranked option's outcome: first order (the input alone) and total (with its "
                   "interactions), with 95% bootstrap intervals.",
}


def _num(value: float, metric: str, gap: bool = False) -> str:
    """A value of ``metric`` (a fraction as a percentage; ``gap``: a difference of two
    fractions, in percentage points)."""
    if not math.isfinite(value):
        return "n/a"
    if METRICS[metric].unit == "fraction":
        return f"{100 * value:.2f} pts" if gap else f"{100 * value:.1f}%"
    return f"{value:,.4g}"


def value_text(exp: Any, column: str, value: float) -> str:
    """An input's or early metric's value as a reader reads it (``sim.futures.value_text``)."""
    return futures_value_text(exp.inputs, column, value)


def _rob_rows(exp: Any) -> list[list[str]]:
    rows = []
    for _, r in exp.robustness.iterrows():
        row = [str(r["rank"]), exp.labels.get(r["option"], r["option"]), _num(r["mean"], exp.metric),
               f"{_num(r['p05'], exp.metric)} to {_num(r['p95'], exp.metric)}", _num(r["regret_mean"], exp.metric, True),
               _num(r["regret_p90"], exp.metric, True), f"{100 * r['best_share']:.0f}%"]
        if exp.threshold is not None:
            row.append(f"{100 * r['satisficing']:.0f}%")
        rows.append(row)
    return rows



def _bound(value: float, date: bool) -> str:
    """A distribution's parameter as a reader reads it: a date input's bounds (proleptic
    day numbers inside) as ISO dates."""
    import datetime as _dt

    if date and float(value).is_integer() and 1 <= value <= _dt.date.max.toordinal():
        return _dt.date.fromordinal(int(value)).isoformat()
    return f"{value:g}"

def context(exp: Any, charts: list[Path]) -> dict:
    """Everything the HTML template and the PDF show, as plain strings and lists."""
    from ..robustness import signpost_words

    m = METRICS[exp.metric]
    header = ["rank", "option", f"mean {m.label}", "5-95% over futures", "mean regret", "90th pct regret", "best in"]
    if exp.threshold is not None:
        header.append("meets the threshold")
    dates = {c: d for c, d in zip([c for c in exp.table.columns if c.startswith("fill_rate_day_")],
                                  exp.manifest.get("checkpoints", []), strict=False)}
    posts = signpost_words(exp.signposts, exp.labels, dates, lambda c, v: value_text(exp, c, v)) if len(exp.signposts) \
        else ["No signpost: the best-ranked option never misses the threshold, or always does, in these futures."
              if exp.threshold is not None else "No signpost without a threshold (--threshold)."]
    sens = [[str(r["input"]), f"{r['S1']:.2f} ± {r['S1_conf']:.2f}", f"{r['ST']:.2f} ± {r['ST_conf']:.2f}"]
            for _, r in exp.sensitivity.iterrows()] if exp.sensitivity is not None else []
    pngs = {p.stem: p for p in charts if p.suffix == ".png"}
    inputs = [(f"{words} ({i.path})" if (words := input_words(exp, i.path)) != i.path else i.path) + f": {i.dist.dist} ("
              + ", ".join(f"{k} {_bound(v, i.date)}" for k, v in i.dist.model_dump().items() if k != "dist") + ")"
              for i in exp.inputs]
    futures = int(exp.table["future"].nunique())
    return {
        "title": f"{exp.labels[exp.options[0]]}: {len(exp.options)} options over {futures} futures",
        "subtitle": f"chipsim {__version__} | {futures} futures (Latin hypercube), {exp.replications} replication(s) each, "
                    f"seed {exp.seed} | focus {exp.focus[0]} ({exp.focus[1]})"
                    + (f" | threshold {exp.threshold.text}" if exp.threshold is not None else ""),
        "question": f"Which option holds up at {focus_words(exp)} when these inputs are uncertain, where does it fail, and "
                    "what should be watched?",
        "answer": [f"'{exp.labels[exp.best]}' ranks first: " + _answer(exp), exp.box_words, *posts[:1]],
        "header": header, "rows": _rob_rows(exp), "box": exp.box_words, "signposts": posts,
        "sensitivity": sens, "inputs": inputs, "sens_note": _sens_note(exp.sensitivity),
        "charts": [{"name": n, "path": pngs[n], "data": base64.b64encode(pngs[n].read_bytes()).decode("ascii"),
                    "caption": CAPTIONS[n]} for n in ("regret", "failing", "sensitivity") if n in pngs],
        "method": "Every option runs in every future on common random numbers (the same seed and replications), so "
                  "within a future options differ only by their policies. Regret is taken future by future against "
                  "the best option there. PRIM: EMA Workbench (peeling alpha 0.05, up to 0.1 below 100 futures; density "
                  "threshold 0.8). Sobol: SALib "
                  "(Saltelli/Sobol' design, 95% bootstrap intervals). Signposts: the single cut of an input or early "
                  "metric that best separates the failing futures (largest true-positive minus false-positive rate).",
    }


def _sens_note(sens: Any) -> str:
    """A warning when the Sobol intervals are too wide to rank the inputs."""
    if sens is None or not len(sens):
        return ""
    widest = float(sens[["S1_conf", "ST_conf"]].max().max())
    if not math.isfinite(widest) or widest <= 0.2:
        return ""
    return (f"The 95% intervals are wide (up to ±{widest:.2f}, and indices beyond 0-1 are sampling noise): too few Sobol "
            "samples to rank these inputs; run again with a larger --sobol.")


def _answer(exp: Any) -> str:
    r = exp.robustness.iloc[0]
    text = (f"mean {METRICS[exp.metric].label} {_num(r['mean'], exp.metric)}, "
            f"mean regret {_num(r['regret_mean'], exp.metric, True)}")
    if exp.threshold is not None:
        text += f", meets the threshold ({threshold_words(exp)}) in {100 * r['satisficing']:.0f}% of futures"
    return text + "."


def write_explore_briefing(exp: Any, folder: Path, charts: list[Path], pdf: bool = True) -> list[Path]:
    """``briefing.html`` (self-contained) and, unless ``pdf`` is false, ``briefing.pdf``."""
    ctx = context(exp, charts)
    html = folder / "briefing.html"
    write_text(html, for_xml(_ENV.get_template("explore.html.j2").render(**ctx)))
    if not pdf:
        return [html]
    printed = folder / "briefing.pdf"
    write_explore_pdf(ctx, printed)
    return [html, printed]


def write_explore_pdf(ctx: dict, path: Path) -> None:
    """The exploration briefing as an A4 PDF."""
    import io

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=clean(ctx["title"], 200), author="chipsim",
                            creator=f"chipsim {__version__}")
    p = lambda text, style=BODY: Paragraph(clean(text), style)
    story: list = [p(ctx["title"], H1), p(ctx["subtitle"], SMALL), Spacer(1, 4), p(ctx["question"])]
    story += [p("The answer", H2)] + [p("• " + a) for a in ctx["answer"]]
    widths = [0.06, 0.28, 0.1, 0.14, 0.1, 0.1, 0.08, 0.14][: len(ctx["header"])]
    story += [p("Robustness", H2), table(ctx["header"], ctx["rows"], [w / sum(widths) for w in widths])]
    story += [p("Where the best option fails", H2), p(ctx["box"])]
    story += [p("Signposts", H2)] + [p("• " + s) for s in ctx["signposts"]]
    if ctx["sensitivity"]:
        story += [p("What drives the outcome (Sobol indices)", H2),
                  table(["input", "first order S1 ± 95%", "total ST ± 95%"], ctx["sensitivity"], [0.5, 0.25, 0.25])]
        if ctx["sens_note"]:
            story.append(p(ctx["sens_note"], SMALL))
    story += [p("Uncertain inputs", H2)] + [p("• " + i, SMALL) for i in ctx["inputs"]]
    story += [Spacer(1, 4), p("Method. " + ctx["method"], SMALL)]
    if ctx["charts"]:
        story += [PageBreak(), p("Charts", H1)]
        for item in ctx["charts"]:
            story += _chart(item)
    doc.build(story)
    write_bytes(path, buffer.getvalue())
