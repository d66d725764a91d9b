"""One style and one palette for every chart: a variant keeps its colour everywhere.

The style is applied as a context around drawing and saving (``chart_style``), never by
switching the backend or rcParams globally, so importing chipsim leaves a notebook's own
matplotlib settings and inline plots alone. Charts are plain ``Figure`` objects (no
pyplot), saved with whichever renderer their file format needs.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib.style
from matplotlib.figure import Figure

STYLE = Path(__file__).with_name("chipsim.mplstyle")
# colour-blind-safe, print-safe; the base scenario always takes the first colour
PALETTE = ["#2e4057", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d6cab", "#8d96a3", "#b5651d"]
SHOCK_SHADE = "#8d96a3"


@contextmanager
def chart_style() -> Iterator[None]:
    """The chipsim chart style for the duration of a ``with`` block (or a decorated
    function); rcParams are restored on leaving. Figures read some settings (sizes,
    fonts) when made and others (``savefig.dpi``) when saved, so do both inside it."""
    with matplotlib.style.context(STYLE):
        yield


def new_figure(**kwargs: Any) -> Figure:
    """A figure outside pyplot (nothing to close, no backend involved); sizes in inches."""
    return Figure(**kwargs)


def variant_colours(variant_ids: Iterable[str]) -> dict[str, str]:
    """Colour of each variant, by its position in the run (base first)."""
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variant_ids)}


def chart_formats(svg: bool = False) -> tuple[str, ...]:
    """The image formats of a run's charts: PNG always (the briefing embeds it), SVG on
    request (``--svg``; drawing it again costs about as much as the PNG)."""
    return ("png", "svg") if svg else ("png",)
