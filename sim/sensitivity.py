"""Global sensitivity: Sobol indices with bootstrap confidence intervals (SALib).

``sobol_design`` draws the Saltelli/Sobol' points on the unit cube (SALib
``sample.sobol``), the caller maps them through its inputs' distributions and evaluates
the model, and ``sobol_table`` turns the outputs into first-order (S1) and total (ST)
indices with their 95% bootstrap half-widths (SALib ``analyze.sobol``). The same two
steps serve an exploration (the model is chipsim) and any other function of the inputs
(the tests check an additive function against its closed form). SALib is imported only
here, when asked for.

``morris_design`` and ``morris_table`` are the cheaper screening (Morris 1991, with the
|mu|* of Campolongo et al. 2007; SALib ``sample.morris`` / ``analyze.morris``):
``trajectories * (inputs + 1)`` evaluations instead of Sobol's ``base * (inputs + 2)``
with a base of 64 or more. The unit cube's levels are read as quantiles between 5% and
95% (``QUANTILES``), so an elementary effect is the change of the output when an input
moves across that whole range, linearised: ``mu_star`` is in the output's own unit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import ChipsimUserError

CONFIDENCE = 0.95
QUANTILES = (0.05, 0.95)   # the Morris design's levels span these quantiles of each input
MORRIS_LEVELS = 4


def _salib():
    try:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample
    except ImportError:
        raise ChipsimUserError("sensitivity needs SALib: pip install 'chipsim[explore]'") from None
    return sample, analyze


def _problem(names: Sequence[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sobol_design(names: Sequence[str], base_samples: int, seed: int) -> np.ndarray:
    """Points on the unit cube, ``base_samples * (len(names) + 2)`` rows (first-order and
    total indices; ``base_samples`` a power of two), one column per input."""
    if len(names) < 1:
        raise ChipsimUserError("sensitivity needs at least one input")
    if base_samples < 2 or base_samples & (base_samples - 1):
        raise ChipsimUserError(f"--sobol {base_samples}: give a power of two (e.g. 64), the Sobol' sequence's balance needs it")
    sample, _ = _salib()
    return np.asarray(sample.sample(_problem(names), base_samples, calc_second_order=False, scramble=True, seed=seed))


def sobol_table(names: Sequence[str], outputs: np.ndarray, seed: int) -> pd.DataFrame:
    """First-order and total Sobol indices of ``outputs`` (one per row of the design, in
    order) with 95% bootstrap half-widths: columns input, S1, S1_conf, ST, ST_conf,
    sorted by ST, largest first. Indices are fractions of the output's variance; a
    constant output has none (NaN)."""
    _, analyze = _salib()
    y = np.asarray(outputs, dtype=float)
    if not np.isfinite(y).all():
        raise ChipsimUserError("sensitivity: some outputs are not finite (a metric undefined in some futures, such as "
                               "time to survive when nothing runs short); choose another metric")
    if np.ptp(y) == 0:
        frame = pd.DataFrame({"input": list(names), "S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan})
        return frame
    result = analyze.analyze(_problem(names), y, calc_second_order=False, conf_level=CONFIDENCE, seed=seed)
    frame = pd.DataFrame({"input": list(names), "S1": result["S1"], "S1_conf": result["S1_conf"], "ST": result["ST"],
                          "ST_conf": result["ST_conf"]})
    return frame.sort_values("ST", ascending=False, kind="stable", ignore_index=True)


def _morris():
    try:
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample
    except ImportError:
        raise ChipsimUserError("sensitivity needs SALib: pip install 'chipsim[explore]'") from None
    return sample, analyze


def morris_design(names: Sequence[str], trajectories: int, seed: int) -> np.ndarray:
    """Morris trajectories on the unit cube: ``trajectories * (len(names) + 1)`` rows, one
    column per input, on ``MORRIS_LEVELS`` levels (0, 1/3, 2/3, 1)."""
    if len(names) < 1:
        raise ChipsimUserError("sensitivity needs at least one input")
    if trajectories < 2:
        raise ChipsimUserError(f"--trajectories {trajectories}: give at least 2 (the confidence intervals need several)")
    sample, _ = _morris()
    return np.asarray(sample.sample(_problem(names), trajectories, num_levels=MORRIS_LEVELS, seed=seed))


def quantile_of(unit: np.ndarray) -> np.ndarray:
    """The quantile (in ``QUANTILES``) a Morris design's unit-cube value stands for."""
    low, high = QUANTILES
    return low + np.asarray(unit, dtype=float) * (high - low)


def morris_table(names: Sequence[str], unit: np.ndarray, outputs: np.ndarray, seed: int) -> pd.DataFrame:
    """Morris indices of ``outputs`` (one per row of the design ``unit``, in order):
    columns input, mu_star (mean absolute elementary effect, in the output's unit per
    move of the input from its 5% to its 95% quantile), mu_star_conf (95% bootstrap
    half-width), mu (signed mean effect) and sigma (their spread: interactions or a
    non-linear effect), sorted by mu_star, largest first."""
    _, analyze = _morris()
    y = np.asarray(outputs, dtype=float)
    if not np.isfinite(y).all():
        raise ChipsimUserError("sensitivity: some outputs are not finite; choose another headline")
    result = analyze.analyze(_problem(names), np.asarray(unit, dtype=float), y, num_resamples=1000,
                             conf_level=CONFIDENCE, num_levels=MORRIS_LEVELS, seed=seed)
    frame = pd.DataFrame({"input": list(names), "mu_star": np.asarray(result["mu_star"], dtype=float),
                          "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
                          "mu": np.asarray(result["mu"], dtype=float), "sigma": np.asarray(result["sigma"], dtype=float)})
    return frame.sort_values("mu_star", ascending=False, kind="stable", ignore_index=True)
