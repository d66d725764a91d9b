"""Fabs, equipment and compute demand in the engine, against hand derivations."""
from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from helpers import run, scenario, series

CHIPS = {
    "wafer": {"unit": "wafer"},
    "die": {"unit": "die"},
}


def fab_scenario(fab, horizon=10, shocks=(), capacity=10, stochastic=None):
    node = {"region": "CN", "produces": "die", "capacity": capacity, "fab": fab}
    if stochastic is not None:
        node["stochastic"] = stochastic
    return scenario(horizon=horizon, products=dict(CHIPS), nodes={"fab": node}, shocks=list(shocks))


def test_fab_output_is_wafers_times_dies_times_yield():
    # 10 wafers/day x 640 dies (100 mm^2 on 300 mm) x fixed yield 0.5 = 3200 good dies/day
    res = run(fab_scenario({"die_area_mm2": 100, "yield_model": "fixed", "yield": 0.5}))
    assert series(res, "fab", "good_dies").loc[0] == pytest.approx(3200)
    assert series(res, "fab", "produced").loc[0] == pytest.approx(3200)
    assert series(res, "fab", "wafers_started").loc[0] == pytest.approx(10)
    assert series(res, "fab", "yield").loc[0] == pytest.approx(0.5)
    assert series(res, "fab", "capacity").loc[0] == pytest.approx(10)


def test_yield_ramp_follows_the_d0_learning_curve():
    # Poisson, A = 2 cm^2, D0 from 0.9 toward 0.25 with a 1-year half-life:
    # day 365 D0 = 0.575 -> yield exp(-1.15); day 730 D0 = 0.4125 -> exp(-0.825)
    fab = {"die_area_mm2": 200, "yield_model": "poisson", "d0_per_cm2": {"start": 0.9, "end": 0.25, "halflife": "1y"}}
    y = series(run(fab_scenario(fab, horizon=731)), "fab", "yield")
    assert y.loc[0] == pytest.approx(math.exp(-1.8))
    assert y.loc[365] == pytest.approx(math.exp(-1.15))
    assert y.loc[730] == pytest.approx(math.exp(-0.825))


def test_yield_shock_multiplies_d0_while_active():
    # A x D0 = 1 (Poisson): yield e^-1; doubling D0 on days 3-5 gives e^-2
    fab = {"die_area_mm2": 200, "yield_model": "poisson", "d0_per_cm2": 0.5}
    shock = {"type": "yield_shock", "node": "fab", "start": 3, "end": 6, "d0_multiplier": 2}
    y = series(run(fab_scenario(fab, shocks=[shock])), "fab", "yield")
    assert y.loc[2] == pytest.approx(math.exp(-1))
    assert y.loc[3:5].to_numpy() == pytest.approx([math.exp(-2)] * 3)
    assert y.loc[6] == pytest.approx(math.exp(-1))


def test_stochastic_fab_samples_around_the_expected_value():
    # Binomial(10 wafers x 640 dies, 0.3) per day: mean 1920, sd sqrt(6400 x .3 x .7) = 36.7;
    # over 400 days the mean's sd is 1.83, we allow 4 sd.
    fab = {"die_area_mm2": 100, "yield_model": "fixed", "yield": 0.3, "stochastic": True}
    good = series(run(fab_scenario(fab, horizon=400)), "fab", "good_dies")
    assert abs(good.mean() - 1920) < 4 * 1.83
    assert (good == np.round(good)).all() and good.std() > 10


def tool_scenario(attrition=0.01, spares=None, stochastic=False, horizon=60, shocks=(), spares_stock=0,
                  spares_lane=False, replications=1):
    eq = {"required": 100, "installed": 100, "attrition": attrition}
    if spares:
        eq["spares"] = "spare"
    node = {"region": "CN", "produces": "die", "capacity": 100, "equipment": {"scanner": eq},
            "stochastic": stochastic, "inventory": {"spare": spares_stock} if spares else {}}
    nodes = {"fab": node}
    lanes = []
    if spares_lane:
        nodes["vendor"] = {"region": "NL", "inventory": {"spare": 1e6}}
        node["reorder"] = {"level": {"spare": 20}}
        lanes.append({"from": "vendor", "to": "fab", "product": "spare", "lead_time": 5})
    return scenario(horizon=horizon, replications=replications, seed=3,
                    products={"die": {}, "scanner": {"unit": "tool", "kind": "equipment"}, "spare": {"unit": "kit"}},
                    nodes=nodes, lanes=lanes, shocks=list(shocks))


def test_capacity_decays_like_one_minus_attrition_to_the_t_in_expectation():
    # Expected-value attrition without spares: installed after t days = 100 (1 - a)^t and
    # capacity (measured before that day's failures) = 100 x 0.99^t.
    cap = series(run(tool_scenario(stochastic=False)), "fab", "capacity")
    days = np.arange(60)
    np.testing.assert_allclose(cap.to_numpy(), 100 * 0.99 ** days)


def test_attrition_given_as_a_distribution_is_drawn_once_per_replication():
    # Expected-value attrition a drawn from uniform(0.005, 0.02): capacity on day t is
    # 100 (1 - a)^t, so a = 1 - (cap_1 / 100) recovers each replication's draw. The draws
    # must lie inside the bounds, differ between replications, and stay fixed within one
    # (the same a explains day 59: 100 (1 - a)^59).
    res = sim.run(tool_scenario(attrition={"dist": "uniform", "low": 0.005, "high": 0.02}, replications=5))
    ts = res.timeseries
    cap = ts[ts.metric == "capacity"].pivot(index="day", columns="replication", values="value")
    a = 1 - cap.loc[1] / 100
    assert ((a >= 0.005) & (a <= 0.02)).all() and a.nunique() == 5
    np.testing.assert_allclose(cap.loc[59], 100 * (1 - a) ** 59)


def test_random_attrition_matches_the_expectation_on_average():
    # Random failures: installed on day 50 ~ Binomial thinning, mean 100 x 0.99^50 = 60.50,
    # variance 100 p (1-p) with p = 0.605 -> sd 4.89; 200 replications -> sd 0.35, allow 4 sd.
    res = sim.run(tool_scenario(stochastic=True, replications=200))
    ts = res.timeseries
    cap50 = ts[(ts.metric == "capacity") & (ts.day == 50)]["value"]
    assert abs(cap50.mean() - 100 * 0.99 ** 50) < 4 * 0.35


def test_spares_restore_failed_tools():
    # 1 tool fails a day (100 x 0.01, expected value) and is repaired next morning from the
    # spares on hand: capacity stays 100 while 60 spare kits last (59 used by day 59).
    res = run(tool_scenario(spares=True, spares_stock=60))
    assert series(res, "fab", "capacity").min() == pytest.approx(100)
    assert series(res, "fab", "consumed", "spare").sum() == pytest.approx(59)


def test_service_ban_cuts_spares_and_capacity_erodes():
    # Spares come by lane (5 days) and the fab keeps 20 kits; a service ban from day 0 stops
    # deliveries. The 20 kits on hand repair 20 failures (days 1-20); after that tools are
    # lost at 1% a day: capacity on day 20 + t is 100 x 0.99^t.
    ban = {"type": "service_ban", "start": 0, "equipment": "scanner", "to": "fab"}
    res = run(tool_scenario(spares=True, spares_stock=20, spares_lane=True, shocks=[ban]))
    cap = series(res, "fab", "capacity")
    assert cap.loc[20] == pytest.approx(100)
    np.testing.assert_allclose(cap.loc[20:59].to_numpy(), 100 * 0.99 ** np.arange(40))
    assert series(res, "vendor", "shipped").sum() == 0


def test_expansion_waits_for_its_tools():
    # 100 wafers/day with 10 tools; +100/day from day 0 needs 10 more tools (required scales
    # with capacity to 20). The tools arrive by lane on day 10 (ordered day 0, lead 10) and
    # are installed 2 days later: capacity is 200 x 10/20 = 100 until day 11, 200 from 12.
    sc = scenario(horizon=20, products={"die": {}, "tool": {"kind": "equipment"}},
                  nodes={"maker": {"region": "NL", "inventory": {"tool": 100}},
                         "fab": {"produces": "die", "capacity": 100,
                                 "equipment": {"tool": {"required": 10, "installed": 10, "install_days": 2}},
                                 "stochastic": False, "reorder": {"level": {"tool": 0}}}},
                  lanes=[{"from": "maker", "to": "fab", "product": "tool", "lead_time": 10}],
                  policies=[{"type": "capacity_expansion", "node": "fab", "capacity": 100}])
    res = run(sc)
    cap = series(res, "fab", "capacity")
    assert np.allclose(cap.loc[:11], 100)
    assert np.allclose(cap.loc[12:], 200)
    assert series(res, "maker", "shipped").loc[0] == pytest.approx(10)
    assert series(res, "fab", "installed", "tool").loc[12] == pytest.approx(20)


def compute_scenario(mandate=None, a_stock=1e6, b_stock=100, demand=1000, extra_nodes=None, horizon=5):
    products = {"a": {"unit": "chip", "tflops": 100, "power_kw": 0.7},
                "b": {"unit": "chip", "tflops": 50, "power_kw": 0.4}}
    dem = {"product": ["a", "b"], "measure": "tflops", "rate": demand}
    if mandate:
        dem["mandate"] = mandate
    nodes = {"us_maker": {"region": "US", "produces": "a", "capacity": 0},
             "cn_maker": {"region": "CN", "produces": "b", "capacity": 0},
             "dc": {"region": "CN", "inventory": {"a": a_stock, "b": b_stock}, "demand": dem}}
    nodes.update(extra_nodes or {})
    return scenario(horizon=horizon, products=products, nodes=nodes)


def test_substitutes_serve_in_order_of_preference_and_energy_follows_power():
    # 1000 TFLOPS/day from a (100 TFLOPS, 0.7 kW) first: 5 chips of a in stock give 500,
    # the other 500 come from 10 chips of b (50 TFLOPS, 0.4 kW). Energy of the day's chips
    # = (5 x 0.7 + 10 x 0.4) kW x 24 h = 180 kWh = 0.18 MWh.
    res = run(compute_scenario(a_stock=5))
    assert series(res, "dc", "delivered", "a").loc[0] == pytest.approx(5)
    assert series(res, "dc", "delivered", "b").loc[0] == pytest.approx(10)
    assert series(res, "dc", "compute_delivered").loc[0] == pytest.approx(1000)
    assert series(res, "dc", "energy_mwh").loc[0] == pytest.approx(0.18)
    # day 1: a is gone; b has 90 chips = 4500 TFLOPS, so 20 chips serve the 1000
    assert series(res, "dc", "delivered", "b").loc[1] == pytest.approx(20)
    assert series(res, "dc", "energy_mwh").loc[1] == pytest.approx(20 * 0.4 * 24 / 1000)


def test_mandate_forces_half_of_delivered_compute_to_be_domestic():
    # b is made only in CN (domestic), a only in the US. 3 chips of b = 150 TFLOPS domestic.
    # With min_share 0.5 the day can deliver at most 150 / 0.5 = 300, half of it domestic:
    # 150 from b (3 chips) and 150 from a (1.5 chips); 700 of the 1000 is short.
    res = run(compute_scenario(mandate={"region": "CN", "min_share": 0.5}, b_stock=3, horizon=1))
    a = series(res, "dc", "delivered", "a").loc[0]
    b = series(res, "dc", "delivered", "b").loc[0]
    assert b * 50 == pytest.approx(150) and a * 100 == pytest.approx(150)
    assert series(res, "dc", "compute_shortfall").loc[0] == pytest.approx(700)
    free = run(compute_scenario(b_stock=3, horizon=1))
    assert series(free, "dc", "compute_shortfall").loc[0] == 0


def test_compute_kpis_are_in_measure_units():
    k = run(compute_scenario(a_stock=0, b_stock=30, horizon=2)).kpis
    row = k[k["product"] == "tflops"].iloc[0]
    # 2 days x 1000 demanded; 30 chips x 50 = 1500 delivered; 500 short
    assert row["demand"] == pytest.approx(2000) and row["shortfall"] == pytest.approx(500)
    assert row["unit"] == "tflops"


def test_multi_die_package_is_limited_by_hbm():
    # An accelerator needs 2 dies and 8 HBM stacks; 100 dies and 40 stacks on hand:
    # HBM allows 40 / 8 = 5 packages (dies would allow 50), capacity 10/day.
    sc = scenario(horizon=2, products={"die": {}, "hbm": {}, "accel": {}},
                  nodes={"pkg": {"produces": "accel", "capacity": 10, "consumes": {"die": 2, "hbm": 8},
                                 "inventory": {"die": 100, "hbm": 40}}})
    res = run(sc)
    assert series(res, "pkg", "produced", "accel").loc[0] == pytest.approx(5)
    assert series(res, "pkg", "consumed", "die").loc[0] == pytest.approx(10)
    assert series(res, "pkg", "inventory", "hbm").loc[0] == pytest.approx(0)


def test_compute_demand_orders_substitutes_through_lanes():
    # The data centre orders its compute gap split equally over the two substitutes it buys
    # by lane: level 10 days x 1000 = 10,000 TFLOPS, empty on day 0 -> 5,000 each, i.e.
    # 50 chips of a and 100 chips of b.
    sc = scenario(horizon=3,
                  products={"a": {"tflops": 100}, "b": {"tflops": 50}},
                  nodes={"us": {"region": "US", "inventory": {"a": 1e6}},
                         "cn": {"region": "CN", "inventory": {"b": 1e6}},
                         "dc": {"demand": {"product": ["a", "b"], "measure": "tflops", "rate": 1000},
                                "reorder": {"days_of_cover": 10}}},
                  lanes=[{"from": "us", "to": "dc", "product": "a", "lead_time": 2},
                         {"from": "cn", "to": "dc", "product": "b", "lead_time": 2}])
    res = run(sc)
    assert series(res, "us", "shipped").loc[0] == pytest.approx(50)
    assert series(res, "cn", "shipped").loc[0] == pytest.approx(100)


def test_a_fab_cut_off_from_spares_buys_new_tools_if_it_can():
    # Service ban on spares from day 0, but new scanners still come by lane (5 days). With
    # no spares to repair them, failed tools leave the position, so the fab re-orders one a
    # day (100 x 1% failures) and capacity stays near 100 instead of eroding to 100 x 0.99^t.
    sc = tool_scenario(spares=True, spares_stock=0, spares_lane=True,
                       shocks=[{"type": "service_ban", "start": 0, "equipment": "scanner", "to": "fab"}])
    doc = sc.to_document()
    doc["nodes"]["vendor"]["inventory"]["scanner"] = 1000
    doc["nodes"]["fab"]["reorder"] = {"level": {"spare": 20, "scanner": 0}}
    doc["lanes"].append({"from": "vendor", "to": "fab", "product": "scanner", "lead_time": 5})
    res = run(sim.Scenario.model_validate(doc))
    assert series(res, "vendor", "shipped", "scanner").sum() > 40
    assert series(res, "fab", "capacity").loc[59] > 90 > 100 * 0.99 ** 59


def test_tools_for_an_expansion_are_bought_one_lead_time_ahead():
    # +100 wafers/day decided on day 0, online on day 30 (build_days). The tools (lead time
    # 10) are ordered when the requirement is one lead time away, on day 20, and arrive on
    # day 30: capacity is 200 from day 30 on.
    sc = scenario(horizon=40, products={"die": {}, "tool": {"kind": "equipment"}},
                  nodes={"maker": {"region": "NL", "inventory": {"tool": 100}},
                         "fab": {"produces": "die", "capacity": 100, "stochastic": False,
                                 "equipment": {"tool": {"required": 10, "installed": 10}},
                                 "reorder": {"level": {"tool": 0}}}},
                  lanes=[{"from": "maker", "to": "fab", "product": "tool", "lead_time": 10}],
                  policies=[{"type": "capacity_expansion", "node": "fab", "capacity": 100, "build_days": 30}])
    res = run(sc)
    shipped = series(res, "maker", "shipped")
    assert shipped.loc[:19].sum() == 0 and shipped.loc[20] == pytest.approx(10)
    assert series(res, "fab", "capacity").loc[30] == pytest.approx(200)


def test_compute_position_counts_substitutes_held_only_in_stock():
    # The data centre holds a million chips of b (no lane) and buys a by lane. Its position
    # (5e7 TFLOPS) is far above a 10-day level of 10,000 TFLOPS: it orders nothing.
    sc = scenario(horizon=3, products={"a": {"tflops": 100}, "b": {"tflops": 50}},
                  nodes={"us": {"region": "US", "inventory": {"a": 1e6}},
                         "dc": {"inventory": {"b": 1e6},
                                "demand": {"product": ["a", "b"], "measure": "tflops", "rate": 1000},
                                "reorder": {"days_of_cover": 10}}},
                  lanes=[{"from": "us", "to": "dc", "product": "a", "lead_time": 2}])
    assert series(run(sc), "us", "shipped").sum() == 0


def test_compute_level_per_product_is_rejected():
    with pytest.raises(Exception, match="one number in tflops"):
        scenario(horizon=3, products={"a": {"tflops": 100}},
                 nodes={"dc": {"demand": {"product": ["a"], "measure": "tflops", "rate": 1},
                               "reorder": {"level": {"a": 5}}}})


def test_service_ban_from_one_region_leaves_domestic_spares():
    # Spares come from a US vendor and a Chinese one (equal shares). A ban on US spares
    # only blocks the US lane; the Chinese lane still ships.
    sc = tool_scenario(spares=True, spares_stock=0, spares_lane=True,
                       shocks=[{"type": "service_ban", "start": 0, "equipment": "scanner", "to": "fab",
                                "from": {"region": "US"}}])
    doc = sc.to_document()
    doc["nodes"]["vendor"]["region"] = "US"
    doc["nodes"]["cn_vendor"] = {"region": "CN", "inventory": {"spare": 1e6}}
    doc["lanes"].append({"from": "cn_vendor", "to": "fab", "product": "spare", "lead_time": 5})
    res = run(sim.Scenario.model_validate(doc))
    assert series(res, "vendor", "shipped").sum() == 0
    assert series(res, "cn_vendor", "shipped").sum() > 0
