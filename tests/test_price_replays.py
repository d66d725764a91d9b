"""The price replays of docs/validation.md section 4, with the market extensions
(scenarios/history/prices/*-signals.yaml: signal: orders, thrift, hoarding Japanese users
in 2010), against the bands stated on that page before the first runs.

The bands are copied here from docs/validation.md section 4 (and checked against it).
Known misses are kept as strict xfails whose reason names the mechanism they point to: if
the model ever gets one right, the test fails so that docs/validation.md is updated.
"""
from __future__ import annotations

import importlib.util

import pytest

from helpers import ROOT

_spec = importlib.util.spec_from_file_location(
    "price_replays", ROOT / "scenarios" / "history" / "prices" / "price_replays.py")
P = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(P)

# (band low, band high) of each measure, in the order price_replays.measures() gives them
BANDS = [(2.3, 3.6), (2.26, 4.0), (0.0, 1.05), (1.89, 2.40), (0.90, 1.0), (13, 52), (-3, 3), (0.46, 0.66)]

_PEAK = ("no speculative stock-building outside the network: with the order weight fitted on Dy 2025 and "
         "Japan's hoarding, the 2010 peak reaches about 1.8, not 26 (a mean supply ratio near 0.1 would be "
         "needed at elasticity -0.7); one elasticity and weight do not carry across the episodes")
_MONTH = ("the network's tightest months are the 2H-2010 quota and the embargo, so the price peaks in 2010; "
          "the observed peak (August 2011) came under the looser 2011 quota, from buying that no node of the "
          "network holds (speculative stock-building)")
_EXPORTS = ("lasting demand destruction needs a high price: thrift keeps at most 1 - M^e of demand away "
            "(about a third at M = 1.8), while exports at 56% of the quota need two thirds of foreign "
            "demand gone through 2011")
XFAIL = {5: _PEAK, 6: _MONTH, 7: _EXPORTS}


@pytest.fixture(scope="module")
def after():
    return P.measures("-signals")


def test_the_bands_are_those_stated_in_validation_md():
    # the band column of the table stated before the runs, in the order of BANDS
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    stated = ["2.3 to 3.6", "2.26 to 4.0", "at most 1.05", "1.89 to 2.40", "at least 0.90",
              "13 to 52 (a factor 2 either way)", "May to November 2011", "46% to 66%"]
    for words in stated:
        assert f"| {words} |" in text, words


@pytest.mark.parametrize("k", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=XFAIL[k])) if k in XFAIL else k
    for k in range(len(BANDS))])
def test_price_replay_measure_inside_its_band(after, k):
    name, value, _, _ = after[k]
    low, high = BANDS[k]
    assert low <= value <= high, f"{name}: {value:.3f} outside {low} to {high}"


def test_the_fitted_weight_moves_the_may_jump_into_its_band(after):
    # the measure the weight was fitted on (dy-oxide-2025-signals.yaml): the shelves-only
    # replay gives 1.92 (docs/validation.md section 4), the order signal lifts it
    before = P.measures()
    assert before[1][1] < 2.26 <= after[1][1]
