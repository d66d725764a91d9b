"""Every shock type on a network small enough to work out by hand.

Each test states its derivation; expected numbers come from it, not from a run.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from helpers import covered_buyer, run, scenario, series


def supplied_buyer(shocks=(), horizon=60, demand=10.0, level=1e4, stock=0.0, lead=5, supplier_stock=1e6,
                   capacity=0.0, price=None, buyer="buyer", buyer_entity=None, owners=None):
    """One supplier (huge stock unless capacity is given) and one buyer with demand."""
    product = {"unit": "t"} if price is None else {"unit": "t", "price": price}
    supplier = {"region": "CN", "inventory": {"x": supplier_stock}}
    if capacity:
        supplier = {"region": "CN", "produces": "x", "capacity": capacity}
    node = {"region": "US", "inventory": {"x": stock}, "demand": {"product": "x", "rate": demand},
            "reorder": {"level": level}}
    if buyer_entity:
        node["entity"] = buyer_entity
    if owners:
        node["owners"] = owners
    return scenario(horizon=horizon, products={"x": product},
                    nodes={"supplier": supplier, buyer: node},
                    lanes=[{"from": "supplier", "to": buyer, "product": "x", "lead_time": lead}],
                    shocks=list(shocks))


# --- export_license ---------------------------------------------------------------

def test_licence_review_adds_exactly_its_days_of_shortfall_at_first():
    # The buyer starts empty and orders its whole level on day 0. Without a licence the
    # goods arrive on day 5 (lead time), so days 0-4 are short; with a 10-day review and
    # approval 1.0 they leave on day 10 and arrive on day 15: exactly 10 more short days.
    free = run(supplied_buyer())
    licensed = run(supplied_buyer([{"type": "export_license", "start": 0, "review_days": 10, "approval_rate": 1.0}]))
    short_free = series(free, "buyer", "shortfall")
    short_lic = series(licensed, "buyer", "shortfall")
    assert (short_free > 0).sum() == 5
    assert (short_lic > 0).sum() == 15
    assert short_lic.sum() - short_free.sum() == pytest.approx(10 * 10)
    assert series(licensed, "supplier", "shipped").loc[10] == pytest.approx(1e4)


def test_half_approval_halves_throughput_over_the_first_review_cycle():
    # A supply-bound lane: the supplier makes 100/day and the buyer wants far more. Every
    # day's output is applied for; decisions fall 20 days later. Over days 20..39 only
    # first-round applications are decided, so expected shipments are 0.5 x 100 x 20 =
    # 1000 (2000 without the licence). Denied goods are re-applied later (after day 40).
    # 300 replications: sd of one replication's total is 100 x sqrt(20 x 0.25) = 224, so
    # the mean's sd is 224 / sqrt(300) = 13; we allow 4 sd.
    sc = supplied_buyer([{"type": "export_license", "start": 0, "review_days": 20, "approval_rate": 0.5}],
                        capacity=100, level=1e9, lead=1, horizon=41).model_copy(update={"replications": 300, "seed": 4})
    ts = sim.run(sc).timeseries
    shipped = ts[(ts.node == "supplier") & (ts.metric == "shipped") & ts.day.between(20, 39)]
    per_rep = shipped.groupby("replication")["value"].sum()
    assert abs(per_rep.mean() - 1000) < 4 * 13
    assert shipped[shipped.day < 20]["value"].sum() == 0


def test_working_day_review_skips_weekends():
    # Day 0 is Wednesday 2025-01-01. Ten working days later is Wednesday 15 January,
    # 14 calendar days on: the day-0 application leaves on day 14.
    res = run(supplied_buyer([{"type": "export_license", "start": 0, "review_days": "10wd"}]))
    shipped = series(res, "supplier", "shipped")
    assert shipped.loc[:13].sum() == 0
    assert shipped.loc[14] == pytest.approx(1e4)


def test_approval_schedule_switches_on_its_day():
    # Approval 0 for the first 30 days after start, then 1. With no review delay every
    # application is decided at once: all denied (and re-applied daily) until day 30,
    # when the buyer's whole level ships.
    res = run(supplied_buyer([{"type": "export_license", "start": 0,
                               "approval_rate": [{"rate": 0.0}, {"after": 30, "rate": 1.0}]}]))
    shipped = series(res, "supplier", "shipped")
    assert shipped.loc[:29].sum() == 0
    assert shipped.loc[30] == pytest.approx(1e4)


def test_quota_caps_approved_units_per_30_day_block():
    # Quota 300 per 30-day block from the start. The buyer asks for 10,000 on day 0: 300
    # leave on day 0, the rest stays with the seller; in the next block another 300.
    res = run(supplied_buyer([{"type": "export_license", "start": 0, "quota": 300}], horizon=90))
    shipped = series(res, "supplier", "shipped")
    assert shipped.loc[0:29].sum() == pytest.approx(300)
    assert shipped.loc[30:59].sum() == pytest.approx(300)
    assert shipped.loc[0] == pytest.approx(300)


def test_licence_fee_is_added_to_the_buyers_cost():
    # price 100 per t, fee 25%: the first shipment of 10,000 t costs 10,000 x 100 x 1.25.
    res = run(supplied_buyer([{"type": "export_license", "start": 0, "fee": 0.25}], price=100))
    assert series(res, "buyer", "cost").loc[0] == pytest.approx(10_000 * 100 * 1.25)


def test_denied_goods_stay_with_the_seller():
    # Approval 0 for the whole run: nothing leaves and the seller keeps all its stock.
    res = run(supplied_buyer([{"type": "export_license", "start": 0, "review_days": 3, "approval_rate": 0.0}]))
    assert series(res, "supplier", "shipped").sum() == 0
    assert series(res, "supplier", "inventory").iloc[-1] == pytest.approx(1e6)


# --- entity_list and suspensions -------------------------------------------------

def owned_buyers(shock):
    """A US supplier selling to a Huawei fab, a HoldCo plant (60% Huawei) and a Sub fab
    (90% HoldCo): Huawei holds 0.6 x 0.9 = 54% of the Sub fab."""
    buyers = {
        "hq": {"entity": "Huawei"},
        "holdco": {"entity": "HoldCo", "owners": {"Huawei": 0.6}},
        "sub": {"entity": "Sub", "owners": {"HoldCo": 0.9}},
    }
    nodes = {"supplier": {"region": "US", "inventory": {"x": 1e6}}}
    for name, extra in buyers.items():
        nodes[name] = {"region": "CN", **extra, "demand": {"product": "x", "rate": 1}, "reorder": {"level": 10}}
    return scenario(horizon=60, products={"x": {}}, nodes=nodes,
                    lanes=[{"from": "supplier", "to": b, "product": "x", "lead_time": 2} for b in buyers],
                    shocks=[shock])


@pytest.mark.parametrize("threshold, covered", [(0.5, {"hq", "holdco", "sub"}), (0.6, {"hq", "holdco"}), (None, {"hq"})])
def test_entity_list_covers_affiliates_by_aggregated_ownership(threshold, covered):
    shock = {"type": "entity_list", "start": 0, "entities": "Huawei"}
    if threshold is not None:
        shock["affiliates"] = threshold
    res = run(owned_buyers(shock))
    for buyer in ("hq", "holdco", "sub"):
        got = series(res, buyer, "received").sum()
        assert bool(got == 0) is (buyer in covered), buyer


def test_suspended_rule_stops_and_resumes():
    # Active from day 10, suspended on days 20..39, resumed from day 40: the Huawei fab
    # receives nothing ordered on days 10-19 or from day 40 on.
    shock = {"type": "entity_list", "start": 10, "entities": "Huawei", "suspended": [{"start": 20, "end": 40}]}
    res = run(owned_buyers(shock))
    ordered = series(res, "supplier", "shipped")
    hq_received = series(res, "hq", "received")
    # lead time 2: shipments leaving on day t arrive on t + 2
    assert hq_received.loc[12:21].sum() == 0
    assert hq_received.loc[22:41].sum() > 0
    assert hq_received.loc[42:].sum() == 0
    assert ordered.loc[20] > 0


# --- announcements ----------------------------------------------------------------

def test_announced_ban_lets_buyers_stock_up():
    # Cover 10 days (level 100 at 10/day) normally; announced on day 5, the buyer covers
    # 60 days until the ban starts on day 30, so on day 29 its position is 600: it then
    # lasts 600 / 10 = 60 days and first falls short on day 90 (survive = 60). Without
    # the announcement it would last 10 days.
    ban = {"type": "export_ban", "start": 30, "announced": 5, "anticipation": {"days_of_cover": 60}}
    sc = covered_buyer([ban])
    assert run(sc).kpis.loc[0, "time_to_survive_days"] == 60
    plain = sc.model_copy(update={"shocks": [sc.shocks[0].model_copy(update={"announced": None, "anticipation": None})]})
    assert run(plain).kpis.loc[0, "time_to_survive_days"] == 10


# --- capacity_loss and demand_change -----------------------------------------------

def test_capacity_loss_with_linear_recovery():
    # 40% of 100/day lost on days 10..19; recovery over 5 days: the loss on day 20 + k is
    # 40 x (1 - k/5), so capacity reads 60, 68, 76, 84, 92 on days 20-24 and 100 from 25.
    sc = scenario(horizon=30, products={"x": {}}, nodes={"plant": {"produces": "x", "capacity": 100}},
                  shocks=[{"type": "capacity_loss", "node": "plant", "start": 10, "end": 20,
                           "fraction": 0.4, "recovery_days": 5}])
    cap = series(run(sc), "plant", "capacity")
    assert (cap.loc[:9] == 100).all()
    assert np.allclose(cap.loc[10:19], 60)
    np.testing.assert_allclose(cap.loc[20:25].to_numpy(), [60, 68, 76, 84, 92, 100])
    # lost output = 40 x 10 + 40 x (1 + .8 + .6 + .4 + .2) = 520
    assert 100 * 30 - series(run(sc), "plant", "produced").sum() == pytest.approx(520)


def test_demand_change_scales_demand_while_active():
    sc = scenario(horizon=30, products={"x": {}},
                  nodes={"city": {"inventory": {"x": 1e6}, "demand": {"product": "x", "rate": 10}}},
                  shocks=[{"type": "demand_change", "node": "city", "start": 10, "end": 20, "multiplier": 1.5}])
    demand = series(run(sc), "city", "demand")
    assert (demand.loc[10:19] == 15).all() and (demand.loc[:9] == 10).all() and (demand.loc[20:] == 10).all()


# --- monotonicity: stricter controls never reduce shortfall -----------------------

def _shortfall(shocks, capacity=30.0):
    sc = scenario(horizon=150, products={"x": {}},
                  nodes={"s": {"region": "CN", "produces": "x", "capacity": capacity},
                         "b": {"region": "US", "inventory": {"x": 200}, "demand": {"product": "x", "rate": 20},
                               "reorder": {"days_of_cover": 15}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 4}], shocks=shocks)
    return float(run(sc).kpis.loc[0, "shortfall"])


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(start=st.integers(0, 60), length=st.integers(1, 60), extra=st.integers(1, 40))
def test_longer_ban_never_reduces_shortfall(start, length, extra):
    short = _shortfall([{"type": "export_ban", "start": start, "end": start + length}])
    long = _shortfall([{"type": "export_ban", "start": start, "end": start + length + extra}])
    assert long >= short - 1e-6


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(review=st.integers(0, 30), extra=st.integers(1, 30), quota=st.floats(50, 2000), cut=st.floats(0.1, 0.9))
def test_slower_review_or_smaller_quota_never_reduces_shortfall(review, extra, quota, cut):
    base = {"type": "export_license", "start": 10, "end": 100, "review_days": review, "quota": quota}
    slower = dict(base, review_days=review + extra)
    tighter = dict(base, quota=quota * cut)
    reference = _shortfall([base])
    assert _shortfall([slower]) >= reference - 1e-6
    assert _shortfall([tighter]) >= reference - 1e-6


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(fraction=st.floats(0.0, 0.9), more=st.floats(0.01, 0.1), recovery=st.integers(0, 30))
def test_deeper_capacity_loss_never_reduces_shortfall(fraction, more, recovery):
    shock = {"type": "capacity_loss", "node": "s", "start": 20, "end": 80, "recovery_days": recovery}
    assert _shortfall([dict(shock, fraction=fraction + more)]) >= _shortfall([dict(shock, fraction=fraction)]) - 1e-6
