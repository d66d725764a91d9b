"""The print briefing: a typeset A4 document (reportlab platypus) of the briefing's
context: the one-page summary, the charts (the PNGs already drawn), then the appendix.

Every string is escaped before it becomes reportlab paragraph markup, and long lists
are cut with a count of what was left out, so a four-option comparison stays within
about a dozen pages. Long texts are cut with an ellipsis (``TEXT_LIMIT`` characters, a
table cell ``CELL_LIMIT``) so that a row always fits a page; briefing.html and the CSV
tables keep them whole.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Image,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .._version import __version__
from ..labels import printable
from ..safefs import write_bytes
from ..sanitize import shorten

_SHEET = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_SHEET["BodyText"], fontName="Helvetica", fontSize=8.8, leading=10.8, spaceBefore=0,
                      spaceAfter=2.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.2, leading=8.6, spaceAfter=1.5, textColor=colors.HexColor("#52606d"))
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9)
H1 = ParagraphStyle("h1", parent=_SHEET["Heading1"], fontSize=15, leading=18, textColor=colors.HexColor("#2e4057"))
H2 = ParagraphStyle("h2", parent=_SHEET["Heading2"], fontSize=11.5, leading=14, textColor=colors.HexColor("#2e4057"),
                    spaceBefore=5, spaceAfter=2)
BOX = ParagraphStyle("box", parent=BODY, backColor=colors.HexColor("#f5f7fa"), borderColor=colors.HexColor("#d1495b"),
                     borderWidth=0, borderPadding=4, leftIndent=4)
WIDTH = A4[0] - 36 * mm
TEXT_LIMIT = 3000  # characters of one paragraph
CELL_LIMIT = 300   # characters of one table cell: 30 lines in the narrowest column, well within a page
_GRID = TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 7.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e7eb")),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cbd2d9")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)])


def clean(text: Any, limit: int = TEXT_LIMIT) -> str:
    """Text safe for reportlab markup: control characters dropped, cut to ``limit``
    characters with an ellipsis, ``& < >`` escaped."""
    return escape(shorten(printable(str(text)), limit))


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text (escaped: user strings are never markup)."""
    return Paragraph(clean(text), style)


def _bullets(items: list[str], style: ParagraphStyle = BODY, limit: int | None = None) -> list:
    shown = items if limit is None else items[:limit]
    out = [Paragraph("&bull; " + clean(i), style) for i in shown]
    if limit is not None and len(items) > limit:
        out.append(_p(f"... and {len(items) - limit} more (see the input files).", SMALL))
    return out


def table(header: list[str], rows: list[list[str]], widths: list[float] | None = None) -> Table:
    """A real table: header row shaded, cells wrapped, repeated header across pages."""
    cells = [[Paragraph(f"<b>{clean(h, CELL_LIMIT)}</b>", CELL) for h in header]]
    cells += [[Paragraph(clean(c, CELL_LIMIT), CELL) for c in row] for row in rows]
    t = Table(cells, colWidths=[w * WIDTH for w in widths] if widths else None, repeatRows=1, hAlign="LEFT")
    t.setStyle(_GRID)
    return t


def _summary(ctx: dict) -> list:
    story: list = [_p(ctx["title"], H1), _p(ctx["subtitle"], SMALL), Spacer(1, 4), _p(ctx["question"], BODY)]
    story += [_p("The answer", H2)] + _bullets(ctx["headline"])
    if ctx["kpis"]:
        story.append(_p(f"{ctx['focus']}: key figures ({ctx['focus_product']}, {ctx['focus_unit']}; means over runs)", H2))
        story.append(table(["scenario", "demand", "shortfall", "fill rate", "lasts (days after the first shock starts)",
                            f"recovers ({ctx['recover_basis']})"],
                           [[r["label"], r["demand"], r["shortfall"], r["fill"], r["survive"], r["recover"]]
                            for r in ctx["kpis"]], [0.3, 0.1, 0.1, 0.09, 0.19, 0.22]))
    story += [_p("What drives the result", H2)] + _bullets(ctx["drivers"], limit=12)  # the options' levers come last
    if ctx.get("movers"):
        story += [_p(ctx["movers_title"], H2)] + _bullets(ctx["movers"], limit=8)
        story.append(_p(ctx["movers_note"], SMALL))
    story += [_p("What this model cannot say", H2)] + _bullets(ctx["limits"], SMALL)
    story += [Spacer(1, 4), _p("Method. " + ctx["method"], SMALL)]
    story += [_p(n, SMALL) for n in ctx["other_notes"][:4]]
    return story


def _chart(item: dict) -> list:
    path = Path(item["path"])
    w, h = ImageReader(str(path)).getSize()
    width = WIDTH
    height = width * h / w
    if height > 200 * mm:
        height = 200 * mm
        width = height * w / h
    return [KeepTogether([Image(str(path), width=width, height=height), _p(item["caption"], SMALL), Spacer(1, 8)])]


def _appendix(ctx: dict) -> list:
    story: list = [_p("Appendix", H1)]
    if ctx["headlines"]:
        story += [_p("Headlines", H2), table(["headline", "mean", "unit", "5-95% of runs", "runs"],
                                             [[r["label"], r["mean"], r["unit"], r["interval"], str(r["n"])]
                                              for r in ctx["headlines"]], [0.4, 0.14, 0.14, 0.22, 0.1])]
    if ctx["changes"] or ctx["collapsed"]:
        story.append(_p("Changes elsewhere in the network", H2))
        if ctx["changes"]:
            story.append(table(["option", "demand node", "measure", "base", "option", "change", "90% interval"],
                               [[r["label"], r["node"], r["metric"] + (f" ({r['unit']})" if r["unit"] else ""), r["base"],
                                 r["option"], r["diff"], r["interval"]] for r in ctx["changes"][:40]],
                               [0.2, 0.14, 0.16, 0.11, 0.11, 0.1, 0.18]))
        story += _bullets(ctx["collapsed"], SMALL)
    story.append(_p("Shocks and policies", H2))
    for g in ctx["assumption_groups"]:
        story.append(_p(g["label"] + (": " + g["description"] if g["description"] else ""), BODY))
        story += _bullets(g["entries"], SMALL, limit=25)
    story += [_p("Assumptions written in the input files", H2)]
    story += _bullets(ctx["assumptions"], SMALL, limit=40) or [_p("None collected.", SMALL)]
    story += [_p("Sourced figures", H2)]
    story += _bullets(ctx["sources"], SMALL, limit=40) or [_p("None collected.", SMALL)]
    story += [Spacer(1, 6), _p(ctx["provenance"], SMALL)]
    return story


def write_pdf(ctx: dict, path: Path) -> None:
    """The briefing as an A4 PDF with headings, tables, the charts and page numbers."""
    title = str(ctx["title"])

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor("#616e7c"))
        canvas.drawString(18 * mm, 10 * mm, (title[:90] + "...") if len(title) > 90 else title)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()  # built in memory, then renamed into place whole
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=title, author="chipsim", creator=f"chipsim {__version__}")
    # the summary is one page, as promised: a long one is scaled down a little, never split
    frame_w, frame_h = A4[0] - 36 * mm - 12, A4[1] - 33 * mm - 12   # the template's frame, less its 6 pt padding
    story = [KeepInFrame(frame_w, frame_h, _summary(ctx), mode="shrink"), PageBreak()]
    if ctx["charts"]:
        story.append(_p("Charts", H1))
        for item in ctx["charts"]:
            story += _chart(item)
        story.append(PageBreak())
    story += _appendix(ctx)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    write_bytes(path, buffer.getvalue())
