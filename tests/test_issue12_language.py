"""Issue 12 (briefings a minister can read), scenario language side: labels, the
reference shock, durations and load warnings, the short-day threshold, run counts in the
KPI table, stockpiles that wait for their release, lane flow and fee, and headlines.

Every expected number is derived by hand in the comment beside it.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import run, scenario, series, write_file
from sim.leverspec import resolved_windows
from sim.metrics import (
    ShockWindow,
    headline_values,
    kpi_table,
    reference_window,
    summarise_headlines,
    time_to_recover_days,
    time_to_survive_days,
)
from sim.statistics import scenario_window

BASE = """\
name: t
horizon: 60
start_date: 2025-01-01
products: {x: {price: 100}}
nodes:
  s: {inventory: {x: 1000000}}
  b: {inventory: {x: 100}, demand: {product: x, rate: 10}, reorder: {level: 100}}
lanes:
  - {from: s, to: b, product: x, lead_time: 2}
"""


def load(tmp_path, extra: str = "", base: str = BASE):
    return sim.load_scenario(write_file(tmp_path, "s.yaml", base + extra))


def problems(tmp_path, extra: str, base: str = BASE) -> list:
    with pytest.raises(sim.ScenarioError) as info:
        load(tmp_path, extra, base)
    return info.value.problems


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


# --- 1. labels ----------------------------------------------------------------------

def test_labels_on_nodes_products_shocks_and_policies(tmp_path):
    extra = ("shocks:\n"
             "  - {type: export_ban, name: ban, label: The export ban, start: 10, to: b}\n"
             "  - {type: export_ban, name: ban2, start: 20, to: b}\n"
             "  - {type: export_ban, start: 30, to: b}\n"
             "policies:\n  - {type: stockpile, node: b, product: x, target: 5, label: Reserve}\n")
    base = BASE.replace("products: {x: {price: 100}}", "products: {x: {price: 100, label: Widget}}").replace(
        "s: {inventory", "s: {label: Supplier, inventory")
    sc = load(tmp_path, extra, base)
    assert sc.products["x"].label == "Widget" and sc.nodes["s"].label == "Supplier" and sc.nodes["b"].label is None
    assert [s.display_label(i) for i, s in enumerate(sc.shocks)] == ["The export ban", "ban2", "export_ban #3"]
    assert sc.policies[0].display_label(0) == "Reserve"


# --- 2. the reference shock ------------------------------------------------------------

def test_reference_window_rule():
    # in-run shocks first (ties: the one ending first); all before day 0: the earliest; named wins
    assert reference_window([(-100, 50), (30, None), (30, 40)]) == ShockWindow(30, 40)
    assert reference_window([(-100, None), (-50, 10)]) == ShockWindow(-100, None)
    assert reference_window([(-100, None), (30, 40)], reference=0) == ShockWindow(-100, None)
    assert reference_window([]) == ShockWindow(0, None)


def test_reference_shock_by_name_and_default(tmp_path):
    shocks = ("shocks:\n"
              "  - {type: export_ban, name: old, start: 2024-01-01, to: b}\n"
              "  - {type: export_ban, name: new, start: 2025-02-01, end: 2025-03-01, to: b}\n")
    # default: the shock starting on or after day 0 (Feb 1 = day 31, Mar 1 = day 59)
    assert scenario_window(load(tmp_path, shocks)) == ShockWindow(31, 59)
    # named: the old one, day 2024-01-01 - 2025-01-01 = -366 (2024 is a leap year)
    assert scenario_window(load(tmp_path, shocks + "reference_shock: old\n")) == ShockWindow(-366, None)


def test_without_reference_shock_an_unnamed_shock_is_not_taken_for_the_named_one(tmp_path):
    # A named shock from day 10 and an unnamed one from day 40, no reference_shock: the
    # default rule picks the earliest in-run shock, day 10 (not the first unnamed one).
    shocks = ("shocks:\n"
              "  - {type: export_ban, name: early, start: 10, end: 20, to: b}\n"
              "  - {type: export_ban, start: 40, to: b}\n")
    assert scenario_window(load(tmp_path, shocks)) == ShockWindow(10, 20)


def test_unknown_reference_shock_is_a_positioned_error(tmp_path):
    extra = "shocks:\n  - {type: export_ban, name: ban, start: 10, to: b}\nreference_shock: bann\n"
    found = problems(tmp_path, extra)
    assert len(found) == 1
    assert found[0].line == line_of(BASE + extra, "reference_shock") and found[0].col == 18
    assert "no shock is named 'bann'" in found[0].message and "did you mean 'ban'?" in found[0].message


# --- 3. duration, warnings and resolved windows -----------------------------------------

def test_duration_sets_the_end_in_the_start_kind(tmp_path):
    extra = ("shocks:\n  - {type: export_ban, start: 2025-03-01, duration: 30, to: b}\n"
             "  - {type: export_ban, start: 10, duration: 2m, to: b}\n"
             "policies:\n  - {type: stockpile, node: b, product: x, target: 5, duration: 1w}\n")
    sc = load(tmp_path, extra)
    assert sc.shocks[0].end == dt.date(2025, 3, 31)   # March 1 + 30 days
    assert sc.shocks[1].end == 70                      # day 10 + 2 x 30
    assert sc.policies[0].end == 7                     # a policy starts on day 0 by default
    assert sc.load_warnings == ()
    # the resolved scenario holds `end` only and loads back equal
    assert sim.Scenario.model_validate(sc.to_document()) == sc


def test_end_and_duration_together_is_a_positioned_error(tmp_path):
    extra = "shocks:\n  - type: export_ban\n    start: 10\n    end: 20\n    duration: 5\n    to: b\n"
    found = problems(tmp_path, extra)
    assert len(found) == 1
    assert found[0].line == line_of(BASE + extra, "duration: 5")
    assert "not both" in found[0].message


def test_bare_duration_end_beside_a_date_start_warns(tmp_path):
    extra = "shocks:\n  - type: export_ban\n    start: 2025-02-01\n    end: 9m\n    to: b\n"
    sc = load(tmp_path, extra)
    assert sc.shocks[0].end == 270  # today's meaning kept: day 9 x 30
    (warning,) = sc.load_warnings
    path, line, col, rest = warning.split(":", 3)
    assert path.endswith("s.yaml") and (int(line), int(col)) == (line_of(BASE + extra, "end: 9m"), 10)
    assert rest.startswith(" warning: shocks[0].end: '9m'")


def test_resolved_windows(tmp_path):
    extra = ("shocks:\n  - {type: export_ban, name: old, start: 2024-12-01, to: b}\n"
             "  - {type: export_ban, label: Ban, start: 10, duration: 20, to: b}\n"
             "policies:\n  - {type: stockpile, node: b, product: x, target: 5}\n")
    rows = resolved_windows(load(tmp_path, extra))
    assert [(r["kind"], r["label"], r["start"], r["end"], r["before_run"], r["reference"]) for r in rows] == [
        ("shock", "old", dt.date(2024, 12, 1), None, True, False),
        ("shock", "Ban", dt.date(2025, 1, 11), dt.date(2025, 1, 31), False, True),   # days 10 and 30
        ("policy", "stockpile #1", dt.date(2025, 1, 1), None, False, False),
    ]
    assert rows[0]["start_day"] == -31 and rows[1]["end_day"] == 30


# --- 4. short-day threshold ---------------------------------------------------------------

def test_short_day_threshold_on_the_kpi_functions():
    shortfall, demand = np.array([0.0, 5, 1, 0, 0]), np.full(5, 10.0)
    plain, strict = ShockWindow(0, None), ShockWindow(0, None, 0.2)
    # without threshold days 1 and 2 are short: survive 1, recover 2 + 1 - 0 = 3
    assert time_to_survive_days(shortfall, plain, demand) == 1
    assert time_to_recover_days(shortfall, plain, demand) == 3
    # threshold 0.2 x 10 = 2: only day 1 (5 > 2) is short: survive 1, recover 1 + 1 = 2
    assert time_to_survive_days(shortfall, strict, demand) == 1
    assert time_to_recover_days(shortfall, strict, demand) == 2
    # 0.5 x 10 = 5: no day is short (5 is not above 5)
    assert math.isnan(time_to_survive_days(shortfall, ShockWindow(0, None, 0.5), demand))


def tidy(rows: dict[int, list[float]], demand: float = 10.0) -> pd.DataFrame:
    """A tidy table of one demand row (node b, product x): shortfall per replication."""
    frames = []
    for rep, short in rows.items():
        days = np.arange(len(short))
        for metric, values in (("demand", np.full(len(short), demand)), ("shortfall", np.array(short)),
                               ("delivered", demand - np.array(short))):
            frames.append(pd.DataFrame({"replication": rep, "day": days, "node": "b", "product": "x",
                                        "metric": metric, "value": values}))
    return pd.concat(frames, ignore_index=True)


def test_short_day_threshold_parameter_and_scenario_key(tmp_path):
    ts = tidy({0: [0, 5, 1, 0, 0]})
    assert kpi_table(ts, ShockWindow(0, None)).loc[0, "time_to_recover_days"] == 3
    assert kpi_table(ts, ShockWindow(0, None), short_day_threshold=0.2).loc[0, "time_to_recover_days"] == 2
    assert scenario_window(load(tmp_path, "short_day_threshold: 0.2\n")).short_day_threshold == 0.2
    assert load(tmp_path).short_day_threshold == 0.0
    assert problems(tmp_path, "short_day_threshold: 1.5\n")


# --- 5. run counts ------------------------------------------------------------------

def test_short_and_recovered_runs():
    # rep 0 never short; rep 1 short on day 2 then recovered; rep 2 still short on the last
    # day; rep 3 short only on day 0, before the reference start (day 1): not a short run
    ts = tidy({0: [0, 0, 0, 0], 1: [0, 0, 4, 0], 2: [0, 0, 4, 4], 3: [4, 0, 0, 0]})
    row = kpi_table(ts, ShockWindow(1, None)).iloc[0]
    assert (row["replications"], row["short_runs"], row["recovered_runs"]) == (4, 2, 1)
    assert list(kpi_table(ts, ShockWindow(1, None)).columns[-3:]) == ["replications", "short_runs", "recovered_runs"]


# --- 6. a stockpile waits while its release is active ----------------------------------------

def test_stockpile_does_not_refill_inside_a_release_window():
    # b is well stocked (500, re-ordered to 500, uses 10 a day), so the cover-triggered
    # release (days 5-15) never frees a unit. The stockpile fills 10 a day on days 0-4 (50),
    # waits inside the release window (days 5-14: still 50), then fills again: 60 on day 15,
    # 70 on day 16.
    pile = {"type": "stockpile", "node": "b", "product": "x", "target": 100, "fill_rate": 10}
    release = {"type": "stockpile_release", "node": "b", "product": "x", "rate": 5, "when_cover_below": 1,
               "start": 5, "end": 15}
    sc = scenario(horizon=30, products={"x": {}},
                  nodes={"s": {"inventory": {"x": 1e6}},
                         "b": {"inventory": {"x": 500}, "demand": {"product": "x", "rate": 10}, "reorder": {"level": 500}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2}], policies=[pile, release])
    held = series(run(sc), "b", "stockpile")
    assert held.loc[4] == pytest.approx(50)
    assert np.allclose(held.loc[5:14], 50)
    assert held.loc[15] == pytest.approx(60) and held.loc[16] == pytest.approx(70)


# --- 7. lane flow and fee ----------------------------------------------------------------------

def licensed(tmp_path, extra: str = ""):
    return load(tmp_path, "shocks:\n  - {type: export_license, start: 0, approval_rate: 1, review_days: 0, fee: 0.25,"
                          " to: b}\n" + extra)


def test_lane_flow_and_fee(tmp_path):
    # b holds 100, uses 10 a day and re-orders up to 100: it orders 10 a day from day 0,
    # decided at once; each day 10 units leave on s->b, worth 10 x 100 = 1000, fee 25%: 250.
    res = run(licensed(tmp_path))
    flow, fee = series(res, "s->b", "flow", "x"), series(res, "s->b", "fee", "x")
    assert len(flow) == 60 and np.allclose(flow, 10)
    assert np.allclose(fee, 250)
    assert np.allclose(series(res, "b", "cost", "x"), 1250)  # price plus fee, as before


def test_a_lane_without_fee_reports_flow_only(tmp_path):
    res = run(load(tmp_path))
    assert np.allclose(series(res, "s->b", "flow", "x"), 10)
    assert series(res, "s->b", "fee", "x").empty
    assert series(res, "s->b", "inventory").empty


# --- 8. headlines ----------------------------------------------------------------------------

HEADLINES = """\
headlines:
  - {name: units_in_window, metric: flow, lane: s->b, from: 10, to: 20}
  - {name: fee_revenue, label: Fee revenue, metric: fee, lane: {from: s, to: b}, product: x, from: 2025-01-11,
     to: 2025-01-21}
  - {name: fee_per_day, metric: fee, lane: s->b, stat: mean}
  - {name: delivered, metric: delivered, node: b, product: x, stat: max}
"""


def test_headline_values_and_summary(tmp_path):
    sc = licensed(tmp_path, HEADLINES)
    res = run(sc, replications=2)
    values = headline_values(sc, res.timeseries)
    assert list(values.columns) == ["headline", "label", "unit", "replication", "value"]
    got = {(r.headline, r.replication): r.value for r in values.itertuples()}
    # days 10-19: 10 days x 10 units = 100; x 250 = 2500 (Jan 11 is day 10); 250 a day; 10 a day at most
    for rep in (0, 1):
        assert got[("units_in_window", rep)] == pytest.approx(100)
        assert got[("fee_revenue", rep)] == pytest.approx(2500)
        assert got[("fee_per_day", rep)] == pytest.approx(250)
        assert got[("delivered", rep)] == pytest.approx(10)
    summary = summarise_headlines(values).set_index("headline")
    assert list(summary.columns) == ["label", "unit", "mean", "p05", "p95", "replications"]
    assert summary.loc["fee_revenue", "label"] == "Fee revenue" and summary.loc["fee_revenue", "unit"] == "USD"
    assert summary.loc["units_in_window", "unit"] == "unit" and summary.loc["units_in_window", "replications"] == 2
    assert summary.loc["fee_revenue", "mean"] == pytest.approx(2500)
    assert summary.loc["fee_revenue", "p05"] == pytest.approx(2500)


def test_headlines_are_checked_with_positions(tmp_path):
    extra = ("headlines:\n"
             "  - {name: a, metric: flwo, lane: s->b}\n"
             "  - {name: a, metric: flow, lane: b->s}\n"
             "  - {name: c, metric: delivered, node: bb}\n"
             "  - {name: d, metric: delivered, node: b, lane: s->b}\n"
             "  - {name: e, metric: delivered, node: b, from: 2025-03-01, to: 2025-02-01}\n")
    text = BASE + extra
    found = {(p.line, p.message.split(":")[0]) for p in problems(tmp_path, extra)}
    messages = " | ".join(p.message for p in problems(tmp_path, extra))
    assert (line_of(text, "flwo"), "headlines[0].metric") in found and "did you mean 'flow'?" in messages
    assert (line_of(text, "b->s"), "headlines[1].name") in found      # a duplicate name
    assert (line_of(text, "b->s"), "headlines[1].lane") in found      # no lane b -> s
    assert (line_of(text, "bb}"), "headlines[2].node") in found and "did you mean 'b'?" in messages
    assert "exactly one of `node` or `lane`" in messages
    assert "to (2025-02-01) must come after from (2025-03-01)" in messages


def test_headlines_of_an_extended_file_are_appended(tmp_path):
    write_file(tmp_path, "base.yaml", BASE + "headlines:\n  - {name: a, metric: flow, lane: s->b}\n")
    child = write_file(tmp_path, "child.yaml", "extends: base.yaml\nheadlines:\n  - {name: b, metric: delivered, node: b}\n")
    assert [h.name for h in sim.load_scenario(child).headlines] == ["a", "b"]


def test_bundled_scenarios_ask_their_questions():
    from golden.digest import ROOT

    h200 = sim.load_scenario(ROOT / "scenarios" / "02b-h200-conditional-exports.yaml")
    assert {h.name for h in h200.headlines} >= {"h200_reaching_china_2026", "h200_fee_revenue_2026"}
    ree = sim.load_scenario(ROOT / "scenarios" / "01b-ree-october-2025.yaml")
    assert ree.headlines[0].node == "eu_magnet_users" and ree.headlines[0].from_ == dt.date(2026, 1, 1)
