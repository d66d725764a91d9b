"""Markets at compute-demand nodes (docs/markets.md, section 6) on networks small enough
to work out by hand.

Every expected number is derived in the comments from the rule of section 6: the
node's supply ratio s_d = min(1, free stock in the measure / notional), each substitute's
stock counted as the notional demand it serves at its fee (stock / (1 + F)**e), one multiplier
M_d = clip(f_d ** (1/e), 1, max) over the window, demand at the scarcity price
R = notional x M**e offered to the substitutes cheapest per measure unit first, a
substitute with fee F keeping (1 + F)**e of what is offered to it.
"""
from __future__ import annotations

import numpy as np
import pytest

import sim
from helpers import ROOT, run, scenario, series, write_file


def fed_node(capacity: float, value: float = 2.0, elasticity: float = -0.5, window: int = 10, rate: float = 10.0,
             horizon: int = 80, shocks=(), stock: float | None = None, policies=()):
    """One priced substitute ``a`` (``value`` TFLOPS a unit, base price 100 a unit) made
    at ``capacity`` units a day for a data centre wanting ``rate`` TFLOPS a day. The
    centre opens with one day's output (or ``stock``) and orders far more than a day
    brings, so with lead 1 it has ``capacity`` units in stock every day."""
    return scenario(
        horizon=horizon,
        products={"a": {"unit": "chip", "price": 100, "tflops": value,
                        "market": {"elasticity": elasticity, "window_days": window}}},
        nodes={"src": {"region": "US", "produces": "a", "capacity": capacity},
               "dc": {"region": "CN", "demand": {"product": ["a"], "measure": "tflops", "rate": rate},
                      "inventory": {"a": capacity if stock is None else stock},
                      "reorder": {"policy": "base_stock", "days_of_cover": 10}}},
        lanes=[{"from": "src", "to": "dc", "product": "a", "lead_time": 1}],
        shocks=list(shocks), policies=list(policies),
    )


def dc(res, metric: str, product: str = "tflops"):
    return series(res, "dc", metric, product)


def fee(source: str, rate: float) -> dict:
    """A licence with fee ``rate`` on every lane out of ``source``, granted at once."""
    return {"type": "export_license", "start": 0, "from": source, "review_days": 0, "approval_rate": 1, "fee": rate}


# --- property 2: the steady state, in the measure -------------------------------------

def test_steady_state_in_the_measure():
    # 2.5 chips of 2 TFLOPS reach the centre each day: 5 of the 10 TFLOPS wanted, s = 0.5.
    # After the 10-day window f = 0.5, M = 0.5**(1/-0.5) = 4; demand at price 10 x 4**-0.5
    # = 5 TFLOPS, served in full: shortfall 0, destroyed 5. Price of a chip 100 x 4 = 400,
    # spend 2.5 chips x 400 = 1,000 a day.
    res = run(fed_node(capacity=2.5))
    assert dc(res, "price_multiplier").loc[10:].to_numpy() == pytest.approx(4.0, rel=1e-12)
    assert dc(res, "price_multiplier", "a").loc[10:].to_numpy() == pytest.approx(4.0, rel=1e-12)
    assert dc(res, "price", "a").loc[10:].to_numpy() == pytest.approx(400.0, rel=1e-12)
    assert dc(res, "compute_delivered").loc[10:].to_numpy() == pytest.approx(5.0, rel=1e-12)
    assert dc(res, "compute_shortfall").loc[10:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert dc(res, "demand_destroyed").loc[10:].to_numpy() == pytest.approx(5.0, rel=1e-12)
    assert dc(res, "compute_demand").to_numpy() == pytest.approx(10.0)  # demand stays notional
    assert dc(res, "spend", "a").loc[10:].to_numpy() == pytest.approx(1000.0, rel=1e-12)
    assert dc(res, "delivered", "a").loc[10:].to_numpy() == pytest.approx(2.5, rel=1e-12)
    # day 5 of the convergence: f = 1 - 0.05 x 5 = 0.75, M = 0.75**-2, demand 10 x 0.75 = 7.5
    # TFLOPS; 5 served, 2.5 short, 2.5 destroyed
    assert dc(res, "price_multiplier").loc[5] == pytest.approx(0.75 ** -2)
    assert dc(res, "compute_shortfall").loc[5] == pytest.approx(2.5)
    assert dc(res, "demand_destroyed").loc[5] == pytest.approx(2.5)
    assert dc(res, "price", "a").loc[0] == 100.0  # property 1 from day 0


def test_a_fee_under_binding_supply_settles_in_the_measure():
    # 2.5 chips of 2 TFLOPS (5 TFLOPS) a day, 10 wanted, a 25% fee, e = -1. The stock counts
    # as the notional demand it serves at the fee: 5 / 1.25**-1 = 6.25 TFLOPS, so s = 0.625
    # while the centre sells out, and from day 10 M = 0.625**-1 = 1.6. Demand at the
    # scarcity price 10 x 1.6**-1 = 6.25 is offered to the chip, which keeps 1.25**-1 of
    # it: 5 TFLOPS, all it has (shortfall 0, destroyed 5). A chip costs 100 x 1.6 x 1.25 =
    # 200 = 100 x 0.5**-1, the price the scarcity alone would set.
    res = run(fed_node(capacity=2.5, elasticity=-1.0, shocks=[fee("src", 0.25)], horizon=200))
    assert dc(res, "price_multiplier").loc[10:].to_numpy() == pytest.approx(1.6, rel=1e-12)
    assert dc(res, "price", "a").loc[10:].to_numpy() == pytest.approx(200.0, rel=1e-12)
    assert dc(res, "compute_delivered").loc[10:].to_numpy() == pytest.approx(5.0, rel=1e-12)
    assert dc(res, "compute_shortfall").loc[10:].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert dc(res, "demand_destroyed").loc[10:].to_numpy() == pytest.approx(5.0, rel=1e-12)


def test_recovery_in_the_measure():
    # 10 chips (20 TFLOPS) a day, 75% lost on days 0-39: 5 TFLOPS a day, s = 0.5 on days
    # 0-40 (day 40's full output arrives on day 41), 1 from day 41. Day 50's window (40-49)
    # holds one short day: f = 0.95, M = 0.95**-2; day 51 on: M = 1, nothing destroyed.
    shock = {"type": "capacity_loss", "node": "src", "fraction": 0.75, "start": 0, "end": 40, "recovery_days": 0}
    res = run(fed_node(capacity=10, stock=2.5, shocks=[shock]))
    m = dc(res, "price_multiplier")
    assert m.loc[40] == pytest.approx(4.0)
    assert m.loc[50] == pytest.approx(0.95 ** -2)
    assert (m.loc[51:] == 1.0).all()
    assert dc(res, "demand_destroyed").loc[51:].to_numpy() == pytest.approx(0.0, abs=1e-12)


def test_accounting_identity_in_the_measure():
    # lost demand: delivered + shortfall + destroyed = demand, every day, in TFLOPS
    shock = {"type": "capacity_loss", "node": "src", "fraction": 0.6, "start": 5, "end": 30, "recovery_days": 10}
    res = run(fed_node(capacity=4, shocks=[shock]))
    total = dc(res, "compute_delivered") + dc(res, "compute_shortfall") + dc(res, "demand_destroyed")
    assert total.to_numpy() == pytest.approx(dc(res, "compute_demand").to_numpy(), rel=1e-12)
    assert (dc(res, "compute_delivered") <= dc(res, "compute_demand") + 1e-9).all()


# --- a stocked centre: fees, substitution on price, the mandate -----------------------

def stocked(products: dict, mandate: dict | None = None, shocks=(), rate: float = 10.0, stock: float = 1e6):
    """A centre holding ``stock`` of every product in ``products`` (id -> attributes),
    each made by its own source ``src_<id>`` (region from the attribute ``region``) with
    a lane to the centre; the centre does not re-order, so the lanes carry only fees."""
    nodes = {f"src_{pid}": {"region": attrs.pop("region", "US"), "produces": pid, "capacity": 0}
             for pid, attrs in products.items()}
    demand = {"product": list(products), "measure": "tflops", "rate": rate}
    if mandate:
        demand["mandate"] = mandate
    nodes["dc"] = {"region": "CN", "demand": demand, "inventory": {pid: stock for pid in products}}
    lanes = [{"from": f"src_{pid}", "to": "dc", "product": pid, "lead_time": 1} for pid in products]
    return scenario(horizon=20, products=products, nodes=nodes, lanes=lanes, shocks=list(shocks))


def priced(price: float, tflops: float, elasticity: float = -1.0, **extra) -> dict:
    return {"unit": "chip", "price": price, "tflops": tflops, "market": {"elasticity": elasticity}, **extra}


def test_a_25_percent_fee_with_elasticity_minus_one_cuts_compute_demand_to_four_fifths():
    # ample stock: M = 1; the only substitute pays 25%: it is offered 10 TFLOPS and keeps
    # 10 x 1.25**-1 = 8, delivered as 4 chips of 2; 2 TFLOPS destroyed, none short; the
    # chip's price 100 x 1.25 = 125
    res = run(stocked({"a": priced(100, 2)}, shocks=[fee("src_a", 0.25)]))
    assert dc(res, "compute_delivered").to_numpy() == pytest.approx(8.0)
    assert dc(res, "delivered", "a").to_numpy() == pytest.approx(4.0)
    assert dc(res, "demand_destroyed").to_numpy() == pytest.approx(2.0)
    assert dc(res, "compute_shortfall").to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert dc(res, "price", "a").to_numpy() == pytest.approx(125.0)
    assert (dc(res, "price_multiplier") == 1.0).all()


def test_the_cheaper_substitute_per_measure_unit_is_bought_first():
    # a: 100 a chip of 1 TFLOPS = 100 per TFLOPS; b: 150 a chip of 2 = 75 per TFLOPS.
    # b is cheaper, so all 10 TFLOPS come from b (5 chips), although a is listed first.
    res = run(stocked({"a": priced(100, 1), "b": priced(150, 2)}))
    assert dc(res, "delivered", "b").to_numpy() == pytest.approx(5.0)
    assert dc(res, "delivered", "a").to_numpy() == pytest.approx(0.0)


def test_a_fee_can_reverse_the_order():
    # b's 50% fee makes it 150 x 1.5 / 2 = 112.5 per TFLOPS, dearer than a's 100: a serves
    # the 10 TFLOPS (10 chips), b nothing
    res = run(stocked({"a": priced(100, 1), "b": priced(150, 2)}, shocks=[fee("src_b", 0.5)]))
    assert dc(res, "delivered", "a").to_numpy() == pytest.approx(10.0)
    assert dc(res, "delivered", "b").to_numpy() == pytest.approx(0.0)


def test_ties_keep_the_listed_order_and_unpriced_substitutes_keep_their_place():
    # a and b both cost 100 per TFLOPS: a, listed first, serves. The unpriced u is listed
    # first and keeps the first place: it serves all 10 TFLOPS.
    res = run(stocked({"a": priced(100, 1), "b": priced(200, 2)}))
    assert dc(res, "delivered", "a").to_numpy() == pytest.approx(10.0)
    assert dc(res, "delivered", "b").to_numpy() == pytest.approx(0.0)
    res = run(stocked({"u": {"unit": "chip", "tflops": 1}, "a": priced(100, 1), "b": priced(50, 1)}))
    assert dc(res, "delivered", "u").to_numpy() == pytest.approx(10.0)
    assert dc(res, "delivered", "b").to_numpy() == pytest.approx(0.0)


def test_when_the_cheaper_one_runs_short_the_next_one_serves_the_rest():
    # b (75 per TFLOPS) holds only 3 chips = 6 TFLOPS on day 0; a serves the other 4
    sc = stocked({"a": priced(100, 1), "b": priced(150, 2)})
    sc = sc.model_copy(update={"nodes": {**sc.nodes, "dc": sc.nodes["dc"].model_copy(
        update={"inventory": {"a": 1e6, "b": 3.0}})}})
    res = run(sc)
    assert dc(res, "delivered", "b").loc[0] == pytest.approx(3.0)
    assert dc(res, "delivered", "a").loc[0] == pytest.approx(4.0)
    assert dc(res, "delivered", "a").loc[1] == pytest.approx(10.0)


def test_the_mandate_reserves_its_share_for_domestic_substitutes():
    # d is domestic (made in CN), 100 per TFLOPS; f is foreign, 50 per TFLOPS; min_share
    # 0.5. Half the demand, 5, is for domestic options: d serves 5. The other 5 go
    # cheapest first: f, allowed up to 5 x (1 - 0.5) / 0.5 = 5, serves 5.
    products = {"d": priced(100, 1, region="CN"), "f": priced(50, 1)}
    res = run(stocked(products, mandate={"region": "CN", "min_share": 0.5}))
    assert dc(res, "delivered", "d").to_numpy() == pytest.approx(5.0)
    assert dc(res, "delivered", "f").to_numpy() == pytest.approx(5.0)
    # with a 25% fee on f (elasticity -1) it keeps 5 x 0.8 = 4 of its 5: d 5, f 4,
    # 1 destroyed; the domestic share 5/9 stays above 0.5
    products = {"d": priced(100, 1, region="CN"), "f": priced(50, 1)}
    res = run(stocked(products, mandate={"region": "CN", "min_share": 0.5}, shocks=[fee("src_f", 0.25)]))
    assert dc(res, "delivered", "d").to_numpy() == pytest.approx(5.0)
    assert dc(res, "delivered", "f").to_numpy() == pytest.approx(4.0)
    assert dc(res, "demand_destroyed").to_numpy() == pytest.approx(1.0)


def test_a_short_domestic_supply_limits_the_foreign_share():
    # d holds 2 TFLOPS only: the domestic half (5) gets 2, 3 short; f may then serve at
    # most 2 x 0.5 / 0.5 = 2 of the other 5: 4 delivered, 6 short on day 0. The measure's
    # supply ratio counts what the mandate allows, min(2 + 1e6, 2 / 0.5) = 4: s = 0.4.
    products = {"d": priced(100, 1, region="CN"), "f": priced(50, 1)}
    sc = stocked(products, mandate={"region": "CN", "min_share": 0.5})
    sc = sc.model_copy(update={"nodes": {**sc.nodes, "dc": sc.nodes["dc"].model_copy(
        update={"inventory": {"d": 2.0, "f": 1e6}})}})
    res = run(sc)
    assert dc(res, "delivered", "d").loc[0] == pytest.approx(2.0)
    assert dc(res, "delivered", "f").loc[0] == pytest.approx(2.0)
    assert dc(res, "compute_shortfall").loc[0] == pytest.approx(6.0)
    # day 1: the default window of 30 days holds day 0's 0.4 and 29 days before day 0
    # (counted as 1): f = 29.4 / 30 = 0.98, M = 0.98**-1 (elasticity -1)
    assert dc(res, "price_multiplier").loc[1] == pytest.approx(1 / 0.98)


# --- the H200 case: what a fee does to a fee-paying substitute's volume --------------

def h200_like(fee_rate: float):
    """A domestic chip ``asc`` made at 3 TFLOPS a day (1 chip of 3), cheaper per TFLOPS,
    and an imported ``h`` (ample) paying ``fee_rate``, for a centre wanting 10 TFLOPS. The
    centre's cover of 100 days asks for far more than a day's asc, so it gets the 1 chip
    the source makes every day (with lead 1: one in stock every day)."""
    shocks = [fee("src_h", fee_rate)] if fee_rate else []
    return scenario(
        horizon=60,
        products={"asc": priced(30, 3), "h": priced(100, 2)},
        nodes={"src_asc": {"region": "CN", "produces": "asc", "capacity": 1},
               "src_h": {"region": "US", "inventory": {"h": 1e6}},
               "dc": {"region": "CN", "demand": {"product": ["h", "asc"], "measure": "tflops", "rate": 10},
                      "inventory": {"asc": 1, "h": 50}, "reorder": {"policy": "base_stock", "days_of_cover": 100}}},
        lanes=[{"from": "src_asc", "to": "dc", "product": "asc", "lead_time": 1},
               {"from": "src_h", "to": "dc", "product": "h", "lead_time": 1}],
        shocks=shocks)


@pytest.mark.parametrize("fee_rate, e", [(0.25, -1.0), (0.25, -0.5), (0.5, -2.0)])
def test_where_demand_limits_the_fee_payer_its_volume_falls_by_one_plus_fee_to_the_elasticity(fee_rate, e):
    # The centre holds ample h, so its supply ratio is 1 and M = 1. asc (10 per TFLOPS) is
    # cheaper than h (50, or more with the fee), so it goes first: 3 TFLOPS. The other 7
    # are offered to h, which keeps 7 x (1 + fee)**e: h's volume with the fee over without
    # is (1 + fee)**e, e.g. 1.25**-1 = 0.8.
    sc = h200_like(fee_rate)
    sc = sc.model_copy(update={"products": {k: v.model_copy(update={"market": v.market.model_copy(
        update={"elasticity": e})}) for k, v in sc.products.items()}})
    base = sc.model_copy(update={"shocks": []})
    with_fee, without = run(sc), run(base)
    h_fee, h_free = dc(with_fee, "delivered", "h"), dc(without, "delivered", "h")
    assert h_free.to_numpy() == pytest.approx(3.5)  # 7 TFLOPS / 2 a chip
    assert (h_fee / h_free).to_numpy() == pytest.approx((1 + fee_rate) ** e, rel=1e-12)
    assert dc(with_fee, "delivered", "asc").to_numpy() == pytest.approx(1.0)


def test_same_seed_same_prices_at_a_compute_node():
    sc = fed_node(capacity=2.5)
    dem = sc.nodes["dc"].demand.model_copy(update={"distribution": "poisson"})
    sc = sc.model_copy(update={"nodes": {**sc.nodes, "dc": sc.nodes["dc"].model_copy(update={"demand": dem})}})
    a = dc(run(sc, seed=3), "price", "a").to_numpy()
    b = dc(run(sc, seed=3), "price", "a").to_numpy()
    c = dc(run(sc, seed=4), "price", "a").to_numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert (a >= 100.0).all()  # never below base


# --- the library's 2c pair ------------------------------------------------------------

def test_the_2c_twins_differ_only_in_the_fee():
    fee_file, free_file = (sim.load_scenario(ROOT / "scenarios" / f"02c-h200-{k}-without-customs-block.yaml")
                           for k in ("fee", "no-fee"))
    (*rest_fee, lic_fee), (*rest_free, lic_free) = fee_file.shocks, free_file.shocks
    assert rest_fee == rest_free and lic_fee.fee == 0.25 and lic_free.fee == 0.0
    assert lic_fee.model_copy(update={"fee": 0.0, "name": lic_free.name}) == lic_free
    assert not any(s.type == "export_ban" and s.start and "customs" in (s.name or "") for s in fee_file.shocks)


def test_in_2c_supply_limits_the_h200_so_the_fee_does_not_change_its_volume():
    # docs/markets.md, section 6: where the H200 is supply-limited it delivers all it has
    # with or without the fee (ratio 1, not the demand-limited 1.25**-1 = 0.8). 2c is a
    # delta of scenario 0, so China's demand sits at two nodes (commercial and state-funded
    # centres) that share the capped channel: the chips reaching them together are the same.
    # Each node's notional demand is the same in both runs, so by
    # delivered + shortfall + demand_destroyed = demand the three add up to the same total
    # (the split between them moves with the scarcity multiplier, scenarios/README.md 2c).
    fee_res, free_res = (sim.run(ROOT / "scenarios" / f"02c-h200-{k}-without-customs-block.yaml", replications=2)
                         for k in ("fee", "no-fee"))
    cns = ("cn_datacenters", "cn_state_dc_before")
    h_fee = sum(series(fee_res, cn, "received", "accel_h200_cn").sum() for cn in cns)
    h_free = sum(series(free_res, cn, "received", "accel_h200_cn").sum() for cn in cns)
    assert h_fee > 100_000 and h_fee == pytest.approx(h_free, rel=1e-9)

    def accounted(res, cn):
        return sum(series(res, cn, m, "tflops_bf16").sum()
                   for m in ("compute_delivered", "compute_shortfall", "demand_destroyed"))
    for cn in cns:
        assert accounted(fee_res, cn) == pytest.approx(accounted(free_res, cn), rel=1e-9)
    # and the fee destroys demand: more of it at the commercial centres with the fee
    assert (series(fee_res, cns[0], "demand_destroyed", "tflops_bf16").sum()
            > series(free_res, cns[0], "demand_destroyed", "tflops_bf16").sum())


def test_a_trigger_can_watch_a_compute_nodes_multiplier_at_its_priced_substitute(tmp_path):
    # fed_node(2.5): M_d = (1 - 0.05 d)**-2 until day 10. M_d > 2 needs 1 - 0.05 d < 0.7071,
    # first on day 6 (M_6 = 0.7**-2 = 2.04); for 3 days: days 6, 7, 8 -> fires on d0 = 8,
    # starts the next day, 9
    trigger = {"metric": "price_multiplier", "node": "dc", "product": "a", "above": 2, "for_days": 3}
    policy = {"type": "capacity_expansion", "node": "src", "capacity": 1, "trigger": trigger}
    row = run(fed_node(capacity=2.5, policies=[policy])).triggers.iloc[0]
    assert (row["fired_day"], row["start_day"]) == (8, 9)
    # and the loader's cross-references accept it
    text = """name: t
horizon: 20
products:
  a: {tflops: 2, price: 100, market: {elasticity: -0.5}}
nodes:
  src: {produces: a, capacity: 1}
  dc: {demand: {product: [a], measure: tflops, rate: 4}}
lanes:
  - {from: src, to: dc, product: a}
policies:
  - {type: capacity_expansion, node: src, capacity: 1,
     trigger: {metric: price_multiplier, node: dc, product: a, above: 2, for_days: 3}}
"""
    assert sim.load_scenario(write_file(tmp_path, "t.yaml", text)).policies[0].trigger is not None


def test_the_briefing_limits_describe_compute_markets():
    from sim.reporting.words import limits

    priced = " ".join(limits(fed_node(capacity=2.5)))
    assert "At compute-demand nodes with priced chips" in priced and "there are no prices" not in priced
    plain = fed_node(capacity=2.5)
    plain = plain.model_copy(update={"products": {"a": plain.products["a"].model_copy(update={"market": None})}})
    text = " ".join(limits(plain))
    assert "At compute-demand nodes with priced chips" not in text and "there are no prices" in text
