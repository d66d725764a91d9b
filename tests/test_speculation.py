"""Speculative traders (docs/markets.md, section 9) on a network small enough to work out by hand.

The market: a source ``src`` making 20 t a day loses 75% on days 0-39 and feeds one market
buyer of 10 t a day (elasticity -0.5, window 10, lead 1): as in tests/test_markets.py the
supply ratio is 0.5 on days 0-40 and 1 from day 41, so the buyer's multiplier is
M_d = (1 - 0.05 d)^-2 for d <= 10, M = 4 on days 10-41, M_(41+j) = (0.5 + 0.05 j)^-2 for
j = 0..10 and 1 from day 51. The trader ``tr`` (a warehouse with level 0) buys from an
ample source ``big`` over a 1-day lane and sells to ``user``, who holds 100 t, uses 1 t a
day and orders up to a fixed 200 t, so it always asks the trader for more than it has.

The rule: H_d = S x N x max(0, r_d^k - 1) with N = 10 (the buyer's rate), r_d = M_d (or
M_d / M_(d-T) with ``momentum_days: T``); the trader holds back min(H_d, its stock) and
orders up to H_d on its stock and pipeline.
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


def test_a_constant_multiplier_gives_a_known_hold():
    # S = 2, k = 1: H_d = 2 x 10 x (M_d - 1). H rises on days 0-10 and is 20 x 3 = 60 on
    # days 10-41. Each day the trader orders up to H_d; what arrives (the next day) it
    # holds, since its stock never exceeds the H of the day, so the user gets nothing.
    # Stock at the end of day d is H_(d-1) while H rises: 60 from day 11 to day 41.
    res = run(traders({"days_of_cover": 2, "exponent": 1}))
    stock = series(res, "tr", "inventory", "g")
    for d in range(1, 11):
        assert stock.loc[d] == pytest.approx(20 * (M(d - 1) - 1), rel=1e-12)
    assert stock.loc[11:41].to_numpy() == pytest.approx(60.0, rel=1e-12)
    assert series(res, "user", "received", "g").loc[:42].to_numpy() == pytest.approx(0.0, abs=1e-12)


def test_the_unwinding_returns_the_hold_to_users_as_it_falls():
    # From day 42 the multiplier falls: H_d = 20 (M_d - 1) < H_(d-1). The trader keeps
    # H_d and sells the rest to the user (who asks for more than 100 t): it ships
    # H_(d-1) - H_d on day d, received the next day (day 42: 60 - 20 (0.55^-2 - 1) =
    # 13.88). On day 51 M = 1, H = 0: the last 20 (0.95^-2 - 1) = 2.16 t go, 60 in all,
    # and the trader, at level 0, buys nothing more.
    res = run(traders({"days_of_cover": 2, "exponent": 1}))
    stock = series(res, "tr", "inventory", "g")
    received = series(res, "user", "received", "g")
    hold = {d: 20 * (M(d) - 1) for d in range(41, 52)}
    for d in range(42, 52):
        assert stock.loc[d] == pytest.approx(hold[d], abs=1e-9)
        assert received.loc[d + 1] == pytest.approx(hold[d - 1] - hold[d], rel=1e-9)
    assert received.loc[43] == pytest.approx(60 - 20 * (0.55 ** -2 - 1), rel=1e-12)
    assert received.loc[43:52].sum() == pytest.approx(60.0, rel=1e-12)
    assert stock.loc[51:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert series(res, "big", "shipped", "g").loc[42:].sum() == pytest.approx(0.0, abs=1e-12)


def test_momentum_holds_while_the_price_rises_and_sells_t_days_after_it_stops():
    # momentum_days T = 5: r_d = M_d / M_(d-5) (M = 1 before day 0). The hold peaks on
    # day 10, M_10 / M_5 = 4 / 0.75^-2 = 2.25, H = 20 x 1.25 = 25, then falls as M_(d-5)
    # rises towards 4 (day 11: r = 4 x 0.7^2 = 1.96, H = 19.2) and is 0 from day 15, when
    # M has been 4 for T days. So the user receives 25 - 19.2 = 5.8 on day 12, and the
    # trader holds nothing from day 15 on although the price is still 4 times the base.
    res = run(traders({"days_of_cover": 2, "exponent": 1, "momentum_days": 5}))
    stock = series(res, "tr", "inventory", "g")
    received = series(res, "user", "received", "g")

    def H(d):
        r = M(d) / (M(d - 5) if d >= 5 else 1.0)
        return 20 * (r - 1) if r > 1 else 0.0
    assert H(10) == pytest.approx(25.0) and H(11) == pytest.approx(19.2)
    assert received.loc[:11].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert received.loc[12] == pytest.approx(25.0 - 19.2, rel=1e-9)
    for d in range(11, 15):
        assert stock.loc[d] == pytest.approx(H(d), rel=1e-9)
    assert stock.loc[15:41].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert received.loc[12:16].sum() == pytest.approx(25.0, rel=1e-9)


def test_the_exponent_raises_the_hold_as_a_power_of_the_signal():
    # k = 2 on days 10-41: H = 2 x 10 x (4^2 - 1) = 300
    res = run(traders({"days_of_cover": 2, "exponent": 2}))
    assert series(res, "tr", "inventory", "g").loc[11:41].to_numpy() == pytest.approx(300.0, rel=1e-12)


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
    ("{market: buyer, days_of_cover: 0, exponent: 1}", "greater than 0"),
    ("{market: buyer, days_of_cover: 5, exponent: 0}", "greater than 0"),
    ("{market: buyer, days_of_cover: 5, exponent: -1}", "greater than 0"),
    ("{market: buyer, days_of_cover: 5, exponent: 1, momentum_days: 0}", "greater than or equal to 1"),
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
