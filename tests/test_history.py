"""The historical replays stay inside the error bands stated in docs/validation.md.

The bands come from the observed data (see docs/validation.md for each derivation), not
from model output. The replays and the error tables are computed by
scenarios/history/make_validation_charts.py, the same code that draws the charts.
Known misses are kept as strict xfails: if the model ever gets them right, the test
fails so that docs/validation.md is updated.
"""
from __future__ import annotations

import importlib.util

import pytest

from helpers import ROOT

_spec = importlib.util.spec_from_file_location(
    "make_validation_charts", ROOT / "scenarios" / "history" / "make_validation_charts.py")
V = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)


@pytest.fixture(scope="module")
def magnets():
    return V.magnets_2025()


@pytest.fixture(scope="module")
def ree2010():
    return V.rare_earths_2010()


@pytest.fixture(scope="module")
def gage():
    return V.gallium_germanium_2023()


# --- 2025 magnet exports ------------------------------------------------------------

def test_magnet_band_is_derived_from_the_observed_series():
    # 2 x the largest unshocked month-on-month change (Oct -> Nov 2025, +12%) of the
    # pre-shock level (Jan-Mar 2025 average, 5,089 t)
    assert V.MAGNETS_OBSERVED[11] / V.MAGNETS_OBSERVED[10] - 1 == pytest.approx(0.12, abs=0.005)
    assert V.MAGNETS_BAND_T == pytest.approx(2 * 0.125 * 5089, rel=0.01)


@pytest.mark.parametrize("month", sorted(V.MAGNETS_OBSERVED))
def test_magnet_month_within_band(magnets, month):
    row = magnets["table"].set_index("month").loc[f"2025-{month:02d}"]
    assert abs(row["error_t"]) <= V.MAGNETS_BAND_T, row.to_dict()


def test_magnet_trough_is_in_may(magnets):
    assert magnets["trough_month"] == 5


def test_magnet_may_fall_year_on_year(magnets):
    low, high = V.MAGNETS_MAY_YOY
    assert low <= magnets["may_yoy"] <= high


@pytest.mark.xfail(strict=True, reason="documented miss: one licence-free share for all destinations "
                                       "cannot reproduce the -92% of US-bound shipments (docs/validation.md)")
def test_us_bound_may_shipments(magnets):
    # observed: <50 t in May against ~600 t normally; band: within 50 t of the observed
    assert magnets["us_may_t"] <= V.US_BOUND_MAY + 50


# --- 2010 rare-earth quota ------------------------------------------------------------

def test_2010_export_cut_within_band(ree2010):
    row = ree2010["table"].iloc[0]
    assert row["band_low"] <= row["simulated"] <= row["band_high"], row.to_dict()


def test_2010_japan_use_within_band(ree2010):
    row = ree2010["table"].iloc[1]
    assert row["band_low"] <= row["simulated"] <= row["band_high"], row.to_dict()


# --- 2023 gallium and germanium -------------------------------------------------------

@pytest.mark.parametrize("metal", ["gallium", "germanium"])
def test_gage_august_exports_zero(gage, metal):
    assert gage["monthly"][metal][8] <= V.GAGE_AUGUST_BAND_T


@pytest.mark.parametrize("metal", ["gallium", "germanium"])
def test_gage_july_spike(gage, metal):
    monthly = gage["monthly"][metal]
    assert monthly[7] > monthly.loc[1:6].mean()


@pytest.mark.xfail(strict=True, reason="documented miss: buyers stocked up in July apply for licences only when "
                                       "their stock runs down, so first exports come ~7 weeks late (docs/validation.md)")
@pytest.mark.parametrize("metal", ["gallium", "germanium"])
def test_gage_first_licensed_export_date(gage, metal):
    median_days = float(gage["first_shipment"][metal].median())
    observed_days = (V.GAGE_FIRST_LICENCES - V.GAGE_START).days
    assert abs(median_days - observed_days) <= V.GAGE_FIRST_BAND_DAYS
