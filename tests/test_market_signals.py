"""The opt-in market extensions of docs/markets.md sections 7-8, on networks small enough to
work out by hand: ``signal: orders`` (the supply ratio also counts what the buyer's orders
obtained against what they asked for) and ``thrift`` (a lasting share of destroyed demand).

Every expected number is derived in the comments from the rules of docs/markets.md:
  shelves F_d = mean over the window of min(1, free stock / notional), as in section 1;
  orders O_d = min(1, sum of obtained / sum of new asks) over the window (1 with no asks),
  new ask = today's orders - min(today's orders, yesterday's unfilled part);
  f_d = (1 - w) F_d + w min(F_d, O_d), M_d = clip(f_d ** (1/e), 1, cap);
  thrift: L_d = max(share (1 - M_d ** e), L_(d-1) - share / recovery_days, 0),
  demand at price = notional x min((M_d (1 + fee)) ** e, 1 - L_d).
"""
from __future__ import annotations

import numpy as np
import pytest

import sim
from helpers import run, scenario, series, write_file


def buyer_net(market: dict, *, capacity: float = 100.0, stock: float = 200.0, cover: int = 20, shocks=(),
              precaution: dict | None = None, horizon: int = 60, poisson: bool = False):
    """A source making ``capacity`` a day for one market buyer of 10 a day (base price 100, lead 1)."""
    reorder: dict = {"policy": "base_stock", "days_of_cover": cover}
    if precaution is not None:
        reorder["precaution"] = precaution
    return scenario(
        horizon=horizon,
        products={"g": {"unit": "t", "price": 100, "market": market}},
        nodes={"src": {"region": "CN", "produces": "g", "capacity": capacity},
               "buyer": {"region": "EU", "inventory": {"g": stock}, "reorder": reorder,
                         "demand": {"product": "g", "rate": 10,
                                    "distribution": "poisson" if poisson else "deterministic"}}},
        lanes=[{"from": "src", "to": "buyer", "product": "g", "lead_time": 1}],
        shocks=list(shocks),
    )


def buyer(res, metric: str):
    return series(res, "buyer", metric, "g")


ORDERS = {"elasticity": -1.0, "max_multiplier": 10, "window_days": 10, "signal": "orders"}


# --- the order signal: licence review raises the price before the shelves empty ------

def _review_path(weight: float) -> list[float]:
    """The multipliers of days 20-29 of the licence case below, from the rule (e = -1, W = 10).

    Before day 20 every order of 10 ships the day it is placed: asks = obtained = 10 a day.
    From day 20 every order waits 30 days in review: it is asked (the buyer orders what it
    used, D_k, since review keeps it in its pipeline) and obtains nothing until day 50. The
    shelves (200 t) cover every day's demand: F = 1. So on day d (21 <= d <= 30)
    O_d = 10 n / (10 n + sum of D_k, k = 20 .. d-1), n = 30 - d the days before 20 in the
    window, f_d = 1 - w + w O_d, M_d = 1 / f_d and D_d = 10 / M_d."""
    asks, mult = [10.0] * 20, []
    for d in range(20, 30):
        window = asks[d - 10:d]
        got = 10.0 * sum(1 for k in range(d - 10, d) if k < 20)
        o = min(1.0, got / sum(window))
        m = 1.0 / (1.0 - weight + weight * o)
        mult.append(m)
        asks.append(10.0 / m)  # D_d, the order of day d
    return mult


@pytest.mark.parametrize("weight", [1.0, 0.5])
def test_orders_in_licence_review_raise_the_price_before_the_shelves_empty(weight):
    review = {"type": "export_license", "start": 20, "from": "src", "review_days": 30, "approval_rate": 1}
    res = run(buyer_net({**ORDERS, "signal_weight": weight}, shocks=[review]))
    m = buyer(res, "price_multiplier").to_numpy()
    assert (m[:21] == 1.0).all()  # day 20's own order enters the window of day 21
    # day 21: O = 90 / 100, f = 1 - w + 0.9 w: M = 1/0.9 = 1.111 (w = 1), 1/0.95 (w = 0.5)
    assert m[21] == pytest.approx(1.0 / (1.0 - 0.1 * weight), rel=1e-12)
    # day 22 (w = 1): asks 8 x 10 + 10 + 9 = 99, obtained 80: M = 99/80
    if weight == 1.0:
        assert m[22] == pytest.approx(99 / 80, rel=1e-12)
    assert m[20:30] == pytest.approx(_review_path(weight), rel=1e-9)
    assert (buyer(res, "shortfall").loc[:35] == 0.0).all()  # the shelves never ran short
    assert (buyer(res, "inventory").loc[:35] > 10.0).all()


def test_without_the_order_signal_the_same_buyer_sees_no_price_rise():
    # The shelves-only rule of section 1: the buyer's 200 t cover every day up to day 35.
    review = {"type": "export_license", "start": 20, "from": "src", "review_days": 30, "approval_rate": 1}
    market = {k: v for k, v in ORDERS.items() if k != "signal"}
    res = run(buyer_net(market, shocks=[review]))
    assert (buyer(res, "price_multiplier").loc[:35] == 1.0).all()


# --- hoarding against a quota bids the price up --------------------------------------

def test_a_buyer_that_hoards_against_a_quota_bids_the_price_up():
    # A quota of 60 per 30 days from day 0 on the only lane (no review: decided at once),
    # the buyer opens with 100 t (10 days). Its precaution (20 days) applies from day 0, as
    # the licence is active: level 200. Day 0: it uses 10, position 90, orders 110; the
    # quota approves 60 and 50 stays with the seller (unfilled). Day 1: O = 60/110, F = 1,
    # M = 110/60 = 1.833 (e = -1, w = 1); it uses 10/M = 5.4545, the 60 arrive, position
    # 144.5455, it orders 55.4545 of which 50 re-asks day 0's unfilled part: a new ask of
    # 5.4545, refused (quota spent). Day 2: O = 60 / 115.4545, M = 115.4545/60.
    quota = {"type": "export_license", "start": 0, "from": "src", "quota": 60}
    hoarder = run(buyer_net(ORDERS, stock=100, cover=10, shocks=[quota],
                            precaution={"days_of_cover": 20}, horizon=20))
    m = buyer(hoarder, "price_multiplier")
    assert m.loc[0] == 1.0
    assert m.loc[1] == pytest.approx(110 / 60, rel=1e-12)
    assert m.loc[2] == pytest.approx((110 + 10 / (110 / 60)) / 60, rel=1e-12)
    # The same buyer without the precaution orders 10 a day: days 0-5 fill the quota of 60,
    # day 6's order is refused, so its price first rises on day 7: O = 60/70, M = 7/6.
    plain = run(buyer_net(ORDERS, stock=100, cover=10, shocks=[quota], horizon=20))
    p = buyer(plain, "price_multiplier")
    assert (p.loc[:6] == 1.0).all()
    assert p.loc[7] == pytest.approx(7 / 6, rel=1e-12)


def test_hoarding_with_ample_supply_leaves_the_price_at_base():
    # Property 1 with signal: orders: an ample source fills the hoarder's big order on the
    # day it is placed, so every ask is obtained: O = 1, M = 1 (an announced ban that never
    # starts within the run sets off the precaution from day 5).
    ban = {"type": "export_ban", "announced": 5, "start": 100, "from": "src"}
    res = run(buyer_net(ORDERS, stock=100, cover=10, shocks=[ban], precaution={"days_of_cover": 40}))
    assert (buyer(res, "price_multiplier") == 1.0).all()
    assert buyer(res, "received").loc[6] > 300.0  # it did hoard: day 5's order of 310 arrived


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_poisson_demand_without_scarcity_keeps_the_base_price(seed):
    # Orders vary with the draws, but each ships in full the day it is placed: asks equal
    # obtained, and the shelves cover each day's draw (stock 200, source 100 a day).
    sc = buyer_net({**ORDERS, "thrift": {"share": 1.0, "recovery_days": 30}}, poisson=True, horizon=120)
    res = sim.run(sc, seed=seed)
    assert (buyer(res, "price_multiplier") == 1.0).all()
    assert (buyer(res, "price") == 100.0).all()
    np.testing.assert_allclose(buyer(res, "delivered"), buyer(res, "demand"))


def test_under_a_capacity_limit_the_order_signal_leaves_the_steady_state_of_property_2():
    # Source 5 a day, buyer 10 a day, lead 1, e = -0.5, window 10. In a capacity shortage
    # the unfilled part of each order is re-asked the next day and not counted again, so
    # once the first day's big order has left the window the asks equal what is obtained
    # (5 a day): O = 1, f = F, and the steady state is the shelves' one, M = 0.5 ** -2 = 4,
    # delivered 5, shortfall 0, 5 destroyed (derivation: docs/markets.md, section 7).
    market = {"elasticity": -0.5, "max_multiplier": 10, "window_days": 10, "signal": "orders"}
    res = run(buyer_net(market, capacity=5, stock=5, cover=10, horizon=150))
    m = buyer(res, "price_multiplier")
    assert m.loc[1] == 10.0  # day 1: O = 5/100: 0.05 ** -2 = 400, capped at 10
    assert m.loc[100:].to_numpy() == pytest.approx(4.0, rel=1e-9)
    assert buyer(res, "delivered").loc[100:].to_numpy() == pytest.approx(5.0, rel=1e-9)
    assert buyer(res, "shortfall").loc[100:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert buyer(res, "demand_destroyed").loc[100:].to_numpy() == pytest.approx(5.0, rel=1e-9)


def test_the_order_signal_recovers_within_the_window_after_review_ends():
    # Property 3: a licence with 30 days of review from day 20 to day 40 (applications
    # under review when it ends are still decided on their day: the last on day 69). From
    # day 70 every order ships the day it is placed, so from day 80 the window holds only
    # such days (asks = obtained, or more obtained than asked): O = 1 and, the shelves
    # having covered every day, M = 1.
    review = {"type": "export_license", "start": 20, "end": 40, "from": "src", "review_days": 30, "approval_rate": 1}
    res = run(buyer_net(ORDERS, shocks=[review], horizon=120))
    m = buyer(res, "price_multiplier")
    assert m.loc[30] > 1.5
    assert (m.loc[80:] == 1.0).all()


# --- thrift: part of the destroyed demand returns slowly -----------------------------

def test_thrift_keeps_demand_down_after_the_multiplier_returns():
    # Source 20 a day losing 75% until day 40 (5 a day), buyer 10 a day, e = -0.5, window 10
    # (the recovery example of docs/markets.md, section 3): M = 4 on days 10-41, then it
    # falls and is 1 from day 51. Thrift share 0.6, recovery 100 days: while M = 4 the
    # lasting cut is 0.6 x (1 - 4 ** -0.5) = 0.3, less than the price's cut (0.5), so the
    # steady state of property 2 is unchanged (delivered 5, shortfall 0). From day 42 the
    # price's cut falls by 0.03 a day and the lasting cut by 0.6/100 = 0.006 a day only:
    # L_d = 0.3 - 0.006 (d - 41) until day 91, 0 after. With M = 1 (day 51 on) the buyer
    # takes 10 x (1 - L_d): day 60: 10 x (0.7 + 0.006 x 19) = 8.14, 1.86 destroyed.
    loss = {"type": "capacity_loss", "node": "src", "fraction": 0.75, "start": 0, "end": 40}
    market = {"elasticity": -0.5, "max_multiplier": 10, "window_days": 10,
              "thrift": {"share": 0.6, "recovery_days": 100}}
    res = run(buyer_net(market, capacity=20, stock=5, cover=10, shocks=[loss], horizon=120))
    m = buyer(res, "price_multiplier")
    assert m.loc[10:41].to_numpy() == pytest.approx(4.0, rel=1e-12)
    assert buyer(res, "delivered").loc[10:40].to_numpy() == pytest.approx(5.0, rel=1e-12)
    assert buyer(res, "shortfall").loc[10:40].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert (m.loc[51:] == 1.0).all()  # property 3: the multiplier is back within the window
    days = np.arange(51, 92)
    expected = 10.0 * (0.7 + 0.006 * (days - 41))
    assert buyer(res, "delivered").loc[51:91].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert buyer(res, "demand_destroyed").loc[60] == pytest.approx(1.86, rel=1e-9)
    assert buyer(res, "delivered").loc[92:].to_numpy() == pytest.approx(10.0, rel=1e-12)
    assert buyer(res, "shortfall").loc[51:].to_numpy() == pytest.approx(0.0, abs=1e-9)


def test_thrift_does_not_touch_a_fee():
    # Property 4 with thrift: the lasting cut follows the scarcity multiplier only, so a
    # 25% fee with ample supply and e = -1 still cuts demand to 0.8 of notional, every day.
    fee = {"type": "export_license", "start": 0, "from": "src", "fee": 0.25}
    market = {"elasticity": -1.0, "max_multiplier": 10, "window_days": 10,
              "thrift": {"share": 1.0, "recovery_days": 10}}
    res = run(buyer_net(market, shocks=[fee]))
    assert buyer(res, "delivered").to_numpy() == pytest.approx(8.0, rel=1e-12)
    assert buyer(res, "price").to_numpy() == pytest.approx(125.0, rel=1e-12)


def test_a_file_without_the_extensions_runs_as_before():
    # The keys are opt-in: writing the defaults' meaning out changes nothing.
    market = {"elasticity": -0.5, "max_multiplier": 10, "window_days": 10}
    loss = {"type": "capacity_loss", "node": "src", "fraction": 0.75, "start": 0, "end": 40}
    a = run(buyer_net(market, capacity=20, stock=5, cover=10, shocks=[loss]))
    b = run(buyer_net({**market, "signal": "shelves"}, capacity=20, stock=5, cover=10, shocks=[loss]))
    assert a.timeseries["value"].equals(b.timeseries["value"])


# --- the schema rejects bad values with a position and a clear message ----------------

BASE = """name: m
horizon: 10
products:
  g: {unit: t, price: 10, market: {elasticity: -0.5}}
nodes:
  a: {region: CN, produces: g, capacity: 1}
  b: {region: EU, demand: {product: g, rate: 1}}
lanes:
  - {from: a, to: b, product: g}
"""


@pytest.mark.parametrize("market, words", [
    ("{elasticity: -1, signal: prices}", "'shelves' or 'orders'"),
    ("{elasticity: -1, signal: orders, signal_weight: 0}", "must be > 0 and <= 1, got 0"),
    ("{elasticity: -1, signal: orders, signal_weight: 1.5}", "must be > 0 and <= 1, got 1.5"),
    ("{elasticity: -1, signal_weight: 0.5}", "needs `signal: orders`"),
    ("{elasticity: -1, thrift: {share: 0, recovery_days: 10}}", "must be > 0 and <= 1, got 0"),
    ("{elasticity: -1, thrift: {share: 1.2, recovery_days: 10}}", "must be > 0 and <= 1, got 1.2"),
    ("{elasticity: -1, thrift: {share: 0.5, recovery_days: 0}}", "must be >= 1 and <= 100000, got 0"),
    ("{elasticity: -1, thrift: {share: 0.5, recovery_days: 2.5}}", "integer"),
    ("{elasticity: -1, thrift: {share: 0.5}}", "recovery_days"),
    ("{elasticity: -1, thrift: {share: 0.5, recovery_days: 9, speed: 2}}", "speed"),
])
def test_bad_extension_values_are_rejected_with_a_position(tmp_path, market, words):
    text = BASE.replace("market: {elasticity: -0.5}", f"market: {market}")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "m.yaml", text))
    (problem,) = info.value.problems
    assert problem.line >= 3 and words in problem.message, problem.message


def test_the_extensions_are_refused_at_a_compute_node(tmp_path):
    text = BASE.replace("  g: {unit: t, price: 10, market: {elasticity: -0.5}}",
                        "  g: {unit: t, price: 10, market: {elasticity: -0.5}}\n"
                        "  c: {unit: chip, tflops: 2, price: 1, market: {elasticity: -1, signal: orders}}")
    text = text.replace("lanes:", "  dc: {region: US, demand: {product: [c], measure: tflops, rate: 4}}\nlanes:")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "m.yaml", text))
    assert any("not supported" in p.message and "compute demand" in p.message for p in info.value.problems)
