"""Market invariants (contract section 11) on small random networks (hypothesis): two
sources feed one or two market buyers over lanes with random lead times, under an
optional capacity loss and an optional licence fee; demand may be Poisson and backlogged.

Checked each day at every market buyer: price >= base (no negative shock exists, fees
are >= 0); the multiplier lies in [1, max_multiplier]; the accounting identity
delivered + shortfall + demand_destroyed = demand + backlog served (lost demand: backlog 0);
delivered never above notional demand (cumulatively, when backlogged); same seed, same prices.
The same invariants are checked with the opt-in extensions (signal: orders, thrift,
buyers that hoard, and a speculating trader feeding the first buyer).
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from helpers import scenario

BASE = 50.0


@st.composite
def market_networks(draw, extensions: bool = False):
    """``extensions``: also draw the opt-in keys of docs/markets.md sections 7-8 (signal: orders,
    thrift), a precautionary cover on the buyers and a speculating trader (section 9)."""
    e = draw(st.sampled_from([-0.01, -0.2, -0.5, -1.0, -2.0]))  # -0.01: f ** -100 would overflow a float
    cap = draw(st.sampled_from([1.0, 3.0, 10.0, 1e6]))
    window = draw(st.integers(1, 20))
    market: dict = {"elasticity": e, "max_multiplier": cap, "window_days": window}
    if extensions:
        if draw(st.booleans()):
            market["signal"], market["signal_weight"] = "orders", draw(st.sampled_from([0.2, 0.5, 1.0]))
        if draw(st.booleans()):
            market["thrift"] = {"share": draw(st.sampled_from([0.3, 1.0])), "recovery_days": draw(st.integers(1, 60))}
    poisson = draw(st.booleans())
    backlog = draw(st.booleans())
    nodes = {"a": {"region": "CN", "produces": "g", "capacity": draw(st.floats(0.0, 12.0))},
             "b": {"region": "US", "produces": "g", "capacity": draw(st.floats(0.0, 12.0))}}
    lanes, buyers = [], draw(st.integers(1, 2))
    for k in range(buyers):
        nid = f"buyer{k}"
        nodes[nid] = {"region": "EU", "inventory": {"g": draw(st.floats(0.0, 30.0))},
                      "demand": {"product": "g", "rate": draw(st.floats(0.5, 10.0)), "backlog": backlog,
                                 "distribution": "poisson" if poisson else "deterministic"},
                      "reorder": {"policy": "base_stock", "days_of_cover": draw(st.integers(1, 20))}}
        if extensions and draw(st.booleans()):
            nodes[nid]["reorder"]["precaution"] = {"days_of_cover": draw(st.integers(1, 40))}
        for src in ("a", "b"):
            lanes.append({"from": src, "to": nid, "product": "g",
                          "lead_time": {"dist": "uniform", "low": 1, "high": draw(st.integers(1, 10))}})
    if extensions and draw(st.booleans()):  # a speculating trader between source a and buyer0 (section 9)
        spec = {"market": "buyer0", "days_of_cover": draw(st.integers(1, 30)),
                "exponent": draw(st.sampled_from([0.5, 1.0, 4.0, 12.0]))}
        if draw(st.booleans()):
            spec["momentum_days"] = draw(st.integers(1, 30))
        nodes["trader"] = {"region": "EU", "inventory": {"g": draw(st.floats(0.0, 30.0))},
                           "reorder": {"policy": "base_stock", "days_of_cover": draw(st.integers(1, 20)),
                                       "speculation": spec}}
        lanes.append({"from": "a", "to": "trader", "product": "g", "lead_time": draw(st.integers(1, 5))})
        lanes.append({"from": "trader", "to": "buyer0", "product": "g", "lead_time": draw(st.integers(1, 5))})
    shocks = []
    if draw(st.booleans()):
        start = draw(st.integers(0, 40))
        shocks.append({"type": "capacity_loss", "node": "a", "fraction": draw(st.floats(0.1, 1.0)),
                       "start": start, "end": start + draw(st.integers(1, 60)), "recovery_days": draw(st.integers(0, 20))})
    if draw(st.booleans()):
        shocks.append({"type": "export_license", "start": draw(st.integers(0, 50)), "from": "a", "approval_rate": 1,
                       "review_days": draw(st.integers(0, 5)), "fee": draw(st.sampled_from([0.1, 0.25, 1.0]))})
    return scenario(horizon=120, seed=draw(st.integers(0, 5)), products={"g": {"unit": "t", "price": BASE, "market": market}},
                    nodes=nodes, lanes=lanes, shocks=shocks)


def _wide(res, node):
    ts = res.timeseries
    rows = ts[(ts["node"] == node) & (ts["product"] == "g")]
    return rows.pivot_table(index="day", columns="metric", values="value", observed=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market_networks())
def test_market_invariants(sc):
    _check_invariants(sc)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market_networks(extensions=True))
def test_market_invariants_with_the_order_signal_and_thrift(sc):
    # the same invariants hold with the extensions (docs/markets.md, sections 7-8)
    _check_invariants(sc)


def _check_invariants(sc):
    res = sim.run(sc)
    cap = sc.products["g"].market.max_multiplier
    for node in [n for n in sc.nodes if n.startswith("buyer")]:
        w = _wide(res, node)
        assert (w["price"] >= BASE * (1 - 1e-12)).all()
        assert ((w["price_multiplier"] >= 1.0) & (w["price_multiplier"] <= cap * (1 + 1e-12))).all()
        assert (w["demand_destroyed"] >= -1e-9).all() and (w["shortfall"] >= -1e-9).all()
        backlog = w["backlog"].to_numpy()
        before = np.concatenate([[0.0], backlog[:-1]])
        # served from backlog = backlog before - (backlog after - today's shortfall); none when lost
        carried = sc.nodes[node].demand.backlog
        served_old = before - (backlog - w["shortfall"].to_numpy()) if carried else 0.0
        lhs = (w["delivered"] + w["shortfall"] + w["demand_destroyed"]).to_numpy()
        assert np.allclose(lhs, w["demand"].to_numpy() + served_old, atol=1e-7)
        if not carried:
            assert (backlog == 0).all()
            assert (w["delivered"] <= w["demand"] + 1e-9).all()
        assert (np.cumsum(w["delivered"].to_numpy()) <= np.cumsum(w["demand"].to_numpy()) + 1e-7).all()
    if "trader" in sc.nodes:  # a trader's stock (its hold included) never goes negative
        assert (_wide(res, "trader")["inventory"] >= -1e-9).all()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market_networks(extensions=True))
def test_same_seed_same_prices(sc):
    a, b = sim.run(sc).timeseries, sim.run(sc).timeseries
    pa = a[a["metric"] == "price"]["value"].to_numpy()
    pb = b[b["metric"] == "price"]["value"].to_numpy()
    assert len(pa) and np.array_equal(pa, pb)


# --- compute demand with priced substitutes (docs/markets.md, section 6) -------------

@st.composite
def compute_networks(draw):
    e = draw(st.sampled_from([-0.2, -0.5, -1.0, -2.0]))
    market = {"elasticity": e, "max_multiplier": draw(st.sampled_from([1.0, 3.0, 10.0])),
              "window_days": draw(st.integers(1, 20))}
    products, nodes, lanes = {}, {}, []
    for k in range(draw(st.integers(1, 3))):
        pid = f"c{k}"
        products[pid] = {"unit": "chip", "tflops": draw(st.sampled_from([1.0, 2.0, 5.0])),
                         "price": draw(st.sampled_from([BASE, 2 * BASE, 3 * BASE]))}
        if k == 0 or draw(st.booleans()):
            products[pid]["market"] = market
        nodes[f"s{k}"] = {"region": draw(st.sampled_from(["CN", "US"])), "produces": pid,
                          "capacity": draw(st.floats(0.0, 6.0))}
        lanes.append({"from": f"s{k}", "to": "dc", "product": pid,
                      "lead_time": {"dist": "uniform", "low": 1, "high": draw(st.integers(1, 8))}})
    demand = {"product": list(products), "measure": "tflops", "rate": draw(st.floats(1.0, 20.0)),
              "backlog": draw(st.booleans()), "distribution": draw(st.sampled_from(["poisson", "deterministic"]))}
    if draw(st.booleans()):
        demand["mandate"] = {"region": "CN", "min_share": draw(st.sampled_from([0.0, 0.3, 0.5, 1.0]))}
    nodes["dc"] = {"region": "CN", "demand": demand, "reorder": {"policy": "base_stock",
                                                                 "days_of_cover": draw(st.integers(1, 20))},
                   "inventory": {pid: draw(st.floats(0.0, 20.0)) for pid in products}}
    shocks = []
    if draw(st.booleans()):
        shocks.append({"type": "export_license", "start": draw(st.integers(0, 50)), "from": "s0", "approval_rate": 1,
                       "review_days": draw(st.integers(0, 5)), "fee": draw(st.sampled_from([0.1, 0.25, 1.0]))})
    if draw(st.booleans()):
        start = draw(st.integers(0, 40))
        shocks.append({"type": "capacity_loss", "node": "s0", "fraction": draw(st.floats(0.1, 1.0)),
                       "start": start, "end": start + draw(st.integers(1, 60)), "recovery_days": 0})
    return scenario(horizon=100, seed=draw(st.integers(0, 5)), products=products, nodes=nodes, lanes=lanes,
                    shocks=shocks)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(compute_networks())
def test_compute_market_invariants(sc):
    res = sim.run(sc)
    ts = res.timeseries
    dc = ts[ts["node"] == "dc"].pivot_table(index="day", columns=["product", "metric"], values="value",
                                            observed=True)
    m = dc["tflops"]
    cap = sc.products["c0"].market.max_multiplier
    assert ((m["price_multiplier"] >= 1.0) & (m["price_multiplier"] <= cap * (1 + 1e-12))).all()
    assert (m["demand_destroyed"] >= -1e-9).all() and (m["compute_shortfall"] >= -1e-9).all()
    for pid, spec in sc.products.items():  # never below base (no negative shock, fees >= 0)
        if spec.market is not None:
            assert (dc[pid]["price"] >= spec.price * (1 - 1e-12)).all()
    backlog = m["compute_backlog"].to_numpy()
    before = np.concatenate([[0.0], backlog[:-1]])
    carried = sc.nodes["dc"].demand.backlog
    served_old = before - (backlog - m["compute_shortfall"].to_numpy()) if carried else 0.0
    lhs = (m["compute_delivered"] + m["compute_shortfall"] + m["demand_destroyed"]).to_numpy()
    assert np.allclose(lhs, m["compute_demand"].to_numpy() + served_old, atol=1e-7)
    assert (np.cumsum(m["compute_delivered"].to_numpy()) <= np.cumsum(m["compute_demand"].to_numpy()) + 1e-7).all()
    # the measure delivered is the substitutes' chips times their TFLOPS
    chips = sum(dc[pid]["delivered"] * spec.attributes["tflops"] for pid, spec in sc.products.items())
    assert np.allclose(chips.to_numpy(), m["compute_delivered"].to_numpy(), atol=1e-7)
    mandate = sc.nodes["dc"].demand.mandate
    if mandate is not None and mandate.min_share:
        home = {f"c{k}" for k in range(len(sc.products)) if sc.nodes[f"s{k}"].region == "CN"}
        domestic = sum((dc[pid]["delivered"] * sc.products[pid].attributes["tflops"] for pid in home),
                       start=0 * m["compute_delivered"])
        assert (domestic.to_numpy() >= mandate.min_share * m["compute_delivered"].to_numpy() - 1e-7).all()
    again = sim.run(sc).timeseries
    assert np.array_equal(again["value"].to_numpy(), ts["value"].to_numpy())  # same seed, same prices


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(compute_networks())
def test_a_compute_market_that_cannot_move_serves_as_the_plain_rule(sc):
    # With max_multiplier 1 the multiplier stays 1, without fees nothing is destroyed,
    # and with one price per TFLOPS for every substitute the buying order is the listed
    # order (ties): the market rule then delivers what the plain rule of contract
    # section 5 delivers, mandate included (docs/markets.md, section 6, step 6)
    still = {"elasticity": -1.0, "max_multiplier": 1.0}
    products = {pid: p.model_copy(update={"price": BASE * p.attributes["tflops"],
                                          "market": p.market.model_copy(update=still) if p.market else None})
                for pid, p in sc.products.items()}
    priced = sc.model_copy(update={"products": products,
                                   "shocks": [s for s in sc.shocks if s.type != "export_license"]})
    plain = priced.model_copy(update={"products": {pid: p.model_copy(update={"market": None})
                                                   for pid, p in products.items()}})
    a, b = sim.run(priced).timeseries, sim.run(plain).timeseries
    keep = ["delivered", "compute_delivered", "compute_shortfall", "compute_backlog", "inventory", "energy_mwh"]
    a = a[a["metric"].isin(keep)].set_index(["node", "product", "metric", "day"])["value"]
    b = b[b["metric"].isin(keep)].set_index(["node", "product", "metric", "day"])["value"]
    assert np.allclose(a.sort_index().to_numpy(), b.sort_index().to_numpy(), rtol=1e-9, atol=1e-6)
