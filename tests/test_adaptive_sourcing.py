"""Adaptive sourcing (contract 10.2), leakage as a share of volume (10.4) and precautionary
cover (10.6), on small deterministic networks whose daily paths follow by arithmetic.

Common set-up (``three_suppliers``): buyer ``b`` uses 10 a day (deterministic) from a
large stock and orders up to a fixed level, so every day it re-orders exactly what it used:
10 units, split over its lanes. Suppliers hold a million units; lead times are 2 days.
"""
from __future__ import annotations

import pytest
from helpers import run, scenario, series

from sim.errors import ChipsimUserError


def three_suppliers(shocks, *, adaptive=True, standby_q=5, leakage_lane=None, reorder=None, horizon=60):
    """Lanes a (0.9) and m (0.1) preferred, c a standby lane (share 0) qualified after ``standby_q`` days."""
    rule = {"level": 1000, "sourcing": "adaptive" if adaptive else "fixed"}
    rule.update(reorder or {})
    big = {"inventory": {"x": 1e6}}
    lanes = [{"from": "a", "to": "b", "product": "x", "lead_time": 2, "share": 0.9},
             {"from": "m", "to": "b", "product": "x", "lead_time": 2, "share": 0.1}]
    if standby_q is not None:
        lanes.append({"from": "c", "to": "b", "product": "x", "lead_time": 2, "share": 0,
                      "qualification_days": standby_q})
    return scenario(horizon=horizon, products={"x": {}},
                    nodes={"a": big, "m": big, "c": big,
                           "b": {"inventory": {"x": 1000}, "demand": {"product": "x", "rate": 10}, "reorder": rule}},
                    lanes=lanes, shocks=shocks)


def lane(results, src, metric="flow"):
    return series(results, f"{src}->b", metric)


BAN_A = {"type": "export_ban", "start": 10, "end": 30, "from": "a", "to": "b"}


def test_ban_shifts_orders_to_the_open_lane_then_to_the_qualified_standby():
    # The worked case: ban on the 0.9 lane from S=10 to 30, standby qualified after Q=5.
    # Days 0-9: a 9, m 1, c 0. Days 10-14 (S..S+Q-1): a is blocked (effective share 0), the
    # renormalised shares put all 10 units on m. Days 15-29: the missing 0.9 goes to c: m 1, c 9.
    # From day 30 the ban is over, nothing is missing, so c takes nothing again.
    res = run(three_suppliers([BAN_A]))
    a, m, c = lane(res, "a"), lane(res, "m"), lane(res, "c")
    assert a.loc[0:9].tolist() == pytest.approx([9.0] * 10)
    assert m.loc[0:9].tolist() == pytest.approx([1.0] * 10)
    assert (a.loc[10:29] == 0).all()
    assert m.loc[10:14].tolist() == pytest.approx([10.0] * 5)
    assert c.loc[10:14].sum() == 0
    assert m.loc[15:29].tolist() == pytest.approx([1.0] * 15)
    assert c.loc[15:29].tolist() == pytest.approx([9.0] * 15)
    assert a.loc[30:].tolist() == pytest.approx([9.0] * 30)
    assert c.loc[30:].sum() == 0
    # the effective shares are recorded: m takes everything on days 10-14
    assert lane(res, "m", "lane_share").loc[10:14].tolist() == pytest.approx([1.0] * 5)
    assert lane(res, "c", "lane_share").loc[15:29].tolist() == pytest.approx([0.9] * 15)
    # the standby lane is qualified from d1 + Q = 15 on, and stays so
    qualified = lane(res, "c", "qualified")
    assert qualified.loc[:14].sum() == 0 and (qualified.loc[15:] == 1).all()
    # the buyer never falls short: every day's 10 units arrive two days later
    assert series(res, "b", "shortfall").sum() == 0


def test_fixed_sourcing_ignores_the_standby_lane_and_keeps_asking_the_banned_one():
    # Without `sourcing: adaptive` the shares are fixed: c gets nothing and 90% of each order
    # goes to a and is refused. The refused part is re-ordered, so on ban day k the order q_k
    # follows q_0 = 10, q_{k+1} = q_k + 10 - 0.1 q_k (use 10, only m's tenth ships), i.e.
    # q_k = 100 - 90 x 0.9^k, and m ships 0.1 q_k = 10 - 9 x 0.9^k.
    res = run(three_suppliers([BAN_A], adaptive=False))
    assert lane(res, "m").loc[10:29].tolist() == pytest.approx([10 - 9 * 0.9 ** k for k in range(20)])
    assert lane(res, "c").sum() == 0
    assert "lane_share" not in set(res.timeseries["metric"])


def test_licensed_lane_keeps_share_times_approval_rate_and_standby_fills_the_gap():
    # Licence on a with approval 0.5 (decided on the order day): a's effective share is
    # 0.9 x 0.5 = 0.45, m keeps 0.1, and the standby (Q = 0) takes the missing 0.45.
    lic = {"type": "export_license", "start": 10, "from": "a", "to": "b", "approval_rate": 0.5}
    res = run(three_suppliers([lic], standby_q=0))
    assert lane(res, "a", "lane_share").loc[10:].tolist() == pytest.approx([0.45] * 50)
    assert lane(res, "m", "lane_share").loc[10:].tolist() == pytest.approx([0.1] * 50)
    assert lane(res, "c", "lane_share").loc[10:].tolist() == pytest.approx([0.45] * 50)
    # without a standby lane the two preferred lanes are renormalised: 0.45/0.55 and 0.1/0.55
    res = run(three_suppliers([lic], standby_q=None))
    assert lane(res, "a", "lane_share").loc[10:].tolist() == pytest.approx([0.45 / 0.55] * 50)
    assert lane(res, "m", "lane_share").loc[10:].tolist() == pytest.approx([0.1 / 0.55] * 50)


def test_a_general_licence_restores_the_licensed_lanes_share():
    # Approval 0.5 on a from day 10: a's effective share is 0.45, renormalised with m's 0.1
    # to 0.45/0.55. A general licence on a from day 20 makes approval certain, so a is back
    # to its full 0.9 (and m to 0.1) from day 20.
    lic = {"type": "export_license", "start": 10, "from": "a", "to": "b", "approval_rate": 0.5}
    general = {"type": "general_licence", "start": 20, "from": "a", "to": "b"}
    res = run(three_suppliers([lic, general], standby_q=None))
    share = lane(res, "a", "lane_share")
    assert share.loc[10:19].tolist() == pytest.approx([0.45 / 0.55] * 10)
    assert share.loc[20:].tolist() == pytest.approx([0.9] * 40)


def test_nothing_is_ordered_when_every_lane_is_shut():
    # a and m both banned without leakage and no standby lane: no lane has a share, no order.
    ban = {"type": "export_ban", "start": 10, "end": 30, "to": "b"}
    res = run(three_suppliers([ban], standby_q=None))
    assert lane(res, "a").loc[10:29].sum() == 0 and lane(res, "m").loc[10:29].sum() == 0
    assert lane(res, "a", "lane_share").loc[10:29].sum() == 0
    # day 30 re-orders the 21 days used since the last order (days 10..30): 210 units, 0.9/0.1
    assert lane(res, "a").loc[30] == pytest.approx(189.0)
    assert lane(res, "m").loc[30] == pytest.approx(21.0)


def test_leaky_ban_on_an_adaptive_buyer_asks_share_times_leakage_and_ships_the_cap():
    # Leakage 0.2 on a: effective share 0.9 x 0.2 = 0.18 next to m's 0.1, renormalised to
    # 0.18/0.28 and 0.1/0.28; what a ships is capped at 0.2 x (10 a day x 0.9) = 1.8 a day.
    ban = dict(BAN_A, leakage=0.2)
    res = run(three_suppliers([ban], standby_q=None))
    assert lane(res, "a", "lane_share").loc[10:29].tolist() == pytest.approx([0.18 / 0.28] * 20)
    assert lane(res, "a").loc[10:29].tolist() == pytest.approx([1.8] * 20)


def test_zero_share_lane_is_allowed_without_adaptive_and_all_zero_is_an_error():
    three_suppliers([], adaptive=False)  # no error: a share-0 lane simply takes no orders
    sc = scenario(horizon=5, products={"x": {}},
                  nodes={"a": {"inventory": {"x": 10}}, "b": {"demand": {"product": "x", "rate": 1},
                                                             "reorder": {"days_of_cover": 2}}},
                  lanes=[{"from": "a", "to": "b", "product": "x", "share": 0}])
    with pytest.raises(ChipsimUserError, match="share 0"):
        run(sc)


# --- 10.4 leakage as a share of the lane's normal volume -----------------------------

def leaky_buyer(leakage, shares=(1.0,), cover=90, licence=None, price=None):
    """Buyer b uses 100 a day, holds ``cover`` days and is fed by one lane per share; every
    lane is banned from day 5 on with ``leakage`` (and, given ``licence``, licensed too)."""
    nodes = {f"s{k}": {"inventory": {"x": 1e7}} for k in range(len(shares))}
    nodes["b"] = {"inventory": {"x": 100 * cover}, "demand": {"product": "x", "rate": 100},
                  "reorder": {"days_of_cover": cover}}
    lanes = [{"from": f"s{k}", "to": "b", "product": "x", "lead_time": 3, "share": s} for k, s in enumerate(shares)]
    ban = {"type": "export_ban", "start": 5, "to": "b", "leakage": leakage}
    shocks = [ban] + ([{"type": "export_license", "start": 5, "to": "b", **licence}] if licence else [])
    return scenario(horizon=60, products={"x": {} if price is None else {"price": price}}, nodes=nodes, lanes=lanes,
                    shocks=shocks)


@pytest.mark.parametrize("cover", [30, 90, 120])
def test_leakage_lets_through_that_share_of_the_normal_daily_volume_whatever_the_cover(cover):
    # 0.05 x 100 a day = 5 units a day leave on every ban day, however large the buyer's gap.
    res = run(leaky_buyer(0.05, cover=cover))
    assert series(res, "s0", "shipped").loc[5:].tolist() == pytest.approx([5.0] * 55)


def test_leakage_cap_splits_by_the_lanes_fixed_shares():
    # shares 3:1 normalise to 0.75 and 0.25: caps 0.1 x 100 x 0.75 = 7.5 and 2.5 a day
    res = run(leaky_buyer(0.1, shares=(3, 1)))
    assert series(res, "s0", "shipped").loc[5:].tolist() == pytest.approx([7.5] * 55)
    assert series(res, "s1", "shipped").loc[5:].tolist() == pytest.approx([2.5] * 55)


def test_the_leaked_part_ships_outside_a_licence_on_the_same_lane():
    # Contract 10.4: "the leaked part ships as a normal shipment (lead time, shipped, cost
    # without fee)". The lane also carries a licence (fee 50%, review 10 days), price 10.
    # From day 5 the ban lets 0.05 x 100 = 5 a day through: they leave that day (no review:
    # shipped 5 on day 5, arriving day 8 after the 3-day lead time), cost 5 x 10 = 50 each
    # day with no fee, and nothing waits at the seller.
    sc = leaky_buyer(0.05, licence={"review_days": 10, "fee": 0.5}, price=10.0)
    res = run(sc)
    assert series(res, "s0", "shipped").loc[5:].tolist() == pytest.approx([5.0] * 55)
    assert series(res, "b", "received").loc[8:].tolist() == pytest.approx([5.0] * 52)
    assert series(res, "b", "cost").loc[5:].tolist() == pytest.approx([50.0] * 55)
    assert series(res, "s0->b", "fee", "x").sum() == 0.0


def test_warehouse_leakage_uses_its_mean_shipments_before_the_ban():
    # Warehouse w ships 10 a day to d (which re-orders its daily use from a 1000-unit level)
    # and restocks from s. Its mean shipments over days 10-39 are 10 a day, so a ban on s->w
    # from day 40 with leakage 0.5 lets 5 a day through.
    sc = scenario(horizon=70, products={"x": {}},
                  nodes={"s": {"inventory": {"x": 1e6}},
                         "w": {"inventory": {"x": 100}, "reorder": {"days_of_cover": 20}},
                         "d": {"inventory": {"x": 1000}, "demand": {"product": "x", "rate": 10},
                               "reorder": {"level": 1000}}},
                  lanes=[{"from": "s", "to": "w", "product": "x", "lead_time": 2},
                         {"from": "w", "to": "d", "product": "x", "lead_time": 1}],
                  shocks=[{"type": "export_ban", "start": 40, "from": "s", "to": "w", "leakage": 0.5}])
    res = run(sc)
    assert series(res, "w", "shipped").loc[0:39].tolist() == pytest.approx([10.0] * 40)
    assert series(res, "s", "shipped").loc[40:].tolist() == pytest.approx([5.0] * 30)


# --- 10.6 precautionary cover ---------------------------------------------------------

def hoarder(precaution, shocks):
    """Buyer b uses 10 a day, covers 10 days (level 100 on the position) from s over 2 days."""
    rule = {"days_of_cover": 10}
    if precaution is not None:
        rule["precaution"] = precaution
    return scenario(horizon=100, products={"x": {}},
                    nodes={"s": {"inventory": {"x": 1e6}},
                           "b": {"inventory": {"x": 100}, "demand": {"product": "x", "rate": 10}, "reorder": rule}},
                    lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2}], shocks=shocks)


ANNOUNCED_BAN = {"type": "export_ban", "announced": 10, "start": 20, "end": 40, "to": "b"}


def test_precaution_raises_cover_from_announcement_to_end_plus_relax_days():
    # Cover 30 days on days 10 <= d < 40 + 20 = 60. In steady state b re-orders its 10 a day.
    # Day 10: the position after the day's demand is 100 - 10 = 90, the level 300: 210 ship.
    # Days 11-19: 10 a day. Days 20-39: banned. Day 40: 20 days of use (200) have left the
    # position, so it is 300 - 200 - 10 = 90 again: 210 ship, then 10 a day to day 59.
    # Day 60: the level falls back to 100 while the position is 290; it falls 10 a day and
    # reaches 90 on day 80, the first order after the precaution (10 units).
    res = run(hoarder({"days_of_cover": 30, "relax_days": 20}, [ANNOUNCED_BAN]))
    shipped = series(res, "s", "shipped")
    assert shipped.loc[0:9].tolist() == pytest.approx([10.0] * 10)
    assert shipped.loc[10] == pytest.approx(210.0)
    assert shipped.loc[11:19].tolist() == pytest.approx([10.0] * 9)
    assert shipped.loc[20:39].sum() == 0
    assert shipped.loc[40] == pytest.approx(210.0)
    assert shipped.loc[41:59].tolist() == pytest.approx([10.0] * 19)
    assert shipped.loc[60:79].sum() == 0
    assert shipped.loc[80] == pytest.approx(10.0)


def test_precaution_without_announcement_starts_with_the_control_and_smaller_cover_changes_nothing():
    ban = {"type": "export_ban", "start": 20, "end": 30, "to": "b"}
    shipped = series(run(hoarder({"days_of_cover": 30}, [ban])), "s", "shipped")
    # no announcement: the level rises on the ban's first day, when nothing can ship
    assert shipped.loc[0:19].tolist() == pytest.approx([10.0] * 20)
    assert shipped.loc[20:29].sum() == 0
    # Stock: 80 on hand and 20 in transit at the end of day 19; the two arrivals and 8 more
    # days of use leave 0 at the end of day 29. Day 30 (relax 0: the precaution ended with
    # the ban) is back to 10 days of cover: the position is 0 (the day's demand is lost),
    # so 100 - 0 = 100 ship.
    assert shipped.loc[30] == pytest.approx(100.0)
    # a precaution below the normal cover never applies (the larger of the two governs)
    base = series(run(hoarder(None, [ban])), "s", "shipped")
    small = series(run(hoarder({"days_of_cover": 5, "relax_days": 30}, [ban])), "s", "shipped")
    assert small.tolist() == pytest.approx(base.tolist())


def test_precaution_ignores_controls_on_other_buyers_lanes():
    other = {"type": "export_ban", "announced": 10, "start": 20, "end": 40, "to": "nobody"}
    sc = hoarder({"days_of_cover": 30, "relax_days": 20}, [])
    sc = scenario(horizon=100, products={"x": {}},
                  nodes={**{k: v.model_dump(by_alias=True, exclude_none=True) for k, v in sc.nodes.items()},
                         "nobody": {"reorder": {"days_of_cover": 1}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2},
                         {"from": "s", "to": "nobody", "product": "x", "lead_time": 2}],
                  shocks=[other])
    assert series(run(sc), "b", "received").loc[2:].tolist() == pytest.approx([10.0] * 98)


# --- bad input is a positioned problem --------------------------------------------------

BAD = """\
name: t
horizon: 5
products: {x: {}}
nodes:
  a: {inventory: {x: 1}}
  b:
    demand: {product: x, rate: 1}
    reorder: {days_of_cover: 2, sourcing: adaptiv, precaution: {days_of_cover: -1}}
lanes:
  - {from: a, to: b, product: x, share: 0, qualification_days: -2}
"""


def test_bad_adaptive_keys_are_positioned_problems(tmp_path):
    from sim import ScenarioError, load_scenario

    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = {(p.line, p.message.split(":")[0]) for p in info.value.problems}
    # line 8 holds the reorder rule, line 10 the lane (1-based)
    assert (8, "nodes.b.reorder.sourcing") in found
    assert (8, "nodes.b.reorder.precaution.days_of_cover") in found
    assert (10, "lanes[0].qualification_days") in found


def test_all_zero_shares_are_a_positioned_problem(tmp_path):
    from sim import ScenarioError, load_scenario

    path = tmp_path / "zero.yaml"
    path.write_text(BAD.replace("sourcing: adaptiv, precaution: {days_of_cover: -1}", "sourcing: adaptive")
                    .replace(", qualification_days: -2", ""), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.line == 10 and "share 0" in problem.message
