"""CRPS of an ensemble (sim/scoring.py) against hand-worked cases and closed forms."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from sim.scoring import crps_ensemble, crps_normal


def test_two_member_ensemble_by_hand():
    # members {0, 2}: the ensemble CDF is 0.5 on [0, 2). Against y = 1 the integral of
    # (F - 1{x >= y})^2 is 0.25 x 1 + 0.25 x 1 = 0.5; against y = 3 it is 0.25 x 2 + 1 x 1 = 1.5
    assert crps_ensemble([0.0, 2.0], 1.0) == pytest.approx(0.5)
    assert crps_ensemble([0.0, 2.0], 3.0) == pytest.approx(1.5)


def test_one_member_is_the_absolute_error():
    assert crps_ensemble([7.0], 4.5) == pytest.approx(2.5)
    assert crps_ensemble([3.0, 3.0, 3.0], 3.0) == 0.0


def test_matches_the_integral_definition():
    # CRPS = integral of (F_ens(x) - 1{x >= y})^2 dx, computed on a fine grid
    rng = np.random.default_rng(7)
    members, y = rng.normal(10, 3, size=9), 12.3
    grid = np.linspace(-10, 35, 450_001)
    cdf = (members[None, :] <= grid[:, None]).mean(axis=1)
    integrand = (cdf - (grid >= y)) ** 2
    integral = float(np.sum(integrand[:-1]) * (grid[1] - grid[0]))
    assert crps_ensemble(members, y) == pytest.approx(integral, abs=1e-3)


def test_normal_closed_form_at_the_mean_is_textbook():
    # CRPS of N(0, 1) at its mean: (sqrt(2) - 1) / sqrt(pi)
    assert crps_normal(0.0, 1.0, 0.0) == pytest.approx((math.sqrt(2) - 1) / math.sqrt(math.pi))
    # scales with sigma
    assert crps_normal(5.0, 4.0, 5.0) == pytest.approx(4 * (math.sqrt(2) - 1) / math.sqrt(math.pi))


@pytest.mark.parametrize("y", [0.0, 0.7, -1.5, 3.0])
def test_large_normal_ensemble_approaches_the_closed_form(y):
    n, mu, sigma = 4000, 0.0, 1.0
    members = [mu + sigma * NormalDist().inv_cdf((i - 0.5) / n) for i in range(1, n + 1)]
    assert crps_ensemble(members, y) == pytest.approx(crps_normal(mu, sigma, y), rel=2e-3, abs=2e-4)


def test_sharper_right_ensemble_scores_better():
    wide = [80.0, 90.0, 100.0, 110.0, 120.0]
    sharp = [98.0, 99.0, 100.0, 101.0, 102.0]
    assert crps_ensemble(sharp, 100.0) < crps_ensemble(wide, 100.0)


def test_rejects_empty_and_non_finite():
    with pytest.raises(ValueError):
        crps_ensemble([], 1.0)
    with pytest.raises(ValueError):
        crps_ensemble([1.0, float("nan")], 1.0)
    with pytest.raises(ValueError):
        crps_normal(0.0, 0.0, 1.0)
