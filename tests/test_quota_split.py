"""One licence quota shared by several lanes (contract section 8, issue 14).

"Shipments decided on the same day under one quota share what is left of it pro rata to
their quantities (no lane is served first)." Every network here is deterministic: buyers
are warehouses that order up to a fixed `level` (no demand), sellers hold a million units,
lead times are fixed. Each test derives the daily path by hand in its comments.
"""
from __future__ import annotations

import pytest

from helpers import run, scenario, series

LEAD = 2


def shared_quota(levels: dict[str, float], licence: dict, two_sellers: bool = False, price: float | None = None):
    """Buyers (warehouses ordering up to ``levels``) fed by seller ``s`` (or, with
    ``two_sellers``, buyer k by seller ``s<k>``), every lane under ``licence``."""
    nodes: dict = {}
    lanes = []
    for k, (buyer, level) in enumerate(levels.items()):
        seller = f"s{k}" if two_sellers else "s"
        nodes[seller] = {"region": "CN", "inventory": {"x": 1e6}}
        nodes[buyer] = {"region": "US", "reorder": {"level": level}}
        lanes.append({"from": seller, "to": buyer, "product": "x", "lead_time": LEAD})
    product = {"unit": "t"} if price is None else {"unit": "t", "price": price}
    return scenario(horizon=100, products={"x": product}, nodes=nodes, lanes=lanes,
                    shocks=[{"type": "export_license", "start": 0, "from": {"region": "CN"}, **licence}])


def shipped_total(res, sellers):
    """Units leaving all ``sellers`` per day."""
    return sum(series(res, s, "shipped") for s in sellers)


@pytest.mark.parametrize("two_sellers", [False, True], ids=["one seller", "two sellers"])
def test_two_buyers_decided_the_same_day_share_the_quota_pro_rata(two_sellers):
    # review 0: every application is decided on its order day. Day 0: a asks 60, b asks
    # 40, both approved; the quota has 50 left of 100 asked, so a gets 50 x 60/100 = 30 and
    # b gets 50 x 40/100 = 20 (first come, first served would give a 50 and b 0). They
    # arrive on day 2. The 30 and 20 over quota stay with the seller; a and b ask for them
    # again every day, but block 0 (days 0-29) is used up: nothing more leaves until day
    # 30, when block 1 refills with 50 and the asks (30 + 20 = 50) fit: both leave whole
    # and arrive on day 32.
    res = run(shared_quota({"a": 60, "b": 40}, {"quota": 50}, two_sellers))
    a, b = series(res, "a", "received"), series(res, "b", "received")
    assert a.loc[2] == pytest.approx(30) and b.loc[2] == pytest.approx(20)
    assert a.loc[32] == pytest.approx(30) and b.loc[32] == pytest.approx(20)
    assert a.sum() == pytest.approx(60) and b.sum() == pytest.approx(40)
    sellers = ["s0", "s1"] if two_sellers else ["s"]
    out = shipped_total(res, sellers)
    assert out.loc[0] == pytest.approx(50) and out.loc[30] == pytest.approx(50)
    assert out.sum() == pytest.approx(100)


def test_each_refilled_block_is_shared_pro_rata_again():
    # levels 120 and 80, quota 50, review 0. Every block is oversubscribed until the asks
    # fit: block 0 (day 0) asks 120 + 80 -> 50 x 120/200 = 30 and 20; block 1 (day 30)
    # asks 90 + 60 -> 30 and 20; block 2 (day 60) 60 + 40 -> 30 and 20; block 3 (day 90)
    # 30 + 20 = 50 fits -> 30 and 20. Each arrives two days later; nothing else leaves.
    res = run(shared_quota({"a": 120, "b": 80}, {"quota": 50}))
    a, b = series(res, "a", "received"), series(res, "b", "received")
    for day in (2, 32, 62, 92):
        assert a.loc[day] == pytest.approx(30), day
        assert b.loc[day] == pytest.approx(20), day
    assert a.sum() == pytest.approx(120) and b.sum() == pytest.approx(80)
    out = series(res, "s", "shipped")
    assert set(out[out > 0].index) == {0, 30, 60, 90}


def test_decisions_due_after_review_share_the_quota_too():
    # review 5 days. Day 0: a applies for 60, b for 40; both are decided at step 5a of
    # day 5: 30 and 20 leave (arrive day 7), 30 and 20 stay with the seller. The buyers
    # apply again on day 5 (after the decisions), decided on day 10: block 0 is used up,
    # so nothing is approved; again on days 10, 15, 20 and 25. The day-25 applications
    # are decided on day 30, in block 1: 30 + 20 fit and leave (arrive day 32).
    res = run(shared_quota({"a": 60, "b": 40}, {"quota": 50, "review_days": 5}))
    a, b = series(res, "a", "received"), series(res, "b", "received")
    assert a.loc[7] == pytest.approx(30) and b.loc[7] == pytest.approx(20)
    assert a.loc[32] == pytest.approx(30) and b.loc[32] == pytest.approx(20)
    out = series(res, "s", "shipped")
    assert set(out[out > 0].index) == {5, 30}


def test_one_buyer_alone_fills_the_quota_first_come_first_served():
    # One lane: the rule is unchanged. Day 0: a asks 60, 50 leave (the whole quota); the
    # 10 over quota wait for block 1: they leave on day 30.
    res = run(shared_quota({"a": 60}, {"quota": 50}))
    out = series(res, "s", "shipped")
    assert out.loc[0] == pytest.approx(50)
    assert out.loc[1:29].sum() == 0
    assert out.loc[30] == pytest.approx(10)
    assert out.sum() == pytest.approx(60)


def test_fee_is_charged_on_the_approved_share():
    # price 100, fee 10%: on day 0 a pays 30 x 100 x 1.1 = 3,300 and b 20 x 100 x 1.1 = 2,200.
    res = run(shared_quota({"a": 60, "b": 40}, {"quota": 50, "fee": 0.1}, price=100))
    assert series(res, "a", "cost").loc[0] == pytest.approx(3300)
    assert series(res, "b", "cost").loc[0] == pytest.approx(2200)


def test_a_decision_after_review_and_a_general_licence_decision_of_one_day_share_the_quota():
    # One licence (quota 65 per 30 days, review 5) on both lanes; a general licence on the
    # lane to kr. Day 0: jp (order-up-to 60) applies for 60, decided after review on day 5.
    # kr holds 100 against a level of 100 and has no demand before day 5 (x0), so it first
    # orders on day 5: its 10 t of demand that day, approved that day by the general
    # licence. Both are decided on day 5 under one quota: 60 + 10 = 70 asked, 65 left, so
    # pro rata jp 65 x 60/70 = 55.714 and kr 65 x 10/70 = 9.286 (not jp 60 first, kr 5).
    sc = scenario(
        horizon=20, products={"w": {"unit": "kg"}},
        nodes={"cn": {"region": "CN", "inventory": {"w": 1e6}},
               "jp": {"region": "JP", "reorder": {"level": 60}},
               "kr": {"region": "KR", "demand": {"product": "w", "rate": 10}, "inventory": {"w": 100},
                      "reorder": {"level": 100}}},
        lanes=[{"from": "cn", "to": "jp", "product": "w", "lead_time": LEAD},
               {"from": "cn", "to": "kr", "product": "w", "lead_time": LEAD}],
        shocks=[{"type": "export_license", "start": 0, "from": "cn", "review_days": 5, "quota": 65},
                {"type": "demand_change", "node": "kr", "multiplier": 0, "start": 0, "end": 5}],
        policies=[{"type": "general_licence", "start": 0, "from": "cn", "to": "kr"}])
    res = run(sc)
    jp, kr = series(res, "jp", "received"), series(res, "kr", "received")
    assert jp.loc[5 + LEAD] == pytest.approx(65 * 60 / 70)
    assert kr.loc[5 + LEAD] == pytest.approx(65 * 10 / 70)
    assert series(res, "cn", "shipped").loc[:19].sum() == pytest.approx(65)   # block 0 holds 65 only


def test_a_licence_deciding_after_review_is_not_held_back_by_another_licence_that_waits():
    # Two licences with a shared quota decide on day 5. The first (lanes to jp and kr, a
    # general licence on kr) waits for the end of the day, as above; the second (seller s2
    # to w1 and w2, review 5, quota 100, no general licence) decides at once: w1 and w2
    # each applied for their level of 20 on day 0, 40 fits in 100, so both leave on day 5
    # and arrive on day 5 + LEAD.
    sc = scenario(
        horizon=20, products={"w": {"unit": "kg"}},
        nodes={"cn": {"region": "CN", "inventory": {"w": 1e6}},
               "jp": {"region": "JP", "reorder": {"level": 60}},
               "kr": {"region": "KR", "demand": {"product": "w", "rate": 10}, "inventory": {"w": 100},
                      "reorder": {"level": 100}},
               "s2": {"region": "VN", "inventory": {"w": 1e6}},
               "w1": {"region": "US", "reorder": {"level": 20}},
               "w2": {"region": "EU", "reorder": {"level": 20}}},
        lanes=[{"from": "cn", "to": "jp", "product": "w", "lead_time": LEAD},
               {"from": "cn", "to": "kr", "product": "w", "lead_time": LEAD},
               {"from": "s2", "to": "w1", "product": "w", "lead_time": LEAD},
               {"from": "s2", "to": "w2", "product": "w", "lead_time": LEAD}],
        shocks=[{"type": "export_license", "start": 0, "from": "cn", "review_days": 5, "quota": 65},
                {"type": "export_license", "start": 0, "from": "s2", "review_days": 5, "quota": 100},
                {"type": "demand_change", "node": "kr", "multiplier": 0, "start": 0, "end": 5}],
        policies=[{"type": "general_licence", "start": 0, "from": "cn", "to": "kr"}])
    res = run(sc)
    for w in ("w1", "w2"):
        assert series(res, w, "received").loc[5 + LEAD] == pytest.approx(20)
    assert series(res, "jp", "received").loc[5 + LEAD] == pytest.approx(65 * 60 / 70)
