"""Reader-facing numbers and words: significant figures, SI and compute units, dates and
durations, the ICD 203 likelihood scale at its boundaries, shocks as sentences."""
from __future__ import annotations

import datetime as dt

import pytest

from sim.reporting.words import distribution_text, likelihood, timing_text, value_text
from sim.units import (
    compact,
    date_text,
    duration_text,
    h100_equivalents,
    percent,
    plain_tick,
    quantity,
    si,
    sig,
    signed,
)


@pytest.mark.parametrize(("x", "text"), [
    (2834.6, "2,830"), (2835.0, "2,840"), (999.6, "1,000"), (0.012345, "0.0123"), (1.5, "1.5"), (0.25, "0.25"),
    (7.0, "7"), (123456789.0, "123,000,000"), (-2830.4, "-2,830"), (0, "0"), (float("nan"), "n/a"), (None, "n/a"),
])
def test_three_significant_figures_with_thousands_separators(x, text):
    assert sig(x) == text


def test_signs_percent_and_compact():
    assert signed(2830) == "+2,830" and signed(-12.54) == "-12.5" and signed(0) == "0"
    assert percent(0.92345) == "92.3%" and percent(1.0) == "100%"
    assert compact(6_734_000) == "6.73 million" and compact(1.48e9) == "1.48 billion" and compact(950) == "950"


def test_si_prefixes():
    assert si(1.23e18, "FLOPS") == "1.23 EFLOPS"
    assert si(4.56e15, "FLOPS") == "4.56 PFLOPS"
    assert si(999, "t") == "999 t"
    assert si(1500, "W") == "1.5 kW"


def test_compute_in_eflops_and_h100_equivalents():
    # 1,978 TFLOPS of BF16 = 1.978e15 FLOPS = two H100s at 989 TFLOPS each
    assert h100_equivalents(1978, "tflops_bf16") == pytest.approx(2.0)
    # 2e6 TFLOPS = 2e18 FLOPS = 2 EFLOPS; / 989e12 = 2,022.2 H100s
    assert quantity(2e6, "tflops_bf16") == "2 EFLOPS (2,020 H100-equivalents)"
    assert quantity(2830.4, "t") == "2,830 t"
    assert "tflops" not in quantity(5e5, "tflops_bf16").lower().replace("eflops", "").replace("pflops", "")


def test_ticks_have_no_offsets_or_scientific_notation():
    assert plain_tick(1_500_000_000) == "1.5G"
    assert plain_tick(2500) == "2,500"
    assert plain_tick(0) == "0"
    assert "e" not in plain_tick(3e7).lower()


def test_dates_and_durations_read_as_words():
    assert date_text(dt.date(2025, 4, 4)) == "4 Apr 2025"
    assert duration_text("45wd") == "45 working days"
    assert duration_text("1d") == "1 day"
    assert duration_text("6m") == "6 months"
    assert duration_text("2025-10-09") == "9 Oct 2025"
    assert duration_text("1200/month") == "1,200 per month"
    assert distribution_text({"dist": "triangular", "low": 30, "mode": 45, "high": 60}, "days") == \
        "between 30 and 60 days (triangular, most likely 45)"
    assert distribution_text({"dist": "uniform", "low": "30wd", "high": "60wd"}, "days") == \
        "between 30 working days and 60 working days (uniform)"


@pytest.mark.parametrize(("share", "word"), [
    (0.0, "almost no chance"), (0.049, "almost no chance"), (0.05, "very unlikely"), (0.199, "very unlikely"),
    (0.20, "unlikely"), (0.449, "unlikely"), (0.45, "roughly even chance"), (0.50, "roughly even chance"),
    (0.55, "roughly even chance"), (0.551, "likely"), (0.799, "likely"), (0.80, "very likely"),
    (0.949, "very likely"), (0.95, "almost certain"), (1.0, "almost certain"),
])
def test_likelihood_words_follow_icd_203_at_the_boundaries(share, word):
    assert likelihood(share) == word


def test_likelihood_rejects_shares_outside_zero_one():
    with pytest.raises(ValueError):
        likelihood(1.2)


class _Spec:
    def __init__(self, start, end):
        self.start, self.end, self.suspended = start, end, []


class _Scenario:
    start_date = dt.date(2025, 1, 1)
    horizon = 365


def test_timing_is_honest_about_shocks_before_and_beyond_the_run():
    before = timing_text(_Spec(dt.date(2024, 12, 1), None), _Scenario())
    assert before == "in force since 1 Dec 2024 (before the run starts), still in force at the end of the run"
    inside = timing_text(_Spec(31, 59), _Scenario())  # day 31 = 1 Feb, day 59 = 1 Mar 2025
    assert inside == "from 1 Feb 2025, until 1 Mar 2025"
    beyond = timing_text(_Spec(10, 400), _Scenario())
    assert beyond.endswith("still in force at the end of the run")


def test_pauses_are_dated():
    import types

    spec = _Spec(0, None)
    # day 90 = 1 Apr 2025, day 120 = 1 May 2025; the second window given as dates
    spec.suspended = [types.SimpleNamespace(start=90, end=120),
                      types.SimpleNamespace(start=dt.date(2025, 9, 1), end=dt.date(2025, 10, 1))]
    assert timing_text(spec, _Scenario()) == ("in force since 1 Jan 2025, still in force at the end of the run, paused "
                                              "from 1 Apr 2025 to 1 May 2025 and from 1 Sep 2025 to 1 Oct 2025")
    spec.suspended = [types.SimpleNamespace(start=d, end=d + 5) for d in (10, 40, 70, 100)]
    assert timing_text(spec, _Scenario()).endswith(", paused 4 times in between")


def test_an_unnamed_shock_reads_as_words_in_the_briefing():
    from helpers import scenario

    from sim.reporting.words import spec_label

    sc = scenario(products={"x": {}}, nodes={"s": {"region": "CN", "produces": "x", "capacity": 1},
                                             "b": {"region": "US", "demand": {"product": "x", "rate": 1}}},
                  lanes=[{"from": "s", "to": "b", "product": "x"}],
                  shocks=[{"type": "export_ban", "start": 5, "to": "b"},
                          {"type": "capacity_loss", "name": "fire", "start": 5, "node": "s", "fraction": 0.5}])
    assert spec_label(sc.shocks[0], 0) == "Export ban #1"        # the tables keep "export_ban #1"
    assert sc.shocks[0].display_label(0) == "export_ban #1"
    assert spec_label(sc.shocks[1], 1) == "fire"                  # a name is kept as written


def test_a_stepped_rate_reads_as_a_sequence():
    steps = [{"rate": 0.25}, {"from": "2025-06-02", "rate": 0.85}]
    assert value_text("approval_rate", steps, _Scenario()) == "0.25, then 0.85 from 2 Jun 2025"


def test_headlines_and_notes_read_from_rundata_when_present():
    import types

    import pandas as pd

    from sim.reporting.summary import headline_rows, split_notes

    heads = pd.DataFrame([{"headline": "eu_short", "label": "EU magnet shortfall", "unit": "t", "mean": 2834.6,
                           "p05": 1234.5, "p95": 4001.0, "replications": 20},
                          {"headline": "one", "label": "One-run figure", "unit": "tflops_bf16", "mean": 5.0,
                           "p05": 5.0, "p95": 5.0, "replications": 1}])
    notes = [{"file": "a.yaml", "line": 3, "kind": "assumption", "text": "reserve full on day 0"},
             {"file": "a.yaml", "line": 9, "kind": "source", "text": "IEA 2024"},
             "'x' and 'y' cannot be told apart"]
    data = types.SimpleNamespace(headlines=heads, notes=notes, variants=[],
                                 base=types.SimpleNamespace(scenario=types.SimpleNamespace(nodes={})))
    rows = headline_rows(data)
    assert rows[0] == {"label": "EU magnet shortfall", "mean": "2,830", "unit": "t", "interval": "1,230 to 4,000", "n": 20}
    assert rows[1]["interval"] == "one run: no interval" and rows[1]["unit"] == "TFLOPS (BF16)"
    assumptions, sources, other = split_notes(data)
    assert assumptions == ["reserve full on day 0 (a.yaml:3)"]
    assert sources == ["IEA 2024 (a.yaml:9)"]
    assert other == ["'x' and 'y' cannot be told apart"]
    # before RunData has them: no headlines, and notes are the ranking's strings
    older = types.SimpleNamespace(variants=[], base=data.base)
    assert headline_rows(older) == []
    assert split_notes(older) == ([], [], [])
