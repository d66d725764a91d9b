"""Speculative traders (docs/markets.md, section 9) on a network small enough to work out by hand.

The market: a source ``src`` making 20 t a day loses 75% on days 0-39 and feeds one market
buyer of 10 t a day (elasticity -0.5, window 10, lead 1): as in tests/test_markets.py the
supply ratio is 0.5 on days 0-40 and 1 from day 41, so the buyer's multiplier is
M_d = (1 - 0.05 d)^-2 for d <= 10, M = 4 on days 10-41, M_(41+j) = (0.5 + 0.05 j)^-2 for
j = 0..10 and 1 from day 51. The trader ``tr`` (a warehouse with level 0) buys from an
ample source ``big`` over a 1-day lane and sells to ``user``, who holds 100 t, uses 1 t a
day and orders up to a fixed 200 t, so it always asks the trader for more than it has.

The rule: H_d = S x N x min(1, max(0, r_d^k - 1)) with N = 10 (the buyer's rate), r_d =
M_d (or M_d / M_(d-T) with ``momentum_days: T``); the trader holds back min(H_d, its
stock) and orders up to H_d on its stock and pipeline.
"""
from __future__ import annotations

import pytest

import sim
from helpers import run, scenario, series, write_file


def traders(speculation: dict | None, loss: bool = True, horizon: int = 70):
    """The network of the module doc; ``speculation`` is the trader's block (None: a plain
    warehouse with the same level 0); ``loss``: the source's 75% loss on days 0-39."""
    reorder: dict = {"policy": "base_stock", "level": 0}
    if speculation is not None:
        reorder["speculation"] = {"market": "buyer", **speculation}
    shocks = [{"type": "capacity_loss", "node": "src", "fraction": 0.75, "start": 0, "end": 40, "recovery_days": 0}]
    return scenario(
        horizon=horizon,
        products={"g": {"unit": "t", "price": 100, "market": {"elasticity": -0.5, "window_days": 10}}},
        nodes={"src": {"region": "CN", "produces": "g", "capacity": 20},
               "big": {"region": "CN", "produces": "g", "capacity": 1000},
               "buyer": {"region": "EU", "demand": {"product": "g", "rate": 10}, "inventory": {"g": 5 if loss else 20},
                         "reorder": {"policy": "base_stock", "days_of_cover": 10}},
               "tr": {"region": "EU", "reorder": reorder},
               "user": {"region": "EU", "demand": {"product": "g", "rate": 1}, "inventory": {"g": 100},
                        "reorder": {"policy": "base_stock", "level": 200}}},
        lanes=[{"from": "src", "to": "buyer", "product": "g", "lead_time": 1},
               {"from": "big", "to": "tr", "product": "g", "lead_time": 1},
               {"from": "tr", "to": "user", "product": "g", "lead_time": 1}],
        shocks=shocks if loss else [],
    )


def M(d: int) -> float:
    """The buyer's multiplier on day d (module doc)."""
    if d <= 10:
        return (1 - 0.05 * d) ** -2
    if d <= 41:
        return 4.0
    if d <= 51:
        return (0.5 + 0.05 * (d - 41)) ** -2
    return 1.0


def test_the_market_is_the_one_worked_out_by_hand():
    res = run(traders({"days_of_cover": 2, "exponent": 1}))
    m = series(res, "buyer", "price_multiplier", "g")
    assert m.to_numpy() == pytest.approx([M(d) for d in range(70)], rel=1e-12)


def hold(d: int, k: float, S: float = 2.0, T: int | None = None) -> float:
    """H_d of the rule for the buyer's multiplier M (N = 10 t a day)."""
    r = M(d) / (M(d - T) if T is not None and d >= T else 1.0)
    rise = r ** k - 1 if r > 1 else 0.0
    return S * 10 * min(1.0, rise)


def test_a_constant_multiplier_gives_a_known_hold():
    # S = 2, k = 0.25: on days 10-41 (M = 4) H = 2 x 10 x (4^0.25 - 1) = 20 (sqrt 2 - 1)
    # = 8.28 t, below the cap S x N = 20. Each day the trader orders up to H_d; what
    # arrives (the next day) it holds, since its stock never exceeds the H of the day
    # while H rises, so the user gets nothing. Stock at the end of day d is H_(d-1).
    res = run(traders({"days_of_cover": 2, "exponent": 0.25}))
    stock = series(res, "tr", "inventory", "g")
    for d in range(1, 11):
        assert stock.loc[d] == pytest.approx(20 * ((1 - 0.05 * (d - 1)) ** -0.5 - 1), rel=1e-12)
    assert stock.loc[11:41].to_numpy() == pytest.approx(20 * (2 ** 0.5 - 1), rel=1e-12)
    assert series(res, "user", "received", "g").loc[:42].to_numpy() == pytest.approx(0.0, abs=1e-12)


def test_the_hold_is_at_most_s_days_of_the_markets_demand():
    # k = 2: M^2 - 1 reaches 1 once M >= 2^0.5, i.e. (1 - 0.05 d)^-2 >= 2^0.5, from day 4
    # (d >= 20 (1 - 2^-0.25) = 3.18): from then on H = S x N = 20, not 20 x (4^2 - 1) = 300
    res = run(traders({"days_of_cover": 2, "exponent": 2}))
    stock = series(res, "tr", "inventory", "g")
    assert stock.loc[4] == pytest.approx(20 * ((1 - 0.05 * 3) ** -4 - 1), rel=1e-12)  # day 3's H, below the cap
    assert stock.loc[5:41].to_numpy() == pytest.approx(20.0, rel=1e-12)


def test_the_unwinding_returns_the_hold_to_users_as_it_falls():
    # From day 42 the multiplier falls: H_d = 20 (M_d^0.25 - 1) < H_(d-1). The trader
    # keeps H_d and sells the rest to the user (who asks for more than 100 t): it ships
    # H_(d-1) - H_d on day d, received the next day (day 42: 20 (2^0.5 - 0.55^-0.5) =
    # 1.316 t). On day 51 M = 1 and H = 0: all 8.28 t are back with the user, and the
    # trader, at level 0, buys nothing more.
    res = run(traders({"days_of_cover": 2, "exponent": 0.25}))
    stock = series(res, "tr", "inventory", "g")
    received = series(res, "user", "received", "g")
    for d in range(42, 52):
        assert stock.loc[d] == pytest.approx(hold(d, 0.25), abs=1e-9)
        assert received.loc[d + 1] == pytest.approx(hold(d - 1, 0.25) - hold(d, 0.25), rel=1e-9)
    assert received.loc[43] == pytest.approx(20 * (2 ** 0.5 - 0.55 ** -0.5), rel=1e-12)
    assert received.loc[43:52].sum() == pytest.approx(20 * (2 ** 0.5 - 1), rel=1e-12)
    assert stock.loc[51:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert series(res, "big", "shipped", "g").loc[42:].sum() == pytest.approx(0.0, abs=1e-12)


def test_momentum_holds_while_the_price_rises_and_sells_t_days_after_it_stops():
    # momentum_days T = 5, k = 0.5: r_d = M_d / M_(d-5) (M = 1 before day 0). On days
    # 10-15, M_d = 4 and M_(d-5) = (1 - 0.05 (d - 5))^-2, so r^0.5 = 2 (1 - 0.05 (d - 5))
    # = 1.5, 1.4, 1.3, 1.2, 1.1, 1.0 and H = 20 (r^0.5 - 1) = 10, 8, 6, 4, 2, 0: the hold
    # peaks on day 10 and falls by 2 t a day, so the user receives 2 t on each of days
    # 12-16, and from day 15 the trader holds nothing although the price is still 4 x base.
    res = run(traders({"days_of_cover": 2, "exponent": 0.5, "momentum_days": 5}))
    stock = series(res, "tr", "inventory", "g")
    received = series(res, "user", "received", "g")
    assert [hold(d, 0.5, T=5) for d in range(10, 16)] == pytest.approx([10, 8, 6, 4, 2, 0])
    assert received.loc[:11].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert received.loc[12:16].to_numpy() == pytest.approx(2.0, rel=1e-9)
    for d in range(11, 15):
        assert stock.loc[d] == pytest.approx(10 - 2 * (d - 10), rel=1e-9)
    assert stock.loc[15:41].to_numpy() == pytest.approx(0.0, abs=1e-9)


def test_without_scarcity_a_speculating_trader_is_a_plain_warehouse():
    # the source never loses output and the buyer opens with 20 t (two days): M = 1 every
    # day, so H = 0 and the trader (level 0) neither holds nor buys: every series equals
    # the run without `speculation`
    plain = run(traders(None, loss=False)).timeseries
    spec = run(traders({"days_of_cover": 2, "exponent": 3, "momentum_days": 4}, loss=False)).timeseries
    assert (series(run(traders({"days_of_cover": 2, "exponent": 3}, loss=False)), "buyer", "price_multiplier", "g")
            == 1.0).all()
    assert spec["value"].to_numpy() == pytest.approx(plain["value"].to_numpy(), abs=0.0)


def test_same_seed_same_holds():
    a = run(traders({"days_of_cover": 2, "exponent": 1.5, "momentum_days": 7})).timeseries
    b = run(traders({"days_of_cover": 2, "exponent": 1.5, "momentum_days": 7})).timeseries
    assert a["value"].tolist() == b["value"].tolist()


# --- the schema ---------------------------------------------------------------------

BASE = """\
name: t
horizon: 10
products:
  g: {unit: t, price: 10, market: {elasticity: -0.5}}
  h: {unit: t}
nodes:
  src: {region: CN, produces: g, capacity: 10}
  buyer: {region: EU, demand: {product: g, rate: 1}}
  plain: {region: EU, demand: {product: h, rate: 1}}
  tr: {region: EU, reorder: {level: 0, speculation: SPEC}}
lanes:
  - {from: src, to: tr, product: g, lead_time: 1}
  - {from: tr, to: buyer, product: g, lead_time: 1}
"""


@pytest.mark.parametrize("spec, words", [
    ("{market: buyer, days_of_cover: 0, exponent: 1}", "must be > 0"),
    ("{market: buyer, days_of_cover: 5, exponent: 0}", "must be > 0 and <= 100, got 0"),
    ("{market: buyer, days_of_cover: 5, exponent: -1}", "must be > 0 and <= 100, got -1"),
    ("{market: buyer, days_of_cover: 5, exponent: 1, momentum_days: 0}", "must be >= 1"),
    ("{market: buyer, days_of_cover: 5, exponent: 1, momentum_days: 2.5}", "integer"),
    ("{market: buyer, days_of_cover: 5}", "exponent"),
    ("{market: buyer, days_of_cover: 5, exponent: 1, trend: 3}", "trend"),
    ("{market: buyr, days_of_cover: 5, exponent: 1}", "unknown node 'buyr' (did you mean 'buyer'?)"),
    ("{market: src, days_of_cover: 5, exponent: 1}", "'src' is not a plain demand node"),
    ("{market: plain, days_of_cover: 5, exponent: 1}", "'plain' demands 'h', which has no `market`"),
])
def test_speculation_fields_are_validated_with_a_position(tmp_path, spec, words):
    text = BASE.replace("SPEC", spec)
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "s.yaml", text))
    (problem,) = info.value.problems
    assert problem.line == 10 and words in problem.message, problem


def test_a_trader_must_buy_the_markets_product(tmp_path):
    text = BASE.replace("SPEC", "{market: buyer, days_of_cover: 5, exponent: 1}").replace(
        "  - {from: src, to: tr, product: g, lead_time: 1}\n", "")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "s.yaml", text))
    (problem,) = [p for p in info.value.problems if "buys no" in p.message]  # besides: tr ships g it never holds
    assert problem.line == 10 and "'tr' buys no 'g'" in problem.message


def test_speculation_is_for_a_warehouse(tmp_path):
    text = BASE.replace("SPEC", "{market: buyer, days_of_cover: 5, exponent: 1}").replace(
        "tr: {region: EU, reorder:", "tr: {region: EU, produces: g, capacity: 1, reorder:")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "s.yaml", text))
    (problem,) = info.value.problems
    assert "a warehouse node" in problem.message


def test_a_valid_speculation_loads(tmp_path):
    text = BASE.replace("SPEC", "{market: buyer, days_of_cover: 5, exponent: 1.5, momentum_days: 90}")
    rule = sim.load_scenario(write_file(tmp_path, "s.yaml", text)).nodes["tr"].reorder.speculation
    assert (rule.market, rule.days_of_cover, rule.exponent, rule.momentum_days) == ("buyer", 5, 1.5, 90)
