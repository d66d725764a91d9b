"""Wafer fab physics: gross dies per wafer, yield models and defect-density learning.

Conventions (scenario-format.md, section 4): diameters and die areas in mm and mm^2;
defect density D0 in defects per cm^2, so yields use the die area in cm^2 (mm^2 / 100).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where used, so loading a scenario stays fast
    import numpy as np


def dies_per_wafer(diameter_mm: float, die_area_mm2: float, edge_exclusion_mm: float = 0.0) -> int:
    """Gross dies per wafer: floor(pi (d/2)^2 / A - pi d / sqrt(2 A)).

    ``d`` is the usable diameter, the wafer diameter less twice the edge exclusion.
    Never negative.
    """
    d = diameter_mm - 2.0 * edge_exclusion_mm
    if d <= 0 or die_area_mm2 <= 0:
        return 0
    gross = math.pi * (d / 2.0) ** 2 / die_area_mm2 - math.pi * d / math.sqrt(2.0 * die_area_mm2)
    return max(0, math.floor(gross))


def poisson_yield(area_cm2, d0_per_cm2):
    """Share of good dies under the Poisson model: exp(-A D0)."""
    import numpy as np

    return np.exp(-np.asarray(area_cm2) * np.asarray(d0_per_cm2))


def murphy_yield(area_cm2, d0_per_cm2):
    """Share of good dies under Murphy's model: ((1 - exp(-A D0)) / (A D0))^2 (1 at A D0 = 0)."""
    import numpy as np

    ad = np.asarray(area_cm2, dtype=float) * np.asarray(d0_per_cm2, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(ad > 1e-12, ((1.0 - np.exp(-ad)) / np.where(ad > 1e-12, ad, 1.0)) ** 2, 1.0)
    return y


def d0_learning_curve(start: float, end: float, halflife_days: float, days) -> np.ndarray:
    """D0 by day: moves from ``start`` toward ``end``, halving the gap every ``halflife_days``."""
    import numpy as np

    t = np.asarray(days, dtype=float)
    if halflife_days <= 0:
        return np.full(t.shape, float(end))
    return end + (start - end) * np.power(0.5, t / halflife_days)
