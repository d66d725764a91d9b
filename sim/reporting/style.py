"""One style and one palette for every chart: a variant keeps its colour everywhere."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = Path(__file__).with_name("chipsim.mplstyle")
# colour-blind-safe, print-safe; the base scenario always takes the first colour
PALETTE = ["#2e4057", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d6cab", "#8d96a3", "#b5651d"]
SHOCK_SHADE = "#8d96a3"


def use_style() -> None:
    plt.style.use(STYLE)


def variant_colours(variant_ids) -> dict[str, str]:
    """Colour of each variant, by its position in the run (base first)."""
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variant_ids)}
