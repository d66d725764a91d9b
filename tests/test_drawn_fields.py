"""Distributions in the fields the engine reads as plain numbers (sim.resolution): a fab's
die area and defect-density curve, tool counts, prices and market settings, licence fees
and quotas, whole-day delays and product attributes, drawn once per replication.

The probe below ties every such draw to one shared draw ``u``, which a probe node's
capacity (uniform 0-1) shows, so that each expected value is worked out by hand from u.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import yaml

from helpers import run, scenario, series, write_file
from sim import ScenarioError, load_scenario
from sim.drivers import input_label
from sim.futures import future_document, scenario_inputs
from sim.schema import Scenario

PROBE = """\
name: drawn fields
horizon: 60
replications: 3
seed: 11
products:
  die: {unit: die}
  scanner: {unit: tool, kind: equipment}
  gizmo:
    unit: t
    price: {dist: uniform, low: 100, high: 200, shared: u}
    market: {elasticity: {dist: uniform, low: -1.0, high: -0.5, shared: u}}
  probe_out: {unit: t}
nodes:
  probe: {region: XX, produces: probe_out, capacity: {dist: uniform, low: 0, high: 1, shared: u}}
  probe_sink: {region: XX, demand: {product: probe_out, rate: 1000}}
  fab:
    region: CN
    produces: die
    capacity: 10
    fab:
      die_area_mm2: {dist: uniform, low: 100, high: 200, shared: u}
      yield_model: poisson
      d0_per_cm2:
        start: {dist: uniform, low: 0.2, high: 0.4, shared: u}
        end: 0.1
        halflife: {dist: uniform, low: 30, high: 90, shared: u}
    equipment:
      scanner: {required: 100, installed: {dist: uniform, low: 50, high: 100, shared: u}}
  maker: {region: CN, produces: gizmo, capacity: 5}
  buyer:
    region: US
    demand: {product: gizmo, rate: 4}
    reorder: {days_of_cover: 10}
lanes:
  - {from: probe, to: probe_sink, product: probe_out, lead_time: 1}
  - {from: maker, to: buyer, product: gizmo, lead_time: 2}
shocks:
  - type: export_license
    name: gizmo licence
    start: 0
    product: gizmo
    from: {region: CN}
    fee: {dist: uniform, low: 0.1, high: 0.3, shared: u}
    quota: {dist: uniform, low: 30, high: 90, shared: u}
policies:
  - type: capacity_expansion
    name: second line
    node: maker
    capacity: 1
    build_days: {dist: uniform, low: 10, high: 20, shared: u}
"""
_UNIFORM_U = re.compile(r"\{dist: uniform, low: ([-\d.]+), high: ([-\d.]+), shared: u\}")


def _u(res, replication):
    # the probe makes its whole capacity on day 0 (its buyer wants 1000 a day): u itself
    return series(res, "probe", "produced", replication=replication).loc[0]


def _gross_dies(area_mm2, diameter_mm=300.0):
    # the textbook count: wafer area / die area - circumference / sqrt(2 x die area)
    return math.floor(math.pi * (diameter_mm / 2) ** 2 / area_mm2 - math.pi * diameter_mm / math.sqrt(2 * area_mm2))


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    path = write_file(tmp_path_factory.mktemp("drawn"), "probe.yaml", PROBE)
    return path, run(load_scenario(path))


def test_each_replication_takes_the_values_of_its_draw(probe):
    _, res = probe
    us = [_u(res, r) for r in range(3)]
    assert len(set(us)) == 3 and all(0 < u < 1 for u in us)
    for r, u in enumerate(us):
        area, start, halflife, installed = 100 + 100 * u, 0.2 + 0.2 * u, round(30 + 60 * u), 50 + 50 * u
        # 10 wafers x installed / 100 tools, gross dies of the drawn area, Poisson yield exp(-A D0)
        good = 10 * installed / 100 * _gross_dies(area) * math.exp(-area / 100 * start)
        assert series(res, "fab", "good_dies", replication=r).loc[0] == pytest.approx(good)
        assert series(res, "fab", "capacity", replication=r).loc[0] == pytest.approx(10 * installed / 100)
        # day 30 of the learning curve: D0 = end + (start - end) x 0.5^(30 / whole-day half-life)
        d0 = 0.1 + (start - 0.1) * 0.5 ** (30 / halflife)
        assert series(res, "fab", "yield", replication=r).loc[30] == pytest.approx(math.exp(-area / 100 * d0))
        # the buyer pays the drawn base price plus the drawn fee before any scarcity: price x (1 + fee)
        price, fee, quota = 100 + 100 * u, 0.1 + 0.2 * u, 30 + 60 * u
        assert series(res, "buyer", "price", replication=r).loc[0] == pytest.approx(price * (1 + fee))
        # the buyer wants 120 t a month, above every quota: two 30-day blocks ship 2 x quota
        assert series(res, "buyer", "received", replication=r).sum() == pytest.approx(2 * quota)
        # the second line starts on day round(10 + 10u): capacity 5, then 6
        cap = series(res, "maker", "capacity", replication=r)
        built = round(10 + 10 * u)
        assert cap.loc[built - 1] == pytest.approx(5) and cap.loc[built] == pytest.approx(6)


# the probe with only fab and tool figures drawn: the network of a replication then
# rebuilds only its producers (sim.network.network_for_replication)
FAB_ONLY = (PROBE.replace("price: {dist: uniform, low: 100, high: 200, shared: u}", "price: 150")
            .replace("elasticity: {dist: uniform, low: -1.0, high: -0.5, shared: u}", "elasticity: -0.7")
            .replace("fee: {dist: uniform, low: 0.1, high: 0.3, shared: u}", "fee: 0.2")
            .replace("quota: {dist: uniform, low: 30, high: 90, shared: u}", "quota: 60")
            .replace("build_days: {dist: uniform, low: 10, high: 20, shared: u}", "build_days: 15"))


@pytest.mark.parametrize("text", [PROBE, FAB_ONLY], ids=["every field", "fab and tools only"])
def test_a_replication_runs_exactly_as_the_file_fixed_at_its_draws(tmp_path, text):
    res = run(load_scenario(write_file(tmp_path, "drawn.yaml", text)))
    for r in (0, 2):
        u = _u(res, r)
        fixed = _UNIFORM_U.sub(lambda m, u=float(u): repr(float(m[1]) + (float(m[2]) - float(m[1])) * u), text)
        once = run(load_scenario(write_file(tmp_path, f"fixed{r}.yaml", fixed.replace("replications: 3", "replications: 1"))))
        drawn = res.timeseries[res.timeseries["replication"] == r].drop(columns="replication").reset_index(drop=True)
        same = once.timeseries.drop(columns="replication").reset_index(drop=True)
        assert drawn[["day", "node", "product", "metric"]].equals(same[["day", "node", "product", "metric"]])
        assert drawn["value"].to_numpy() == pytest.approx(same["value"].to_numpy(), rel=1e-9, abs=1e-9)


FIXED_YIELD = {"die": {"unit": "die"}, "other": {"unit": "t"}}


def _yields(extra_nodes=None, products=None, replications=8):
    fab = {"region": "CN", "produces": "die", "capacity": 10,
           "fab": {"die_area_mm2": 100, "yield_model": "fixed", "yield": {"dist": "uniform", "low": 0.3, "high": 0.6}}}
    nodes = {"fab": fab, **(extra_nodes or {})}
    res = run(scenario(horizon=3, seed=4, replications=replications, products=products or FIXED_YIELD, nodes=nodes))
    return [series(res, "fab", "yield", replication=r).loc[0] for r in range(replications)]


def test_independent_draws_spread_and_keep_common_random_numbers():
    base = _yields()
    assert all(0.3 <= y <= 0.6 for y in base) and len(set(base)) == len(base)
    # a variant that adds a node with a drawn price and a drawn capacity draws the same yields
    other = {"region": "XX", "produces": "other", "capacity": {"dist": "uniform", "low": 1, "high": 2}}
    priced = {**FIXED_YIELD, "other": {"unit": "t", "price": {"dist": "uniform", "low": 1, "high": 9}}}
    assert _yields({"other_maker": other}, priced) == base


def test_product_attributes_may_be_drawn():
    # one chip of T TFLOPS, T ~ uniform(80, 120); 1000 TFLOPS a day need 1000 / T chips
    chips = {"a": {"unit": "chip", "tflops": {"dist": "uniform", "low": 80, "high": 120}, "power_kw": 0.7}}
    dc = {"region": "CN", "inventory": {"a": 1e6}, "demand": {"product": ["a"], "measure": "tflops", "rate": 1000}}
    res = run(scenario(horizon=2, seed=2, replications=4, products=chips, nodes={"dc": dc}))
    flops = [1000 / series(res, "dc", "delivered", "a", replication=r).loc[0] for r in range(4)]
    assert all(80 <= t <= 120 for t in flops) and len(set(flops)) == 4
    # energy follows the chips: 1000 / T chips x 0.7 kW x 24 h = MWh / 1000
    energy = series(res, "dc", "energy_mwh", replication=0).loc[0]
    assert energy == pytest.approx(1000 / flops[0] * 0.7 * 24 / 1000)


@pytest.mark.parametrize("field, value, words", [
    ("die_area_mm2", {"dist": "normal", "mean": 600, "sd": 20}, "use one with both ends"),
    ("die_area_mm2", {"dist": "uniform", "low": 0, "high": 600}, "can be drawn as 0"),
    ("wafer_diameter_mm", {"dist": "lognormal", "mean": 300, "sd": 5}, "use one with both ends"),
    ("die_area_mm2", {"dist": "uniform", "low": -5, "high": 600}, "can fall below the allowed range (>= 0)"),
    ("d0_per_cm2", {"start": 0.2, "end": 0.1, "halflife": {"dist": "uniform", "low": 0, "high": 30}},
     "can fall below the allowed range (>= 1)"),
    ("yield", {"dist": "uniform", "low": 0.5, "high": 1.5}, "can rise above the allowed range (<= 1)"),
])
def test_a_fab_distribution_out_of_range_is_refused(tmp_path, field, value, words):
    fab = {"die_area_mm2": 100, "yield_model": "fixed" if field == "yield" else "murphy", "d0_per_cm2": 0.1,
           "yield": 0.5, field: value}
    doc = {"name": "bad", "horizon": 5, "products": {"die": {}},
           "nodes": {"fab": {"region": "CN", "produces": "die", "capacity": 1, "fab": fab}}}
    path = write_file(tmp_path, "bad.yaml", yaml.safe_dump(doc))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    # a range of one field is placed at it; the die count, at the fab
    assert words in str(err.value) and "nodes.fab.fab" in str(err.value)


@pytest.mark.parametrize("product, words", [
    ({"price": 10, "market": {"elasticity": {"dist": "uniform", "low": -1, "high": 0.5}}}, "allowed range (< 0)"),
    ({"price": {"dist": "normal", "mean": 10, "sd": 1}, "market": {"elasticity": -1}}, "must stay above 0"),
    ({"tflops": 1, "system_power_factor": {"dist": "uniform", "low": 0, "high": 2}}, "must be above 0"),
])
def test_a_market_or_attribute_distribution_out_of_range_is_refused(tmp_path, product, words):
    doc = {"name": "bad", "horizon": 5, "products": {"x": product},
           "nodes": {"s": {"region": "CN", "produces": "x", "capacity": 1}}}
    with pytest.raises(ScenarioError) as err:
        load_scenario(write_file(tmp_path, "bad.yaml", yaml.safe_dump(doc)))
    assert words in str(err.value) and "products.x" in str(err.value)


def test_the_new_inputs_reach_drivers_and_explore():
    doc = yaml.safe_load(PROBE.replace(", shared: u", ""))
    names = [inp.name for inp in scenario_inputs(doc)]
    for path in ("products.gizmo.price", "products.gizmo.market.elasticity", "nodes.fab.fab.die_area_mm2",
                 "nodes.fab.fab.d0_per_cm2.start", "nodes.fab.fab.d0_per_cm2.halflife",
                 "nodes.fab.equipment.scanner.installed", "shocks.0.fee", "shocks.0.quota", "policies.0.build_days"):
        assert path in names
    assert input_label("nodes.fab.fab.die_area_mm2", doc) == "Fab: die area (mm2)"
    assert input_label("products.gizmo.market.elasticity", doc) == "Gizmo: price elasticity of demand"
    # a future at every input's median: the die area uniform(100, 200) is fixed at 150 mm2,
    # the half-life uniform(30, 90) at 60 days
    inputs = scenario_inputs(doc)
    values = [inp.ppf(np.array([0.5]))[0] for inp in inputs]
    future = Scenario.model_validate(future_document(doc, inputs, values, [True] * len(inputs)))
    assert future.nodes["fab"].fab.die_area_mm2 == pytest.approx(150.0)
    assert future.nodes["fab"].fab.d0_per_cm2.halflife == 60


def test_every_declared_drawn_field_is_a_parameter_with_a_range():
    # a typo in a model's DRAWN tuple, or a drawn field left as a plain float, would be
    # found only when a file first gives it a distribution
    import pydantic

    import sim.loader  # noqa: F401 - every scenario model is imported
    from sim.resolution import _drawn_fields

    def models(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from models(sub)

    declared = {cls for cls in models(pydantic.BaseModel) if getattr(cls, "DRAWN", ())}
    assert len(declared) >= 15
    for cls in declared:
        for name, (low, high, _) in _drawn_fields(cls).items():
            assert low < high, (cls.__name__, name)
            assert math.isfinite(low) or math.isfinite(high), (cls.__name__, name)
