"""Proper scores of a Monte Carlo ensemble against an observed figure.

Pure: numbers in, numbers out; no simulation, no tables. Used by the historical replays
(scenarios/history/make_validation_charts.py, docs/validation.md) to score the spread of
the replications beside the error of their mean.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def crps_ensemble(members: Iterable[float], observed: float) -> float:
    """Continuous ranked probability score of an ensemble against one observation.

    The empirical-ensemble formula E|X - y| - 0.5 E|X - X'|, with X and X' drawn
    independently from the members (each with weight 1/n, a member paired with itself
    included). The score is in the unit of the observation (t, chips, days...): 0 for an
    ensemble that is every time exactly right, the absolute error for a one-member
    ensemble, and lower is better. Raises ValueError for an empty ensemble or a non-finite
    value.
    """
    x = np.asarray(list(members), dtype=float)
    if x.size == 0:
        raise ValueError("an ensemble needs at least one member")
    if not (np.all(np.isfinite(x)) and math.isfinite(observed)):
        raise ValueError("ensemble members and the observation must be finite")
    spread_to_obs = float(np.mean(np.abs(x - observed)))
    # E|X - X'| from the sorted members in O(n log n): sum_i (2i - n - 1) x_(i) * 2 / n^2
    s = np.sort(x)
    n = s.size
    ranks = np.arange(1, n + 1)
    mean_pair_gap = float(2.0 * np.sum((2 * ranks - n - 1) * s) / (n * n))
    return spread_to_obs - 0.5 * mean_pair_gap


def crps_normal(mu: float, sigma: float, observed: float) -> float:
    """Closed-form CRPS of a normal forecast N(mu, sigma) against one observation.

    sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)), z = (observed - mu) / sigma
    (Gneiting and Raftery 2007), in the unit of the observation. sigma must be positive.
    """
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    z = (observed - mu) / sigma
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    return sigma * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi))
