"""Shock windows on the time charts: shaded spans, labels on rows where they cannot
overlap, and a legend entry that counts what is left out. With a focus demand node only
the shocks on its supply chain are drawn (``relevance``), as the briefing names them."""
from __future__ import annotations

import datetime as _dt

import matplotlib.dates as mdates

from ..effects import active_intervals
from ..labels import printable
from ..quantities import day_number
from ..sanitize import shorten
from .relevance import supply_chain, touches
from .style import SHOCK_SHADE
from .words import spec_label

LEGEND = "shock window"  # the legend entry of the shading ("shock windows" for several), found again by legend_shade


def shock_spans(scenario, index: int) -> list[tuple[_dt.date, _dt.date, str]]:
    """Active windows of shock ``index`` (suspensions removed), clipped to the horizon, as
    dates, each with the shock's label."""
    shock = scenario.shocks[index]
    start = scenario.start_date
    end_of_run = start + _dt.timedelta(days=scenario.horizon)
    windows = [(day_number(w.start, start), day_number(w.end, start)) for w in shock.suspended]
    first = day_number(shock.start, start)
    last = None if shock.end is None else day_number(shock.end, start)
    label = shorten(printable(spec_label(shock, index)), 40)
    spans = []
    for a, b in active_intervals(first, last, windows):
        a_date = start + _dt.timedelta(days=max(a, 0))
        b_date = end_of_run if b is None else min(end_of_run, start + _dt.timedelta(days=b))
        if a_date < b_date:
            spans.append((a_date, b_date, label))
    return spans


def shock_rows(spans: list[tuple[float, float]], widths: list[float], rows: int = 4) -> list[int | None]:
    """The label row of each shock window (``spans``: start and end as fractions of the
    axis, sorted by start; ``widths``: each label's width, same scale): the first row whose
    last label ends before this one starts, else None (shaded, not labelled). Labels on one
    row never overlap, so a baseline with thirty events does not print them on top of one
    another."""
    ends = [-1.0] * rows
    out: list[int | None] = []
    for (a, _b), w in zip(spans, widths, strict=True):
        row = next((r for r in range(rows) if ends[r] < a), None)
        if row is not None:
            ends[row] = a + w
        out.append(row)
    return out


def shade_shocks(ax, data, node: str | None = None) -> None:
    """Shade the shock windows and label as many as fit without overlapping. With a
    ``node``, only the shocks that touch its supply chain (``relevance``), as the
    briefing's "What drives the result" names them; the count of the others is noted."""
    seen: dict[tuple, None] = {}
    others = 0
    for v in data.variants:
        near = supply_chain(v.scenario, node) if node and node in v.scenario.nodes else None
        for i, shock in enumerate(v.scenario.shocks):
            if near is not None and not touches(shock, v.scenario, near):
                others += v is data.base
                continue
            for span in shock_spans(v.scenario, i):
                seen.setdefault(span, None)
    spans = sorted(seen, key=lambda s: s[0])
    alpha = 0.12 if len(spans) <= 6 else max(0.03, 0.72 / len(spans))  # many windows: keep the lines visible
    xmin, xmax = ax.get_xlim()
    scale = max(xmax - xmin, 1e-9)
    axes_inches = ax.figure.get_figwidth() * 0.9
    fractions = [((mdates.date2num(a) - xmin) / scale, (mdates.date2num(b) - xmin) / scale) for a, b, _ in spans]
    widths = [(len(label) * 7.5 * 0.6 / 72 + 0.12) / axes_inches for _, _, label in spans]
    rows = shock_rows(fractions, widths)
    unlabelled = sum(row is None for row in rows)
    notes = [f"{unlabelled} not labelled"] if unlabelled else []
    if others:
        notes.append(f"{others} elsewhere in the network not shown")
    # the legend names the shading, with what it leaves out (kept off the plot and the title)
    legend = LEGEND + ("s" if len(spans) > 1 else "") + (f" ({'; '.join(notes)})" if notes else "")
    for k, ((a, b, label), row) in enumerate(zip(spans, rows, strict=True)):
        ax.axvspan(a, b, color=SHOCK_SHADE, alpha=alpha, lw=0, zorder=0, label=legend if k == 0 else None)
        if row is not None:
            ax.annotate(label, xy=(a, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -11 - 10 * row),
                        textcoords="offset points", fontsize=7.5, color="#2e4057")


def legend_shade(legend) -> None:
    """Show the shock-window swatch of ``legend`` at a readable strength: the windows
    themselves may be faint when there are many of them."""
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
        if text.get_text().startswith(LEGEND) and handle is not None:
            handle.set_alpha(0.35)
