"""``cover: at_price`` (docs/markets.md, section 10): a market buyer's base-stock cover counts
the use it keeps at today's price, notional x (M_d (1 + fee_d))^e (with ``thrift`` the lower
of that and 1 - L_d), instead of its notional use.

The case, worked by hand: a source with ample capacity, one lane (lead 1 day) under a licence
with a 25% fee and no review, a buyer of 10 t a day with elasticity -1, 20 days of cover and
200 t on hand. Supply is ample, so M = 1 and the buyer takes 10 x 1.25^-1 = 8 t a day.
- notional cover: the order-up-to level is 20 x 10 = 200 t. The buyer orders what it used
  (8 t) each day, 8 t are always on the way, so it holds 200 - 8 = 192 t at the end of a day;
- at_price: the level is 20 x 8 = 160 t. It orders nothing while its 200 t fall by 8 t a
  day, until its stock is under 160 t, then 8 t a day: it holds 160 - 8 = 152 t.
Demand, delivered and the price are the same in both (the fee cuts demand by 1.25^-1).
"""
from __future__ import annotations

import pytest

import sim
from helpers import run, scenario, series, write_file


def fee_buyer(cover: str | None, thrift: dict | None = None):
    market: dict = {"elasticity": -1.0, "max_multiplier": 10, "window_days": 10}
    if cover is not None:
        market["cover"] = cover
    if thrift is not None:
        market["thrift"] = thrift
    return scenario(
        horizon=60,
        products={"g": {"unit": "t", "price": 100, "market": market}},
        nodes={"src": {"region": "CN", "produces": "g", "capacity": 100},
               "buyer": {"region": "EU", "inventory": {"g": 200},
                         "reorder": {"policy": "base_stock", "days_of_cover": 20},
                         "demand": {"product": "g", "rate": 10}}},
        lanes=[{"from": "src", "to": "buyer", "product": "g", "lead_time": 1}],
        shocks=[{"type": "export_license", "name": "fee", "start": 0, "product": "g", "from": "src",
                 "to": "buyer", "fee": 0.25}],
    )


def test_at_price_cover_holds_cover_of_the_use_kept_at_the_fee_inclusive_price():
    notional, at_price = run(fee_buyer(None)), run(fee_buyer("at_price"))
    for res in (notional, at_price):
        assert series(res, "buyer", "delivered", "g").iloc[30:].to_numpy() == pytest.approx(8.0)
        assert series(res, "buyer", "price_multiplier", "g").to_numpy() == pytest.approx(1.0)
    assert series(notional, "buyer", "inventory", "g").iloc[30:].to_numpy() == pytest.approx(192.0)
    assert series(at_price, "buyer", "inventory", "g").iloc[30:].to_numpy() == pytest.approx(152.0)
    # the 40 t it does not restock are the orders it skipped while its stock fell to the level
    shipped = {k: series(r, "src", "shipped", "g").sum() for k, r in (("n", notional), ("p", at_price))}
    assert shipped["n"] - shipped["p"] == pytest.approx(40.0)


def test_notional_is_the_default_and_runs_as_before():
    # Property 1 of the extension: `cover: notional` is the run without the key, bit for bit
    a, b = run(fee_buyer(None)), run(fee_buyer("notional"))
    assert a.timeseries["value"].to_numpy().tolist() == b.timeseries["value"].to_numpy().tolist()


def test_with_thrift_the_cover_counts_the_lower_of_the_two_cuts():
    # M = 1 all run, so the lasting cut L stays 0 (it follows the scarcity multiplier, not the
    # fee) and 1 - L = 1 > 0.8: the fee's cut is the lower, and the level is 20 x 8 = 160 t again
    res = run(fee_buyer("at_price", thrift={"share": 1.0, "recovery_days": 30}))
    assert series(res, "buyer", "inventory", "g").iloc[30:].to_numpy() == pytest.approx(152.0)


BASE = """name: m
horizon: 10
products:
  g: {unit: t, price: 10, market: MARKET}
nodes:
  a: {region: CN, produces: g, capacity: 1}
  b: {region: EU, demand: {product: g, rate: 1}}
lanes:
  - {from: a, to: b, product: g}
"""


def test_a_bad_cover_value_is_rejected_with_a_position(tmp_path):
    path = write_file(tmp_path, "m.yaml", BASE.replace("MARKET", "{elasticity: -1, cover: at_cost}"))
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    text = str(info.value)
    assert "products.g.market.cover" in text and "at_price" in text and "m.yaml:4:" in text


def test_at_price_cover_is_refused_at_a_compute_node(tmp_path):
    text = BASE.replace("market: MARKET", "market: {elasticity: -0.5}")
    text = text.replace("  g: {unit: t, price: 10, market: {elasticity: -0.5}}",
                        "  g: {unit: t, price: 10, market: {elasticity: -0.5}}\n"
                        "  c: {unit: chip, tflops: 2, price: 1, market: {elasticity: -1, cover: at_price}}")
    text = text.replace("lanes:", "  dc: {region: US, demand: {product: [c], measure: tflops, rate: 4}}\nlanes:")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(write_file(tmp_path, "m.yaml", text))
    assert any("not supported" in p.message and "`cover`" in p.message for p in info.value.problems)
