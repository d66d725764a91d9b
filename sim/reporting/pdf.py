"""The print briefing: a PDF of the headline, the charts and the key tables."""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.image
from matplotlib.backends.backend_pdf import PdfPages

from .._version import __version__
from .style import chart_style, new_figure


def _text_page(pdf: PdfPages, title: str, paragraphs: list[str]) -> None:
    """Paragraphs on A4 portrait pages, a new page whenever the next one would not fit."""
    fig = new_figure(figsize=(8.27, 11.69))
    y = 0.94
    fig.text(0.07, y, textwrap.fill(title, 70), fontsize=15, fontweight="bold", color="#2e4057", va="top")
    y -= 0.05 + 0.025 * title.count("\n")
    for para in paragraphs:
        wrapped = textwrap.fill(para, 95)
        lines = wrapped.count("\n") + 1
        if y - 0.018 * lines < 0.05:
            pdf.savefig(fig)
            fig = new_figure(figsize=(8.27, 11.69))
            y = 0.94
        fig.text(0.07, y, wrapped, fontsize=9.5, va="top", family="DejaVu Sans")
        y -= 0.018 * lines + 0.012
    pdf.savefig(fig)


@chart_style()
def write_pdf(context: dict, charts: list[tuple[Path, str]], path: Path) -> None:
    """A print version: headline page, one page per chart (a PNG and its caption, in
    order), then tables and assumptions; pages are A4 (8.27 x 11.69 inches)."""
    with PdfPages(path) as pdf:
        paras = [f"- {line}" for line in context["headline"]]
        if context["ranking"]:
            paras.append(f"Options ranked by {context['rank_label']} at {context['focus_node']}:")
            paras += [f"  {r['rank']}. {r['label']}: {r['mean']} (90% interval {r['interval']})" for r in context["ranking"]]
            paras += context["notes"]
        paras.append(context["subtitle"])
        _text_page(pdf, context["title"], paras)
        for png, caption in charts:
            fig = new_figure(figsize=(11.69, 8.27))
            ax = fig.add_axes((0.03, 0.08, 0.94, 0.88))
            ax.imshow(matplotlib.image.imread(png))
            ax.axis("off")
            fig.text(0.03, 0.04, caption, fontsize=9, color="#52606d")
            pdf.savefig(fig)
        rows = [f"{r['label']} | {r['node']} | {r['product']}: demand {r['demand']}, shortfall {r['shortfall']}, "
                f"fill rate {r['fill']}, survives {r['survive']}, recovers {r['recover']}" for r in context["kpis"]]
        rows += [f"{r['label']} | {r['node']} | {r['metric']}: base {r['base']}, option {r['option']}, "
                 f"difference {r['diff']} ({r['interval']}), {r['verdict']}" for r in context["comparison"]]
        _text_page(pdf, "Key figures", rows)
        paras = []
        for v in context["assumptions"]:
            paras += [v["label"] + (": " + v["description"] if v["description"] else ""), v["setup"]]
            paras += [f"- {i}" for i in v["entries"]]
        paras += ["Sources cited in the scenario files:"] + [f"- {s}" for s in context["sources"]] + [context["provenance"]]
        _text_page(pdf, "Assumptions and sources", paras)
        meta = pdf.infodict()
        meta["Title"] = context["title"]
        meta["Creator"] = f"chipsim {__version__}"
