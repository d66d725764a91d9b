"""Yield physics against hand-computed values."""
from __future__ import annotations

import math

import pytest

from sim.fab import d0_learning_curve, dies_per_wafer, murphy_yield, poisson_yield


def test_dies_per_wafer_100mm2_on_300mm():
    # pi * 150^2 / 100 = 706.858; pi * 300 / sqrt(200) = 66.643; floor(640.215) = 640
    assert dies_per_wafer(300, 100) == 640


def test_dies_per_wafer_814mm2_on_300mm():
    # pi * 150^2 / 814 = 86.838; pi * 300 / sqrt(1628) = 23.358; floor(63.48) = 63 (an H100-sized die)
    assert dies_per_wafer(300, 814) == 63


def test_edge_exclusion_shrinks_the_usable_wafer():
    # 3 mm exclusion: d = 294; pi * 147^2 / 100 = 678.867; pi * 294 / sqrt(200) = 65.310 -> 613
    assert dies_per_wafer(300, 100, edge_exclusion_mm=3) == 613
    assert dies_per_wafer(300, 1e6) == 0


def test_murphy_and_poisson_at_known_a_d0():
    # A x D0 = 1: Poisson e^-1 = 0.367879; Murphy (1 - e^-1)^2 = 0.632121^2 = 0.399576
    assert float(poisson_yield(2.0, 0.5)) == pytest.approx(math.exp(-1))
    assert float(murphy_yield(2.0, 0.5)) == pytest.approx((1 - math.exp(-1)) ** 2)
    # A x D0 = 0.5: Poisson 0.606531; Murphy ((1 - e^-0.5)/0.5)^2 = (0.786939)^2 = 0.619273
    assert float(poisson_yield(1.0, 0.5)) == pytest.approx(0.606531, abs=1e-6)
    assert float(murphy_yield(1.0, 0.5)) == pytest.approx(0.619273, abs=1e-6)
    assert float(murphy_yield(1.0, 0.0)) == 1.0


def test_d0_curve_after_one_and_two_halflives():
    # start 0.9, end 0.25: the gap 0.65 halves each year -> 0.575 after one, 0.4125 after two
    d0 = d0_learning_curve(0.9, 0.25, 365, [0, 365, 730])
    assert d0 == pytest.approx([0.9, 0.575, 0.4125])
