"""Every policy type on a network small enough to work out by hand."""
from __future__ import annotations

import numpy as np
import pytest

import sim
from helpers import run, scenario, series


def test_stockpile_fills_at_its_daily_limit():
    # Target 500 at 100/day from free stock: 100, 200, ..., 500 held on days 0-4, then
    # constant. The node re-orders what the stockpile took (level 1000 on its position,
    # which excludes stockpiled units), so its free stock is restored. Holding cost 0.1
    # per unit per day is booked daily: 0.1 x 500 = 50 from day 4.
    sc = scenario(horizon=10, products={"x": {}},
                  nodes={"s": {"inventory": {"x": 1e6}},
                         "b": {"inventory": {"x": 1000}, "reorder": {"level": 1000}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 1}],
                  policies=[{"type": "stockpile", "node": "b", "product": "x", "target": 500,
                             "fill_rate": 100, "holding_cost": 0.1}])
    res = run(sc)
    held = series(res, "b", "stockpile")
    np.testing.assert_allclose(held.loc[:5].to_numpy(), [100, 200, 300, 400, 500, 500])
    assert series(res, "b", "cost").loc[4] == pytest.approx(50)
    # free stock = inventory - stockpile is back at 1000 once re-orders arrive (day k+1)
    assert series(res, "b", "inventory").loc[9] - held.loc[9] == pytest.approx(1000)


def release_case(rate, when_cover_below=None, start=0):
    """No supply; 300 on hand of which 200 is a standing stockpile; demand 10/day."""
    release = {"type": "stockpile_release", "node": "b", "product": "x", "rate": rate, "start": start}
    if when_cover_below is not None:
        release["when_cover_below"] = when_cover_below
    return scenario(horizon=80, products={"x": {}},
                    nodes={"b": {"inventory": {"x": 300}, "demand": {"product": "x", "rate": 10}}},
                    policies=[{"type": "stockpile", "node": "b", "product": "x", "target": 200, "initial": 200},
                              release])


def test_release_extends_time_to_survive_by_stock_over_net_demand():
    # Free stock 100, demand 10/day, release 5/day from day 0: free stock falls by
    # 10 - 5 = 5 a day, so it lasts 100 / (10 - 5) = 20 days (10 without the release);
    # the 200 stockpiled units last longer (200 / 5 = 40 days) so they do not bind.
    assert run(release_case(rate=5)).kpis.loc[0, "time_to_survive_days"] == 20
    assert run(release_case(rate=0)).kpis.loc[0, "time_to_survive_days"] == 10


def test_release_triggered_by_low_cover():
    # Release 10/day only while free stock covers fewer than 3 days (30 units). Free stock
    # 100 falls 10/day: the release starts once it is below 30 and then exactly refills
    # each day's demand, so the node is short only when the 200 stockpiled units run out:
    # 100 + 200 = 300 units at 10/day last 30 days.
    res = run(release_case(rate=10, when_cover_below=3))
    assert res.kpis.loc[0, "time_to_survive_days"] == 30
    assert series(res, "b", "stockpile").loc[6] == pytest.approx(200)


def test_capacity_expansion_builds_then_ramps():
    # +50/day decided on day 0, 10 days to build, 5-day linear ramp: days 0-9 at 100,
    # then 110, 120, 130, 140 and 150 from day 14.
    sc = scenario(horizon=20, products={"x": {}}, nodes={"plant": {"produces": "x", "capacity": 100}},
                  policies=[{"type": "capacity_expansion", "node": "plant", "capacity": 50,
                             "build_days": 10, "ramp_days": 5}])
    cap = series(run(sc), "plant", "capacity")
    np.testing.assert_allclose(cap.loc[8:15].to_numpy(), [100, 100, 110, 120, 130, 140, 150, 150])


def alternative_source(share=None, shocks=()):
    lane = {"type": "new_lane", "from": "au", "to": "b", "product": "x", "lead_time": 3,
            "start": 10, "qualification_days": 20}
    if share is not None:
        lane["share"] = share
    return scenario(horizon=60, products={"x": {}},
                    nodes={"cn": {"region": "CN", "inventory": {"x": 1e6}},
                           "au": {"region": "AU", "inventory": {"x": 1e6}},
                           "b": {"inventory": {"x": 100}, "demand": {"product": "x", "rate": 10},
                                 "reorder": {"level": 100}}},
                    lanes=[{"from": "cn", "to": "b", "product": "x", "lead_time": 3}],
                    shocks=list(shocks), policies=[lane])


def test_new_lane_opens_after_qualification():
    # Decided on day 10 with 20 days of qualification: the first order on the new lane
    # is on day 30. With share 0.25 the buyer's daily order of 10 splits 7.5 / 2.5.
    res = run(alternative_source(share=0.25))
    au = series(res, "au", "shipped")
    cn = series(res, "cn", "shipped")
    assert au.loc[:29].sum() == 0
    assert au.loc[30] == pytest.approx(2.5)
    assert cn.loc[30] == pytest.approx(7.5)


def test_new_lane_rescues_a_banned_buyer():
    # China is banned from day 0. The buyer lives on 100 units (10 days), then is short
    # until the Australian lane's first shipment arrives on day 30 + 3 = 33; with the
    # default equal split, half of each order goes to the blocked lane and is dropped, so
    # the gap grows until the open lane alone carries 10/day.
    ban = {"type": "export_ban", "start": 0, "from": "cn"}
    res = run(alternative_source(shocks=[ban]))
    short = series(res, "b", "shortfall")
    assert short.loc[10:32].gt(0).all()
    assert series(res, "b", "received").loc[33] > 0
    assert res.kpis.loc[0, "time_to_survive_days"] == 10


def test_policies_compare_on_common_random_numbers():
    # The same Poisson demand draws with and without a policy (named streams).
    base = scenario(horizon=40, replications=3, seed=2, products={"x": {}},
                    nodes={"s": {"inventory": {"x": 1e6}},
                           "b": {"demand": {"product": "x", "rate": 10, "distribution": "poisson"},
                                 "inventory": {"x": 50}, "reorder": {"days_of_cover": 5}}},
                    lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2}])
    with_policy = base.model_copy(update={"policies": [sim.Scenario.model_validate(
        {"name": "p", "horizon": 1, "policies": [{"type": "stockpile", "node": "b", "product": "x", "target": 30}],
         "nodes": {"b": {}}, "products": {"x": {}}}).policies[0]]})
    a, b = sim.run(base), sim.run(with_policy)
    for r in range(3):
        np.testing.assert_array_equal(series(a, "b", "demand", replication=r), series(b, "b", "demand", replication=r))
