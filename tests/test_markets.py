"""Markets (contract section 11, docs/markets.md) on networks small enough to work out by hand.

Every expected number is derived in the comments from the rule of docs/markets.md:
  s_d = min(1, free stock before serving / (notional x (1 + fee)**e)), f_d = mean of s over the window
  before d (days before 0 count as 1), M_d = clip(f_d ** (1/e), 1, max),
  D_d = notional x (M_d (1 + fee))**e, price = base x M_d x (1 + fee).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from helpers import run, scenario, series, write_file


def market_buyer(capacity: float, elasticity: float = -0.5, window: int = 10, cap: float = 10.0, rate: float = 10.0,
                 stock: float | None = None, horizon: int = 80, shocks=(), backlog: bool = False, lead: int = 1):
    """A source making ``capacity`` a day for one market buyer of ``rate`` a day (base price 100).

    The buyer opens with ``stock`` (default: one day of supply, ``capacity``) and orders up
    to 10 days of its notional demand, far above what one day brings, so it takes all the
    source makes: with lead 1 the supply reaching it is ``capacity`` every day from day 0."""
    return scenario(
        horizon=horizon,
        products={"g": {"unit": "t", "price": 100,
                        "market": {"elasticity": elasticity, "max_multiplier": cap, "window_days": window}}},
        nodes={"src": {"region": "CN", "produces": "g", "capacity": capacity},
               "buyer": {"region": "EU", "demand": {"product": "g", "rate": rate, "backlog": backlog},
                         "inventory": {"g": capacity if stock is None else stock},
                         "reorder": {"policy": "base_stock", "days_of_cover": 10}}},
        lanes=[{"from": "src", "to": "buyer", "product": "g", "lead_time": lead}],
        shocks=list(shocks),
    )


def buyer(res, metric: str):
    return series(res, "buyer", metric, "g")


# --- property 2: steady state under a capacity limit ---------------------------------

@pytest.mark.parametrize("f, e", [(0.5, -0.5), (0.8, -0.4), (0.25, -1.0)])
def test_steady_state_under_a_capacity_limit(f, e):
    # Supply reaching the buyer is f x 10 every day (its opening stock on day 0, then one
    # day's output each day). While the multiplier is below f**(1/e) the demand at price
    # is above f x 10, so the buyer sells out every day and s_d = f from day 0. Over the
    # window of 10 days f_d = ((10 - d) x 1 + d x f) / 10 for d <= 10, exactly f from day
    # 10 on: M = f**(1/e) (f = 0.5, e = -0.5: 4; 0.8, -0.4: 1.747...; 0.25, -1: 4), below
    # the cap of 10. Then D = 10 x M**e = 10 f: served in full from the f x 10 in stock
    # (stock ends at 0, so s stays f), shortfall 0, destroyed (1 - f) x 10.
    res = run(market_buyer(capacity=10 * f, elasticity=e))
    m = buyer(res, "price_multiplier")
    expected = f ** (1 / e)
    assert m.loc[10:].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert m.loc[9] < expected  # still converging the day before the window is full
    assert buyer(res, "delivered").loc[10:].to_numpy() == pytest.approx(10 * f, rel=1e-12)
    assert buyer(res, "shortfall").loc[10:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert buyer(res, "demand_destroyed").loc[10:].to_numpy() == pytest.approx((1 - f) * 10, rel=1e-12)
    assert buyer(res, "demand").to_numpy() == pytest.approx(10.0)  # demand stays notional
    assert buyer(res, "price").loc[10:].to_numpy() == pytest.approx(100 * expected, rel=1e-12)


def test_the_price_starts_at_base_and_converges_day_by_day():
    # f = 0.5, e = -0.5, window 10: f_d = 1 - 0.05 d, M_d = f_d ** -2 until day 10.
    res = run(market_buyer(capacity=5))
    m = buyer(res, "price_multiplier")
    assert m.loc[0] == 1.0 and buyer(res, "price").loc[0] == 100.0
    assert m.loc[1] == pytest.approx(1 / 0.95 ** 2)
    assert m.loc[5] == pytest.approx(1 / 0.75 ** 2)
    # day 5: D = 10 x M**-0.5 = 10 x 0.75 = 7.5; served 5, shortfall 2.5, destroyed 2.5
    assert buyer(res, "shortfall").loc[5] == pytest.approx(2.5)
    assert buyer(res, "demand_destroyed").loc[5] == pytest.approx(2.5)


def test_cost_and_spend_at_the_buyers_price():
    # f = 0.5, e = -0.5: from day 10 the price is 100 x 4 = 400. The 5 units dispatched
    # each day (step 5, after step 4 set the price) cost the buyer 5 x 400 = 2000, and
    # the 5 delivered at 400 are its spend, 2000. Day 0: price 100, 5 shipped: cost 500.
    res = run(market_buyer(capacity=5))
    assert buyer(res, "cost").loc[10:].to_numpy() == pytest.approx(2000.0)
    assert buyer(res, "spend").loc[10:].to_numpy() == pytest.approx(2000.0)
    assert buyer(res, "cost").loc[0] == pytest.approx(500.0)


# --- property 3: recovery ------------------------------------------------------------

def test_recovery_within_the_window_after_supply_returns():
    # The source makes 20 a day but loses 75% (5 a day) on days 0-39. Day 40's full 20
    # leaves on day 40 and arrives on day 41: s = 0.5 on days 0-40 (the arrival of day
    # 40 is day 39's 5), s = 1 from day 41 (20 in stock against 10). The window of day
    # d is days d-10..d-1: day 50 still holds day 40 (f = 9.5/10, M = 0.95**-2), day 51
    # holds only full days: M = 1 exactly, 10 days (window_days) after supply returned.
    shock = {"type": "capacity_loss", "node": "src", "fraction": 0.75, "start": 0, "end": 40, "recovery_days": 0}
    res = run(market_buyer(capacity=20, stock=5, shocks=[shock]))
    m = buyer(res, "price_multiplier")
    assert m.loc[40] == pytest.approx(4.0)
    assert m.loc[50] == pytest.approx(0.95 ** -2)
    assert (m.loc[51:] == 1.0).all()
    assert buyer(res, "demand_destroyed").loc[51:].to_numpy() == pytest.approx(0.0, abs=1e-12)


# --- property 4: a licence fee -------------------------------------------------------

def test_a_25_percent_fee_with_elasticity_minus_one_cuts_demand_to_four_fifths():
    # Supply is ample (the buyer opens with 100, the source makes 100 a day), so s = 1
    # and M = 1 throughout. The fee of 25% on the only inbound lane raises the buyer's
    # price to 100 x 1.25 = 125 and its demand to 10 x 1.25**-1 = 8 a day: 8 delivered,
    # 2 destroyed, no shortfall. Each unit shipped costs 125, of which 25 is fee.
    fee = {"type": "export_license", "start": 0, "from": "src", "review_days": 0, "approval_rate": 1, "fee": 0.25}
    res = run(market_buyer(capacity=100, elasticity=-1.0, stock=100, shocks=[fee]))
    assert (buyer(res, "price_multiplier") == 1.0).all()
    assert buyer(res, "price").to_numpy() == pytest.approx(125.0)
    assert buyer(res, "delivered").to_numpy() == pytest.approx(8.0)
    assert buyer(res, "demand_destroyed").to_numpy() == pytest.approx(2.0)
    assert buyer(res, "shortfall").to_numpy() == pytest.approx(0.0, abs=1e-12)
    shipped = series(res, "src", "shipped", "g")
    cost = buyer(res, "cost")
    assert cost.to_numpy() == pytest.approx(125.0 * shipped.to_numpy())
    fee_paid = series(res, "src->buyer", "fee", "g")
    assert fee_paid.to_numpy() == pytest.approx(25.0 * shipped.to_numpy())


@pytest.mark.parametrize("f, fee, e", [(0.5, 0.25, -1.0), (0.4, 0.1, -0.5)])
def test_a_fee_under_binding_supply_settles_where_the_supply_clears(f, fee, e):
    # Supply is f x 10 a day and a licence fee applies. Scarcity is read against the demand
    # the fee leaves, 10 x (1 + fee)**e (f = 0.5, fee 0.25, e = -1: 8; f = 0.4, fee 0.1,
    # e = -0.5: 9.535), so the supply ratio is f' = f / (1 + fee)**e (0.625; 0.4195) while
    # the buyer sells out. As in the capacity-limit case the window is full of f' from day
    # 10: M = f'**(1/e) = f**(1/e) / (1 + fee) (1.6; 5.682), demand at price
    # 10 x (M (1 + fee))**e = 10 f, served in full (shortfall 0), 10 (1 - f) destroyed, and
    # the buyer's price base x M x (1 + fee) = base x f**(1/e) (200; 625): while supply
    # binds the fee does not raise the price, the scarcity rent shrinks by it instead.
    licence = {"type": "export_license", "start": 0, "from": "src", "review_days": 0, "approval_rate": 1, "fee": fee}
    res = run(market_buyer(capacity=10 * f, elasticity=e, shocks=[licence], horizon=200))
    m = buyer(res, "price_multiplier")
    expected = f ** (1 / e) / (1 + fee)
    assert m.loc[10:].to_numpy() == pytest.approx(expected, rel=1e-12)  # settles, and stays
    assert m.loc[9] < expected
    assert buyer(res, "price").loc[10:].to_numpy() == pytest.approx(100 * f ** (1 / e), rel=1e-12)
    assert buyer(res, "delivered").loc[10:].to_numpy() == pytest.approx(10 * f, rel=1e-12)
    assert buyer(res, "shortfall").loc[10:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert buyer(res, "demand_destroyed").loc[10:].to_numpy() == pytest.approx(10 * (1 - f), rel=1e-12)


def test_a_fee_alone_is_not_scarcity():
    # Supply 9 a day against notional demand 10, a 25% fee, e = -1: demand at price is 8 a
    # day, which the 9 cover, so the buyer is never short of what it wants at its price:
    # s = 1 every day, M = 1, the price is 125 and 8 a day is delivered. (Against notional
    # demand, 9 < 10 would have read as scarcity and raised the multiplier.)
    licence = {"type": "export_license", "start": 0, "from": "src", "review_days": 0, "approval_rate": 1, "fee": 0.25}
    res = run(market_buyer(capacity=9, elasticity=-1.0, shocks=[licence]))
    assert (buyer(res, "price_multiplier") == 1.0).all()
    assert buyer(res, "price").to_numpy() == pytest.approx(125.0)
    assert buyer(res, "delivered").to_numpy() == pytest.approx(8.0)
    assert buyer(res, "shortfall").to_numpy() == pytest.approx(0.0, abs=1e-12)


# --- the cap ---------------------------------------------------------------------------

def test_max_multiplier_binding_leaves_the_rest_as_shortfall():
    # f = 0.1, e = -0.5: f**(1/e) = 100, above the cap of 10, so M = 10 from the day
    # f_d <= 10**-0.5 (day 8 of the convergence) on; D = 10 x 10**-0.5 = 3.1623: the
    # buyer gets 1 a day (so s stays 0.1), 2.1623 is shortfall, 10 - 3.1623 destroyed.
    res = run(market_buyer(capacity=1, elasticity=-0.5, cap=10.0))
    d = 10 * 10 ** -0.5
    assert buyer(res, "price_multiplier").loc[10:].to_numpy() == pytest.approx(10.0)
    assert buyer(res, "delivered").loc[10:].to_numpy() == pytest.approx(1.0)
    assert buyer(res, "shortfall").loc[10:].to_numpy() == pytest.approx(d - 1.0)
    assert buyer(res, "demand_destroyed").loc[10:].to_numpy() == pytest.approx(10.0 - d)


# --- property 1 and the KPIs -------------------------------------------------------------

def test_without_scarcity_the_price_is_base_and_demand_notional():
    res = run(market_buyer(capacity=50, stock=50))
    assert (buyer(res, "price") == 100.0).all() and (buyer(res, "price_multiplier") == 1.0).all()
    assert buyer(res, "delivered").to_numpy() == pytest.approx(10.0)
    assert (buyer(res, "demand_destroyed") == 0.0).all()


def test_market_kpis():
    # f = 0.5, e = -0.5, window 10, 80 days: M_d = (1 - 0.05 d)**-2 on days 0-9, 4 on
    # days 10-79; destroyed = 10 (1 - M**-0.5) = 0.5 d on days 0-9 (sum 22.5), 5 after
    # (70 x 5 = 350): 372.5.
    res = run(market_buyer(capacity=5))
    row = res.kpis.set_index("node").loc["buyer"]
    mean = (sum((1 - 0.05 * d) ** -2 for d in range(10)) + 70 * 4.0) / 80
    assert row["price_multiplier_mean"] == pytest.approx(mean)
    assert row["price_multiplier_peak"] == pytest.approx(4.0)
    assert row["demand_destroyed"] == pytest.approx(372.5)
    assert row["demand_destroyed_p95"] == pytest.approx(372.5)


def test_files_without_markets_keep_their_kpi_columns_and_series():
    sc = scenario(products={"x": {"unit": "t", "price": 5}},
                  nodes={"s": {"region": "CN", "produces": "x", "capacity": 1},
                         "b": {"region": "EU", "demand": {"product": "x", "rate": 2}, "reorder": {"level": 5}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 1}])
    res = run(sc)
    assert not any(c.startswith("price") or c.startswith("demand_destroyed") for c in res.kpis.columns)
    assert not set(res.timeseries["metric"].unique()) & {"price", "price_multiplier", "demand_destroyed", "spend"}


def test_price_multiplier_is_a_per_slot_array_filled_day_by_day():
    # contract with the signposts (section 12): triggers read Recorder.by_metric on the day
    from sim.engine.world import World
    from sim.network import build_network
    from sim.replication import Streams

    net = build_network(market_buyer(capacity=5))
    world = World(net, Streams(np.random.SeedSequence(0)))
    world.run()
    arr = world.recorder.by_metric["price_multiplier"]
    assert arr.shape == (80, len(net.slots) - len(net.lane_slots))
    assert arr[10, net.slot_of[("buyer", "g")]] == pytest.approx(4.0)


# --- validation ------------------------------------------------------------------------

BASE = """name: m
horizon: 10
products:
  g: {unit: t, price: 10, market: {elasticity: -0.5}}
  c: {unit: chip, tflops: 2}
nodes:
  s: {region: CN, produces: g, capacity: 1}
  b: {region: EU, demand: {product: g, rate: 1}}
"""


@pytest.mark.parametrize("market, words", [
    ("{elasticity: 0}", "must be < 0, got 0"), ("{elasticity: 0.3}", "must be < 0, got 0.3"), ("{elasticity: .nan}", "finite"),
    ("{elasticity: -1, max_multiplier: 0.5}", "must be >= 1"),
    ("{elasticity: -1, window_days: 0}", "must be >= 1"),
    ("{elasticity: -1, window_days: 2.5}", "integer"),
    ("{elasticity: -1, window_days: 100001}", "<= 100000, got 100001"),
    ("{elasticity: -1, spread: 2}", "spread"),
])
def test_market_fields_are_validated_with_a_position(tmp_path, market, words):
    text = BASE.replace("market: {elasticity: -0.5}", f"market: {market}")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "m.yaml", text))
    (problem,) = info.value.problems
    assert problem.line == 4 and words in problem.message


def test_a_market_product_needs_a_price(tmp_path):
    text = BASE.replace("price: 10, ", "")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "m.yaml", text))
    (problem,) = info.value.problems
    assert problem.line == 4 and "needs a base `price`" in problem.message


def test_market_substitutes_of_one_compute_node_must_share_their_market_block(tmp_path):
    # one multiplier per compute node (docs/markets.md, section 6): the elasticities differ
    text = BASE.replace("c: {unit: chip, tflops: 2}", "c: {unit: chip, tflops: 2, price: 1, market: {elasticity: -1}}\n"
                        "  k: {unit: chip, tflops: 1, price: 1, market: {elasticity: -0.5}}")
    text += "  dc: {region: US, demand: {product: [c, k], measure: tflops, rate: 4}}\n"
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "m.yaml", text))
    (problem,) = info.value.problems
    assert "must share elasticity" in problem.message and "'k' and 'c' differ" in problem.message


def test_a_compute_node_may_mix_priced_and_unpriced_substitutes(tmp_path):
    # defaults filled in: {elasticity: -1} and {elasticity: -1, window_days: 30} agree
    text = BASE.replace("c: {unit: chip, tflops: 2}", "c: {unit: chip, tflops: 2, price: 1, market: {elasticity: -1}}\n"
                        "  k: {unit: chip, tflops: 1, price: 1, market: {elasticity: -1, window_days: 30}}\n"
                        "  u: {unit: chip, tflops: 1}")
    text += "  dc: {region: US, demand: {product: [c, k, u], measure: tflops, rate: 4}}\n"
    assert sim.load_scenario(write_file(tmp_path, "m.yaml", text)).nodes["dc"].demand.measure == "tflops"


def test_same_seed_same_prices():
    sc = market_buyer(capacity=6, lead=1)
    sc = sc.model_copy(update={"nodes": {**sc.nodes, "buyer": sc.nodes["buyer"].model_copy(
        update={"demand": sc.nodes["buyer"].demand.model_copy(update={"distribution": "poisson"})})}})
    a = buyer(run(sc, seed=7), "price").to_numpy()
    b = buyer(run(sc, seed=7), "price").to_numpy()
    c = buyer(run(sc, seed=8), "price").to_numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert math.isfinite(a.sum())


def test_a_very_inelastic_market_under_a_deep_cut_sits_at_the_cap():
    # f = 0.001, e = -0.01: f ** (1/e) = 10**300, far above the cap of 50 (and a float
    # power of that size would overflow): M = 50 from the convergence on, D = 10 x 50**-0.01.
    res = run(market_buyer(capacity=0.01, elasticity=-0.01, cap=50.0))
    assert buyer(res, "price_multiplier").loc[10:].to_numpy() == pytest.approx(50.0)
    assert buyer(res, "demand_destroyed").loc[10:].to_numpy() == pytest.approx(10 - 10 * 50 ** -0.01)
