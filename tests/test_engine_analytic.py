"""Engine behaviour on networks small enough to work out by hand.

Each test states its derivation; expected numbers come from that, not from a run.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import run, scenario, series


def banned_consumer(stock: float, rate: float, lead: int, ban_end: int, backlog: bool = False):
    """A consumer living on its stock while its only supplier is banned from day 0."""
    return scenario(
        horizon=200,
        products={"x": {"unit": "t"}},
        nodes={
            "supplier": {"region": "CN", "produces": "x", "capacity": 1000},
            "consumer": {"region": "US", "inventory": {"x": stock},
                         "demand": {"product": "x", "rate": rate, "backlog": backlog},
                         "reorder": {"level": 500}},
        },
        lanes=[{"from": "supplier", "to": "consumer", "product": "x", "lead_time": lead}],
        shocks=[{"type": "export_ban", "start": 0, "end": ban_end, "from": "supplier"}],
    )


@pytest.mark.parametrize("stock, rate", [(250, 10), (255, 10), (90, 4.5)])
def test_first_short_day_is_stock_over_daily_demand(stock, rate):
    # Days 0..k-1 are fully served while stock lasts: the first short day is
    # floor(stock / rate) (a partial day counts as short).
    res = run(banned_consumer(stock, rate, lead=7, ban_end=100))
    expected = math.floor(stock / rate + 1e-12)
    assert res.kpis.loc[0, "time_to_survive_days"] == expected
    short = series(res, "consumer", "shortfall")
    assert short.loc[: expected - 1].sum() == 0
    assert short.loc[expected] > 0


@pytest.mark.parametrize("lead", [1, 7, 30])
def test_recovery_after_ban_takes_the_lead_time(lead):
    # The ban ends on day 100: the first order leaves on day 100 (step 5) and arrives at
    # step 2 of day 100 + lead, so the last short day is 100 + lead - 1 and
    # time_to_recover = (100 + lead) - 100 = lead.
    res = run(banned_consumer(250, 10, lead=lead, ban_end=100))
    assert res.kpis.loc[0, "time_to_recover_days"] == lead
    short = series(res, "consumer", "shortfall")
    assert short.loc[100 + lead - 1] > 0
    assert short.loc[100 + lead:].sum() == 0


def test_total_shortfall_during_ban_by_hand():
    # Stock 255, demand 10/day, short from day 25 to day 106 (lead 7, ban ends 100):
    # demand over days 0..106 is 1070, of which 255 is served -> shortfall 815.
    res = run(banned_consumer(255, 10, lead=7, ban_end=100))
    assert res.kpis.loc[0, "shortfall"] == pytest.approx(815)
    assert res.kpis.loc[0, "fill_rate"] == pytest.approx(1 - 815 / 2000)


def poisson_tail(mean: float, s: int, power: int = 1) -> float:
    """E[((D - s)+)^power] for D ~ Poisson(mean), summed directly from the pmf."""
    total, k = 0.0, s + 1
    while True:
        pmf = math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
        total += (k - s) ** power * pmf
        if k > mean + 20 * math.sqrt(mean) + 50:
            return total
        k += 1


@pytest.mark.parametrize("rate, lead, level", [(10.0, 5, 55), (4.0, 3, 12)])
def test_base_stock_backlog_matches_textbook(rate, lead, level):
    # Order up to S every day; an order placed at step 5 of day t arrives at step 2 of day
    # t + L, before that day's demand. All orders placed up to day tau - L have arrived by
    # the end of day tau and none after, so net stock at the end of day tau is
    # S - (demand of days tau-L+1..tau): backlog = (D - S)+ with D ~ Poisson(rate * L).
    horizon = 36_000  # within the 100-year cap; the tolerance below scales with it
    sc = scenario(
        horizon=horizon, seed=11,
        products={"x": {}},
        nodes={
            "source": {"produces": "x", "capacity": 1e6},
            "shop": {"inventory": {"x": level},
                     "demand": {"product": "x", "rate": rate, "distribution": "poisson", "backlog": True},
                     "reorder": {"level": level}},
        },
        lanes=[{"from": "source", "to": "shop", "product": "x", "lead_time": lead}],
    )
    res = run(sc)
    backlog = series(res, "shop", "backlog").to_numpy()[lead:]
    expected = poisson_tail(rate * lead, level)
    # daily backlogs are correlated over L days: standard error <= sqrt(E[B^2] * 2L / n)
    se = math.sqrt(poisson_tail(rate * lead, level, power=2) * 2 * lead / len(backlog))
    assert abs(backlog.mean() - expected) < 4 * se, (backlog.mean(), expected, se)


def test_pro_rata_allocation_when_supplier_is_short():
    # A warehouse holding 90 gets orders of 100 and 50 on day 0: it ships 90*100/150 = 60
    # and 90*50/150 = 30, which arrive one day later.
    sc = scenario(
        horizon=3,
        products={"x": {}},
        nodes={
            "depot": {"inventory": {"x": 90}},
            "a": {"reorder": {"level": 100}, "inventory": {"x": 0}},
            "b": {"reorder": {"level": 50}, "inventory": {"x": 0}},
        },
        lanes=[{"from": "depot", "to": "a", "product": "x", "lead_time": 1},
               {"from": "depot", "to": "b", "product": "x", "lead_time": 1}],
    )
    res = run(sc)
    assert series(res, "a", "received").loc[1] == pytest.approx(60)
    assert series(res, "b", "received").loc[1] == pytest.approx(30)
    assert series(res, "depot", "shipped").loc[0] == pytest.approx(90)
    assert series(res, "depot", "inventory").loc[0] == pytest.approx(0)


def test_lane_shares_split_orders():
    # One order of 100 split 3:1 over two suppliers (shares are normalised).
    sc = scenario(
        horizon=3,
        products={"x": {}},
        nodes={
            "s1": {"produces": "x", "capacity": 500},
            "s2": {"produces": "x", "capacity": 500},
            "buyer": {"reorder": {"level": 100}, "inventory": {"x": 0}},
        },
        lanes=[{"from": "s1", "to": "buyer", "product": "x", "lead_time": 2, "share": 3},
               {"from": "s2", "to": "buyer", "product": "x", "lead_time": 2, "share": 1}],
    )
    res = run(sc)
    assert series(res, "s1", "shipped").loc[0] == pytest.approx(75)
    assert series(res, "s2", "shipped").loc[0] == pytest.approx(25)
    assert series(res, "buyer", "received").loc[2] == pytest.approx(100)


def test_production_limited_by_inputs():
    # Capacity 10/day, 2 units of input per unit, 15 units of input on hand, no resupply:
    # day 0 makes 15/2 = 7.5 and uses all 15; day 1 makes nothing.
    sc = scenario(
        horizon=2,
        products={"x": {}, "y": {}},
        nodes={"plant": {"produces": "y", "capacity": 10, "consumes": {"x": 2}, "inventory": {"x": 15}}},
    )
    res = run(sc)
    produced = series(res, "plant", "produced", "y")
    assert produced.loc[0] == pytest.approx(7.5)
    assert produced.loc[1] == 0
    assert series(res, "plant", "consumed", "x").loc[0] == pytest.approx(15)


def test_demand_growth_compounds_per_year():
    # rate 10/day growing 50% a year: day 365 demand is 10 * 1.5 = 15, day 730 is 22.5.
    sc = scenario(
        horizon=731,
        products={"x": {}},
        nodes={"city": {"inventory": {"x": 1e9}, "demand": {"product": "x", "rate": 10, "growth": 0.5}}},
    )
    demand = series(run(sc), "city", "demand")
    assert demand.loc[0] == pytest.approx(10)
    assert demand.loc[365] == pytest.approx(15)
    assert demand.loc[730] == pytest.approx(22.5)


def daily_buyer(shock):
    """30 days; buyer ``b`` (1000 in stock, 5 a day) re-orders to 1000 daily from plant ``s``
    (100 a day) over a 3-day lane, so ``s`` ships 5 a day unless ``shock`` stops it."""
    return scenario(
        horizon=30,
        products={"x": {}},
        nodes={
            "s": {"produces": "x", "capacity": 100},
            "b": {"inventory": {"x": 1000}, "demand": {"product": "x", "rate": 5}, "reorder": {"level": 1000}},
        },
        lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 3}],
        shocks=[shock],
    )


def test_ban_window_blocks_exactly_start_to_end():
    # Active on start <= d < end: a daily-ordering buyer gets nothing shipped on days 10..19.
    sc = daily_buyer({"type": "export_ban", "start": 10, "end": 20, "to": "b"})
    shipped = series(run(sc), "s", "shipped")
    assert (shipped.loc[10:19] == 0).all()
    assert (shipped.loc[:9] > 0).all()
    # day 20 re-orders everything missed: 5/day consumed over days 10..20 = 55
    assert shipped.loc[20] == pytest.approx(55)


@pytest.mark.parametrize("leakage, expect_blocked", [(0.0, True), (1.0, False)])
def test_leakage_extremes(leakage, expect_blocked):
    sc = daily_buyer({"type": "export_ban", "start": 5, "to": "b", "leakage": leakage})
    shipped = series(run(sc), "s", "shipped").loc[5:]
    if expect_blocked:
        assert shipped.sum() == 0
    else:
        assert (shipped == 5).all()


def test_time_metrics_without_shocks_count_from_day_zero():
    # No shock: the reference is day 0. Stock 30 at 10/day lasts 3 days (survive = 3), and
    # with no supply the node is still short on the last day (recover is empty).
    sc = scenario(
        horizon=10,
        products={"x": {}},
        nodes={"n": {"inventory": {"x": 30}, "demand": {"product": "x", "rate": 10}}},
    )
    k = run(sc).kpis.iloc[0]
    assert k["time_to_survive_days"] == 3
    assert np.isnan(k["time_to_recover_days"])
    assert k["shortfall"] == pytest.approx(70)


def test_empty_warehouse_orders_from_the_orders_it_receives():
    # The depot starts empty, so it has no shipment history. Day 0: the shop orders its
    # level of 50 and the depot ships nothing. Day 1: the depot's level is 10 days x 50
    # (the mean of the orders it received over 1 day) = 500, ordered from the plant with
    # a 1-day lead time. Day 2: the 500 arrive and the shop's fresh order of 50 ships.
    sc = scenario(
        horizon=4,
        products={"x": {}},
        nodes={
            "plant": {"produces": "x", "capacity": 1000},
            "depot": {"reorder": {"days_of_cover": 10}},
            "shop": {"demand": {"product": "x", "rate": 5}, "reorder": {"level": 50}},
        },
        lanes=[{"from": "plant", "to": "depot", "product": "x", "lead_time": 1},
               {"from": "depot", "to": "shop", "product": "x", "lead_time": 1}],
    )
    res = run(sc)
    assert series(res, "plant", "shipped").loc[1] == pytest.approx(500)
    assert series(res, "depot", "shipped").loc[:1].sum() == 0
    assert series(res, "depot", "shipped").loc[2] == pytest.approx(50)
