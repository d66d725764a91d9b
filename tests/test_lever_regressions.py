"""Behaviours found wrong in review, pinned with hand derivations."""
from __future__ import annotations

import pytest

import sim
from helpers import covered_buyer, run, scenario, series


def one_lane(shocks=(), policies=(), level=1e4, horizon=60, inventory=0.0, lanes=True):
    return scenario(horizon=horizon, products={"x": {}},
                    nodes={"s": {"region": "CN", "inventory": {"x": 1e6}},
                           "t": {"region": "AU", "inventory": {"x": 1e6}},
                           "b": {"region": "US", "inventory": {"x": inventory}, "demand": {"product": "x", "rate": 10},
                                 "reorder": {"level": level}}},
                    lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2}] if lanes else [],
                    shocks=list(shocks), policies=list(policies))


def test_a_second_licence_regime_governs_when_the_first_ends():
    # Regime A (approval 1, days 0-10) and regime B (approval 0, days 5-60). From day 10 B
    # governs the lane alone, so nothing that is applied for from day 10 on ever leaves.
    a = {"type": "export_license", "start": 0, "end": 10, "approval_rate": 1.0}
    b = {"type": "export_license", "start": 5, "end": 60, "approval_rate": 0.0}
    res = run(one_lane([a, b], level=100, inventory=100))
    shipped = series(res, "s", "shipped")
    assert shipped.loc[:9].sum() > 0
    assert shipped.loc[10:].sum() == 0


def test_a_new_lane_alone_takes_every_order_whatever_its_share():
    # The buyer has no other lane: a new lane with share 0.3 still carries the whole order
    # (level 100, empty on day 0 -> 100 ordered on day 0).
    lane = {"type": "new_lane", "from": "t", "to": "b", "product": "x", "share": 0.3, "lead_time": 2}
    res = run(one_lane(policies=[lane], level=100, lanes=False))
    assert series(res, "t", "shipped").loc[0] == pytest.approx(100)


def test_overlapping_announcements_keep_the_larger_cover_until_both_end():
    # Two bans announced on day 2, starting on days 20 (60 days' cover) and 40 (30 days').
    # When the first starts, the second's announcement (30 days) still holds; from day 20 the
    # lane is banned anyway, so the position reached by day 19 is the 60-day level: 600.
    ban1 = {"type": "export_ban", "start": 20, "announced": 2, "anticipation": {"days_of_cover": 60}, "to": "b"}
    ban2 = {"type": "export_ban", "start": 40, "announced": 2, "anticipation": {"days_of_cover": 30}, "to": "b"}
    sc = covered_buyer([ban1, ban2])
    # 600 units from day 20 at 10/day: first short day 80 -> survive 60 from the earliest start
    assert run(sc).kpis.loc[0, "time_to_survive_days"] == 60


def test_a_cover_triggered_release_keeps_the_stockpile_waiting_while_idle():
    # Release active from day 0 but only when cover < 1 day; the buyer is well supplied, so
    # it never releases. Its window is active all the same (issue 12: a stockpile does not
    # fill while a release of the same node and product is active), so the stockpile of
    # target 50 at 10/day stays empty for the whole run.
    pile = {"type": "stockpile", "node": "b", "product": "x", "target": 50, "fill_rate": 10}
    release = {"type": "stockpile_release", "node": "b", "product": "x", "rate": 5, "when_cover_below": 1}
    res = run(one_lane(policies=[pile, release], level=500, inventory=500))
    assert series(res, "b", "stockpile").max() == 0


def test_stockpile_keeps_its_units_and_holding_cost_after_its_end():
    # Filled to 50 by day 4; the policy ends on day 10: the 50 units stay held and keep
    # costing 0.1 per unit per day (5 a day).
    pile = {"type": "stockpile", "node": "b", "product": "x", "target": 50, "fill_rate": 10,
            "end": 10, "holding_cost": 0.1}
    res = run(one_lane(policies=[pile], level=500, inventory=500))
    assert series(res, "b", "stockpile").loc[30] == pytest.approx(50)
    assert series(res, "b", "cost").loc[30] == pytest.approx(5)


def test_affiliates_zero_is_rejected(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nhorizon: 5\nproducts: {x: {}}\nnodes:\n  a: {entity: A, produces: x, capacity: 1}\n"
                    "  b: {entity: B, reorder: {level: 1}}\nlanes:\n  - {from: a, to: b, product: x}\n"
                    "shocks:\n  - {type: entity_list, start: 0, entities: B, affiliates: 0}\n")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    assert info.value.problems[0].line == 10
