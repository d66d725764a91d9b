"""Compute that measures capability (docs/semiconductor.md, "Capability: bandwidth,
efficiency, facility energy"): every expected number below is worked out by hand in the
comment above it, on one data centre holding two chips and no lanes."""
from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from helpers import run, scenario, series, write_file
from sim import ScenarioError, load_scenario
from sim.engine import run_replication
from sim.network import build_network

# chip a: 100 TFLOPS, 4 TB/s, 0.7 kW; chip b: 50 TFLOPS, 2 TB/s, 0.4 kW, 2.5x the system power per FLOP
CHIPS = {"a": {"unit": "chip", "tflops": 100, "power_kw": 0.7, "memory_bandwidth_tbs": 4.0},
         "b": {"unit": "chip", "tflops": 50, "power_kw": 0.4, "memory_bandwidth_tbs": 2.0, "system_power_factor": 2.5}}


def datacentre(horizon=3, demand=None, node=None, products=None, replications=1):
    """1000 TFLOPS/day from 5 chips of a (preferred) and 100 of b; no lanes, no reorder."""
    dem = {"product": ["a", "b"], "measure": "tflops", "rate": 1000, **(demand or {})}
    dc = {"region": "CN", "inventory": {"a": 5, "b": 100}, "demand": dem, **(node or {})}
    return scenario(horizon=horizon, products=products or CHIPS, nodes={"dc": dc}, replications=replications)


def test_bandwidth_is_reported_beside_flops():
    # day 0: 5 a (500 TFLOPS) + 10 b (500 TFLOPS); bandwidth 5 x 4 + 10 x 2 = 40 TB/s
    # day 1: a is gone, 20 b serve the 1000 TFLOPS: 20 x 2 = 40 TB/s
    # day 2: 20 more b: 40 TB/s
    res = run(datacentre(demand={"also_measure": "memory_bandwidth_tbs"}))
    bw = series(res, "dc", "capability_delivered", "memory_bandwidth_tbs")
    assert bw.tolist() == pytest.approx([40.0, 40.0, 40.0])
    assert series(res, "dc", "compute_delivered", "tflops").tolist() == pytest.approx([1000.0] * 3)
    # the bandwidth row is reported, not demanded: no KPI row of its own
    assert "memory_bandwidth_tbs" not in set(res.kpis["product"])


def test_bandwidth_counts_what_was_delivered_not_what_was_asked():
    # only 3 a and 0 b: day 0 delivers 300 TFLOPS = 3 chips x 4 TB/s = 12 TB/s, then nothing
    sc = datacentre(demand={"also_measure": ["memory_bandwidth_tbs"]}, node={"inventory": {"a": 3, "b": 0}})
    bw = series(run(sc), "dc", "capability_delivered", "memory_bandwidth_tbs")
    assert bw.tolist() == pytest.approx([12.0, 0.0, 0.0])


def test_efficiency_gain_divides_the_rate_path():
    # rate 1000, growth 50%/yr, efficiency gain 25%/yr: day 365 = 1000 x 1.5 / 1.25 = 1200,
    # day 730 = 1000 x 2.25 / 1.5625 = 1440; without growth day 365 = 1000 / 1.25 = 800
    big = {"a": 1e9, "b": 0}
    sc = datacentre(horizon=731, demand={"growth": 0.5, "efficiency_gain": 0.25}, node={"inventory": big})
    want = series(run(sc), "dc", "compute_demand")
    assert want.loc[0] == pytest.approx(1000.0)
    assert want.loc[365] == pytest.approx(1200.0)
    assert want.loc[730] == pytest.approx(1440.0)
    flat = series(run(datacentre(horizon=366, demand={"efficiency_gain": 0.25}, node={"inventory": big})),
                  "dc", "compute_demand")
    assert flat.loc[365] == pytest.approx(800.0)


def test_facility_energy_applies_overhead_pue_and_the_system_factor():
    # day 0: a 5 x 0.7 kW x 1.0 + b 10 x 0.4 kW x 2.5 = 3.5 + 10 = 13.5 kW of board-and-system power;
    # x server_overhead 1.6 x pue 1.25 = 27 kW; x 24 h / 1000 = 0.648 MWh.
    # day 1: 20 b x 0.4 x 2.5 x 1.6 x 1.25 x 0.024 = 0.96 MWh
    res = run(datacentre(node={"pue": 1.25, "server_overhead": 1.6}))
    facility = series(res, "dc", "facility_energy_mwh")
    assert facility.tolist() == pytest.approx([0.648, 0.96, 0.96])
    # board-only energy keeps its meaning: (5 x 0.7 + 10 x 0.4) x 0.024 = 0.18 MWh, then 20 x 0.4 x 0.024
    board = series(res, "dc", "energy_mwh")
    assert board.tolist() == pytest.approx([0.18, 0.192, 0.192])
    plain = series(run(datacentre()), "dc", "energy_mwh")
    assert board.tolist() == plain.tolist()  # the same bytes with or without the facility keys


def test_facility_energy_defaults_each_missing_factor_to_one():
    # only pue 1.5: day 1 = 20 b x 0.4 kW x 2.5 x 1.0 x 1.5 x 0.024 = 0.72 MWh
    facility = series(run(datacentre(node={"pue": 1.5})), "dc", "facility_energy_mwh")
    assert facility.loc[1] == pytest.approx(0.72)


def test_a_file_without_the_keys_reports_no_new_series():
    ts = run(datacentre()).timeseries
    assert "facility_energy_mwh" not in set(ts["metric"])
    assert "capability_delivered" not in set(ts["metric"])
    assert set(ts.loc[ts["metric"] == "compute_delivered", "product"]) == {"tflops"}


def test_pue_drawn_once_per_replication_within_its_range():
    # pue uniform 1.1-1.5, overhead 2: day 1 facility / board = 2.5 x 2 x pue (only b is delivered)
    res = run(datacentre(node={"pue": {"dist": "uniform", "low": 1.1, "high": 1.5}, "server_overhead": 2},
                         replications=6))
    ratios = []
    for r in range(6):
        facility = series(res, "dc", "facility_energy_mwh", replication=r)
        board = series(res, "dc", "energy_mwh", replication=r)
        ratio = facility.loc[1:] / board.loc[1:]
        assert np.allclose(ratio, ratio.iloc[0])  # one draw for the whole run
        ratios.append(ratio.iloc[0] / 5.0)
    assert all(1.1 <= p <= 1.5 for p in ratios)
    assert len({round(p, 9) for p in ratios}) > 1


def test_kernel_and_readable_engine_give_the_same_capability_series():
    sc = datacentre(horizon=40, demand={"also_measure": "memory_bandwidth_tbs", "efficiency_gain": 0.3},
                    node={"pue": 1.3, "server_overhead": 1.7})
    net = build_network(sc)
    fast = run_replication(net, 7, 0, engine="kernel")
    slow = run_replication(net, 7, 0, engine="reference")
    assert np.array_equal(fast.values, slow.values)
    assert np.abs(slow.values).sum() > 0


@pytest.mark.parametrize(("node", "demand", "products", "says"), [
    ({"pue": 0.9}, {}, None, "pue"),
    ({"server_overhead": "lots"}, {}, None, "server_overhead"),
    ({}, {"efficiency_gain": -0.1}, None, "efficiency_gain"),
    ({}, {"also_measure": "tflops"}, None, "also_measure repeats"),
    ({}, {}, {**CHIPS, "b": {**CHIPS["b"], "system_power_factor": 0}}, "system_power_factor"),
    ({}, {}, {**CHIPS, "a": {**CHIPS["a"], "memory_bandwidth_tbs": -1}}, "memory_bandwidth_tbs"),
])
def test_bad_values_are_schema_errors(node, demand, products, says):
    with pytest.raises(ValidationError) as info:
        datacentre(node=node, demand=demand, products=products)
    assert says in str(info.value)


def test_keys_need_a_compute_demand_node():
    with pytest.raises(ValidationError, match="pue and server_overhead belong to a compute demand node"):
        scenario(products={"x": {}}, nodes={"b": {"demand": {"product": "x", "rate": 1}, "pue": 1.2}})
    with pytest.raises(ValidationError, match="need `measure:`"):
        scenario(products={"x": {}}, nodes={"b": {"demand": {"product": "x", "rate": 1, "efficiency_gain": 0.2}}})


def test_also_measure_needs_the_attribute_on_every_substitute(tmp_path):
    text = """name: t
horizon: 5
products:
  a: {unit: chip, tflops: 100, memory_bandwidth_tbs: 4}
  b: {unit: chip, tflops: 50}
nodes:
  dc:
    demand: {product: [a, b], measure: tflops, rate: 10, also_measure: memory_bandwidth_tbs}
"""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_file(tmp_path, "t.yaml", text))
    messages = [p.message for p in info.value.problems]
    assert any("product 'b' has no 'memory_bandwidth_tbs' attribute" in m for m in messages), messages
    assert not any("product 'a'" in m for m in messages)


def test_the_worked_example_of_the_docs_gives_its_hand_numbers(tmp_path):
    # docs/semiconductor.md, "Example: China's compute counted three ways", worked by hand there:
    # day 0: 2,000 H20 + 304,000/780 Ascend; day 365: 600,000 / 1.5 TFLOPS
    from helpers import ROOT

    text = (ROOT / "docs" / "semiconductor.md").read_text(encoding="utf-8")
    block = text.split("# file: cn-capability.yaml", 1)[1].split("```", 1)[0]
    res = run(load_scenario(write_file(tmp_path, "cn-capability.yaml", block)))
    ascend0 = 304_000 / 780
    assert series(res, "cn_datacenters", "capability_delivered", "memory_bandwidth_tbs").loc[0] == pytest.approx(
        2000 * 4.0 + ascend0 * 3.2)
    assert series(res, "cn_datacenters", "energy_mwh").loc[0] == pytest.approx((800 + ascend0 * 0.6) * 0.024)
    assert series(res, "cn_datacenters", "facility_energy_mwh").loc[0] == pytest.approx(
        (800 + ascend0 * 0.6 * 1.33) * 1.65 * 1.42 * 0.024)
    assert series(res, "cn_datacenters", "compute_demand").loc[365] == pytest.approx(400_000)


def test_headlines_read_the_capability_series():
    # the three days of test_bandwidth_is_reported_beside_flops and test_facility_energy_...:
    # bandwidth 40 + 40 + 40 = 120 TB/s of chips; facility energy 0.648 + 0.96 + 0.96 = 2.568 MWh
    sc = datacentre(demand={"also_measure": "memory_bandwidth_tbs"}, node={"pue": 1.25, "server_overhead": 1.6})
    doc = sc.to_document()
    doc["headlines"] = [{"name": "bw", "metric": "capability_delivered", "node": "dc"},
                        {"name": "fe", "metric": "facility_energy_mwh", "node": "dc"}]
    heads = run(scenario(**doc)).headlines.set_index("headline")
    assert heads.loc["bw", "mean"] == pytest.approx(120.0)
    assert heads.loc["fe", "mean"] == pytest.approx(2.568)
    assert heads.loc["fe", "unit"] == "MWh"
