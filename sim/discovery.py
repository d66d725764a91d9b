"""Scenario discovery: PRIM boxes over the inputs of the futures where an option fails.

PRIM (Friedman and Fisher 1999) peels the input space towards the region where the
flagged futures are densest. The algorithm is the EMA Workbench's
(``ema_workbench.analysis.prim``, imported only when a box is asked for: it takes about
three seconds and pulls scikit-learn and statsmodels); this module turns its box into
rows and words. ``coverage`` is the share of all failing futures that fall in the box,
``density`` the share of the futures in the box that fail, ``mass`` the share of all
futures in the box.
"""
from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from .errors import ChipsimUserError


def _prim_module():
    """``ema_workbench.analysis.prim``, quietly (it warns about optional parallel back-ends)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise ChipsimUserError("scenario discovery needs the EMA Workbench: pip install 'chipsim[explore]'") from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def prim_box(x: pd.DataFrame, failing: np.ndarray, threshold: float = 0.8, peel_alpha: float | None = None,
             mass_min: float = 0.05) -> pd.DataFrame:
    """The first PRIM box of the futures flagged ``failing`` over the inputs ``x`` (one
    column per input, numbers): one row per input the box restricts, with its
    ``low`` and ``high`` limits (in the input's unit; an open side is the sample's own
    extreme), and the box's ``coverage``, ``density`` and ``mass`` (fractions) on every
    row. Empty when no future fails, every future fails, or the box restricts nothing.
    ``threshold`` is the density PRIM peels towards, ``mass_min`` the smallest box,
    ``peel_alpha`` the share peeled per step (default 0.05, more with fewer than 100
    futures: 5 / futures up to 0.1, since a 5% quantile of a few dozen points peels none)."""
    flags = np.asarray(failing, dtype=bool)
    if len(x) != len(flags):
        raise ValueError("one flag per future")
    columns = ["input", "low", "high", "restricted_low", "restricted_high", "coverage", "density", "mass"]
    if not flags.any() or flags.all() or x.shape[1] == 0:
        return pd.DataFrame(columns=columns)
    prim = _prim_module()
    alpha = peel_alpha if peel_alpha is not None else min(0.1, max(0.05, 5 / len(flags)))
    with warnings.catch_warnings():  # its pandas calls warn of deprecations that are the workbench's to fix
        warnings.simplefilter("ignore")
        finder = prim.Prim(x.reset_index(drop=True).astype(float), flags, threshold=threshold, peel_alpha=alpha,
                           mass_min=mass_min)
        box = finder.find_box()
    limits, initial = box.box_lim, finder.box_init
    rows = []
    for name in x.columns:
        low, high = float(limits[name].iloc[0]), float(limits[name].iloc[1])
        lo0, hi0 = float(initial[name].iloc[0]), float(initial[name].iloc[1])
        if low > lo0 or high < hi0:
            rows.append({"input": name, "low": low, "high": high, "restricted_low": low > lo0,
                         "restricted_high": high < hi0, "coverage": float(box.coverage), "density": float(box.density),
                         "mass": float(box.mass)})
    return pd.DataFrame(rows, columns=columns)


def box_in_words(box: pd.DataFrame, who: str, fmt: Callable[[str, float], str] | None = None) -> str:
    """A PRIM box as a sentence: "WHO fails when A is below 0.4 and B is above 45: 18%
    of futures (coverage 80%, density 90%)". ``fmt(input, value)`` writes a limit (by
    default 3 significant figures)."""
    if box.empty:
        return f"No input region stands out where {who} fails."
    write = fmt or (lambda _name, value: f"{value:.3g}")
    parts = []
    for _, row in box.iterrows():
        col = str(row["input"])
        name = plain_name(col)
        if row["restricted_low"] and row["restricted_high"]:
            parts.append(f"{name} is between {write(col, row['low'])} and {write(col, row['high'])}")
        elif row["restricted_high"]:
            parts.append(f"{name} is below {write(col, row['high'])}")
        else:
            parts.append(f"{name} is above {write(col, row['low'])}")
    first = box.iloc[0]
    share = _pct(first["mass"])
    return (f"{who} fails when {' and '.join(parts)}: {share} of futures (the box holds {_pct(first['coverage'])} of the "
            f"futures where it fails, and it fails in {_pct(first['density'])} of the futures in the box).")


def plain_name(column: str) -> str:
    """A column's name for a sentence: a date input's without its "(days after ...)"."""
    return re.sub(r" \(days after \d{4}-\d{2}-\d{2}\)$", "", column)


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(float(x)) else f"{100 * float(x):.0f}%"
