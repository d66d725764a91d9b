"""`general_licence` (contract section 10.5) on networks small enough to follow by hand.

"While active, shipments on matched lanes that an export_license covers are approved with
certainty on the day they are ordered, with no review (the licence's approval_rate does
not apply); fee and quota still apply. Shipments already under review when it starts
are approved that day."

The network of most tests: seller `s` holds a million t; buyer `b` opens with 100 t,
uses 10 t a day (deterministic) and orders up to a level of 100 t on its position
(on hand + in transit + awaiting a licence) over a 3-day lane; price 10 per t. So in
steady state it orders 10 t a day, and without any licence each day's 10 t arrive
3 days later. Expected numbers come from the comments, never from a run.
"""
from __future__ import annotations

import numpy as np
import pytest

from helpers import run, scenario, series, write_file
from sim import ScenarioError, load_scenario

LEAD, PRICE = 3, 10.0
# an export licence that never approves anything on its own
DENY = {"type": "export_license", "start": 0, "review_days": 20, "approval_rate": 0.0}


def buyer(shocks=(), policies=(), horizon=60, buyers=("b",), opening=100.0, seller_stock=1e6):
    """Seller `s` (CN) and demand buyers (US) as described in the module doc."""
    nodes: dict = {"s": {"region": "CN", "inventory": {"x": seller_stock}}}
    for name in buyers:
        nodes[name] = {"region": "US", "inventory": {"x": opening}, "demand": {"product": "x", "rate": 10},
                       "reorder": {"level": 100}}
    return scenario(horizon=horizon, products={"x": {"unit": "t", "price": PRICE}}, nodes=nodes,
                    lanes=[{"from": "s", "to": name, "product": "x", "lead_time": LEAD} for name in buyers],
                    shocks=list(shocks), policies=list(policies))


def daily(res, node, metric):
    """Replication 0's values of one metric at one node, by day."""
    return series(res, node, metric)


def every(values, expected: float) -> bool:
    """Whether every day of ``values`` equals ``expected`` (to 1e-9)."""
    return len(values) > 0 and bool(np.allclose(values.to_numpy(float), expected, rtol=0, atol=1e-9))


# --- starting during a licence regime -----------------------------------------------------

@pytest.mark.parametrize("where", ["policies", "shocks"])
def test_general_licence_from_day_s_approves_pending_and_new_shipments(where):
    # DENY (approval 0, review 20, fee 50%) from day 0; a general licence from S = 10.
    # Days 0-9: b's stock falls 90, 80, ..., 0; each day it applies for the 10 t it used,
    # which wait for day 20+ and would be denied: nothing ships before S.
    # Day 10 (S): the ten pending applications (100 t) are approved at step 5a and leave;
    # the buyer pays 100 x 10 x 1.5 = 1,500; they arrive on day 13. b has no stock on
    # days 10-12: 10 t short each day (30 t). Its position is 100 again, so it orders
    # nothing until the arrival. From day 13 it orders 10 t a day, approved on the order
    # day (no review): 10 t leave every day, cost 10 x 10 x 1.5 = 150, arriving 3 days on.
    gl = {"type": "general_licence", "start": 10}
    res = run(buyer(shocks=[dict(DENY, fee=0.5)] + ([gl] if where == "shocks" else []),
                    policies=[gl] if where == "policies" else []))
    shipped, cost = daily(res, "s", "shipped"), daily(res, "b", "cost")
    received, short = daily(res, "b", "received"), daily(res, "b", "shortfall")
    assert shipped.loc[0:9].sum() == 0
    assert shipped.loc[10] == pytest.approx(100) and cost.loc[10] == pytest.approx(1500)
    assert shipped.loc[11:12].sum() == 0
    assert every(shipped.loc[13:], 10)
    assert every(cost.loc[13:], 150)
    assert received.loc[13] == pytest.approx(100)
    assert every(received.loc[16:], 10)
    assert short.sum() == pytest.approx(30) and every(short.loc[10:12], 10)


def test_without_the_general_licence_nothing_ever_ships():
    # The control of the test above: approval 0 and no general licence.
    res = run(buyer(shocks=[DENY]))
    assert daily(res, "s", "shipped").sum() == 0


def test_pending_applications_are_approved_before_the_day_allocates():
    # Seller with only 200 t; b's lane under DENY, c's lane free. Days 0-9: c is sent
    # 10 t a day (100 t) and b applies for 10 t a day (100 t locked at the seller): the
    # seller has 100 t left, all locked. A general licence on b from day 10: at step 5a
    # of day 10 b's 100 t are approved and leave (arriving day 13); the seller is empty
    # when c's 10 t order is allocated, so c gets nothing that day or after. (Were the
    # pending applications merely decided as usual, they would be denied and b's re-order
    # would share the freed 100 t with c's: 100 x 100/110 to b.)
    res = run(buyer(shocks=[dict(DENY, to="b")], policies=[{"type": "general_licence", "start": 10, "to": "b"}],
                    buyers=("b", "c"), seller_stock=200))
    assert daily(res, "b", "received").loc[13] == pytest.approx(100)
    assert daily(res, "b", "received").sum() == pytest.approx(100)
    assert every(daily(res, "c", "received").loc[3:12], 10)
    assert daily(res, "c", "received").loc[13:].sum() == 0


# --- starting before, ending during, starting after -----------------------------------------

def test_general_licence_before_the_regime_lets_it_start_without_review():
    # General licence from day 0 (a policy's default start); DENY with fee 20% from day 5.
    # Days 0-4: no licence; b orders 10 t a day, shipped at once, cost 10 x 10 = 100.
    # From day 5 the regime covers the lane, but under the general licence each day's
    # 10 t are approved on the order day: shipped every day, cost 10 x 10 x 1.2 = 120.
    # b is never short.
    res = run(buyer(shocks=[dict(DENY, start=5, fee=0.2)], policies=[{"type": "general_licence"}]))
    shipped, cost = daily(res, "s", "shipped"), daily(res, "b", "cost")
    assert every(shipped, 10)
    assert every(cost.loc[0:4], 100)
    assert every(cost.loc[5:], 120)
    assert daily(res, "b", "shortfall").sum() == 0


def test_regime_resumes_its_review_when_the_general_licence_ends():
    # General licence on days 0-19, DENY (review 5) throughout. Days 0-19: 10 t leave a
    # day. From day 20 every application is reviewed and denied: nothing ships again.
    # b's stock: 70 t on hand and 30 t in transit from day 2 on. The last shipments (days
    # 17-19) arrive on days 20-22, keeping 70 t; then it falls 10 a day: 60 on day 23, ...,
    # 0 on day 29. First short day: 30.
    res = run(buyer(shocks=[dict(DENY, review_days=5)], policies=[{"type": "general_licence", "end": 20}]))
    shipped, short = daily(res, "s", "shipped"), daily(res, "b", "shortfall")
    assert every(shipped.loc[0:19], 10)
    assert shipped.loc[20:].sum() == 0
    assert short.loc[:29].sum() == 0 and short.loc[30] == pytest.approx(10)
    assert daily(res, "b", "inventory").loc[22] == pytest.approx(70)


def test_general_licence_after_the_regime_ended_changes_nothing():
    # DENY (review 30) on days 0-9: applications of days 0-9 (100 t) wait; when the
    # regime ends on day 10 they leave at once, without fee: 100 t shipped on day 10 at
    # cost 100 x 10 = 1,000. A general licence from day 20 finds no licensed lane: the
    # run is the same as without it.
    regime = dict(DENY, review_days=30, end=10, fee=0.5)
    with_gl = run(buyer(shocks=[regime], policies=[{"type": "general_licence", "start": 20}]))
    without = run(buyer(shocks=[regime]))
    assert daily(with_gl, "s", "shipped").loc[10] == pytest.approx(100)
    assert daily(with_gl, "b", "cost").loc[10] == pytest.approx(1000)
    for node, metric in (("s", "shipped"), ("b", "received"), ("b", "cost"), ("b", "shortfall")):
        assert daily(with_gl, node, metric).equals(daily(without, node, metric)), (node, metric)


def test_two_overlapping_general_licences_act_as_their_union():
    # General licences on days 0-29 and 20-49 over DENY (review 5): the lane is free of
    # review on days 0-49; it ships 10 t every day until day 49, nothing from day 50.
    res = run(buyer(shocks=[dict(DENY, review_days=5)],
                    policies=[{"type": "general_licence", "end": 30}, {"type": "general_licence", "start": 20, "end": 50}]))
    shipped = daily(res, "s", "shipped")
    assert every(shipped.loc[0:49], 10)
    assert shipped.loc[50:].sum() == 0


# --- several licences, quota, lanes no licence covers ----------------------------------------

def test_the_governing_licence_keeps_its_fee_under_a_general_licence():
    # Two regimes on the lane: A (fee 50%, days 0-19) governs first, then B (fee 20%,
    # from day 0, governing from day 20). A general licence from day 0: every day's 10 t
    # leave on the order day, costing 10 x 10 x 1.5 = 150 under A, 120 under B.
    res = run(buyer(shocks=[dict(DENY, fee=0.5, end=20), dict(DENY, review_days=40, fee=0.2)],
                    policies=[{"type": "general_licence"}]))
    cost = daily(res, "b", "cost")
    assert every(daily(res, "s", "shipped"), 10)
    assert every(cost.loc[0:19], 150)
    assert every(cost.loc[20:], 120)


def test_quota_still_caps_under_a_general_licence():
    # DENY with quota 50 per 30 days (blocks 0-29, 30-59, ...) and fee 50%; a general
    # licence from day 10. Day 10: the pending 100 t (ten applications of 10 t, one lane,
    # decided in order) are approved but only 50 t fit the quota: 50 leave (cost
    # 50 x 10 x 1.5 = 750, arriving day 13), 50 stay with the seller. b re-orders the 50
    # the same day and every day after, approved but over quota until block 1: the next
    # 50 t leave on day 30, then day 60.
    res = run(buyer(shocks=[dict(DENY, quota=50, fee=0.5)], policies=[{"type": "general_licence", "start": 10}],
                    horizon=70))
    shipped = daily(res, "s", "shipped")
    assert shipped.loc[10] == pytest.approx(50)
    assert daily(res, "b", "cost").loc[10] == pytest.approx(750)
    assert shipped.loc[11:29].sum() == 0 and shipped.loc[31:59].sum() == 0
    assert shipped.loc[30] == pytest.approx(50) and shipped.loc[60] == pytest.approx(50)
    assert daily(res, "b", "received").loc[13] == pytest.approx(50)


def test_denied_applications_take_no_share_of_a_quota():
    # One regime (approval 0, no review, quota 50) covers a and b, which open with no
    # stock; a general licence only on b. Day 0: both ask 100. a's application is denied
    # (approval 0), b's approved with certainty. b alone shares the quota: 50 leave
    # (arriving day 3). Had a's denied 100 counted, b would get 50 x 100/200 = 25. b's
    # re-orders are over quota until block 1: it gets 50 more on day 30 (arriving 33).
    res = run(buyer(shocks=[{"type": "export_license", "start": 0, "approval_rate": 0.0, "quota": 50}],
                    policies=[{"type": "general_licence", "to": "b"}], buyers=("a", "b"), opening=0))
    received = daily(res, "b", "received")
    assert daily(res, "a", "received").sum() == 0
    assert received.loc[3] == pytest.approx(50) and received.loc[33] == pytest.approx(50)
    assert received.sum() == pytest.approx(100)


def test_lanes_no_export_licence_covers_are_unaffected():
    # DENY covers only the lane to a; the general licence only the lane to b. b ships
    # 10 t a day as without any licence; a never gets anything.
    res = run(buyer(shocks=[dict(DENY, to="a")], policies=[{"type": "general_licence", "to": "b"}], buyers=("a", "b")))
    assert every(daily(res, "s", "shipped"), 10)
    assert daily(res, "a", "received").sum() == 0
    assert daily(res, "b", "shortfall").sum() == 0


# --- bad input: one positioned problem each ----------------------------------------------------

# line 15 is `policies:` for a policy, a comment for a shock (the item then continues the
# shocks list, as shocks[1]); the general licence item starts on line 16, column 5
BAD = """\
name: general licence, bad
horizon: 30
products:
  x: {unit: t}
nodes:
  s: {region: CN, inventory: {x: 100}}
  b:
    region: US
    demand: {product: x, rate: 1}
    reorder: {level: 10}
lanes:
  - {from: s, to: b, product: x, lead_time: 2}
shocks:
  - {type: export_license, start: 0}
{kind}
  - type: general_licence
    start: 5
    {line}
"""
HEAD = {"policies": "policies:", "shocks": "# the general licence as a shock"}


def bad_file(folder, kind: str, line: str = ""):
    text = BAD.replace("{kind}", HEAD[kind]).replace("{line}", line)
    return write_file(folder, f"{kind}.yaml", text)


@pytest.mark.parametrize("kind, line, at, token, fragments", [
    ("policies", "approval_rate: 1", (18, 5), "approval_rate", ["policies[0]", "unknown key 'approval_rate'"]),
    ("shocks", "review_days: 0", (18, 5), "review_days", ["shocks[1]", "unknown key 'review_days'"]),
    ("policies", "form: s", (18, 5), "form", ["unknown key 'form'", "did you mean 'from'"]),
    ("policies", "to: bb", (18, 9), "bb", ["policies[0].to", "unknown node 'bb'", "did you mean 'b'"]),
    ("shocks", "product: y", (18, 14), "y", ["shocks[1].product", "unknown product 'y'"]),
    ("shocks", "to: {region: JP}", (18, 9), "{region: JP}", ["shocks[1].to", "no node matches region 'JP'"]),
    # b ships nothing, so no lane leaves it: reported at the item
    ("policies", "from: b", (16, 5), "type: general_licence", ["policies[0] (general_licence): matches no lane"]),
    ("shocks", "from: b", (16, 5), "type: general_licence", ["shocks[1] (general_licence): matches no lane"]),
])
def test_wrong_fields_of_a_general_licence_are_reported_with_their_position(in_tmp, kind, line, at, token, fragments):
    path = bad_file(in_tmp, kind, line)
    assert path.read_text().splitlines()[at[0] - 1][at[1] - 1:].startswith(token)  # the expectation itself
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert (problems[0].line, problems[0].col) == at
    for fragment in fragments:
        assert fragment in problems[0].message


def test_a_general_licence_shock_needs_a_start_but_a_policy_does_not(in_tmp):
    # without `start: 5` (line 17): a shock reports the missing key at its item (16, 5)
    for kind in HEAD:
        path = write_file(in_tmp, f"{kind}.yaml", BAD.replace("{kind}", HEAD[kind]).replace("    start: 5\n    {line}\n", ""))
        if kind == "shocks":
            with pytest.raises(ScenarioError) as info:
                load_scenario(path)
            assert [(p.line, p.col) for p in info.value.problems] == [(16, 5)]
            assert "missing required key 'start'" in info.value.problems[0].message
        else:
            sc = load_scenario(path)
            assert sc.policies[0].type == "general_licence" and sc.policies[0].start == 0
