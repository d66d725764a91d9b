"""Issue 16's seed topics in the scenario library: the tungsten chain, China's tungsten
licences, the state data-centre mandate's scope, the Entity List on real ownership and
the Ascend packages' assembly yield. Every expected number is derived by hand below."""
from __future__ import annotations

import math

import pytest

import sim
from helpers import ROOT
from sim.selectors import nodes_matching

SCENARIOS = ROOT / "scenarios"


def _murphy(area_mm2: float, d0: float) -> float:
    ad = area_mm2 / 100 * d0
    return ((1 - math.exp(-ad)) / ad) ** 2


def _dies_per_wafer(area_mm2: float, diameter: float = 300.0) -> int:
    return math.floor(math.pi * (diameter / 2) ** 2 / area_mm2 - math.pi * diameter / math.sqrt(2 * area_mm2))


def test_tungsten_chain_never_binds_in_the_reference():
    # The Hopper fab runs 6,500 wafers a month (30-day months) of an 814 mm^2 die at
    # D0 0.066: 63 gross dies (pi*150^2/814 - pi*300/sqrt(1628) = 63.5) at a Murphy yield
    # of 0.5986, i.e. 216.67 x 63 x 0.5986 = 8,170 dies a day, on every day, if WF6 never
    # runs short. It burns 216.67 x 25 g = 5.4 kg of WF6 a day.
    res = sim.run(sim.load_scenario(SCENARIOS / "reference.yaml"), replications=1)
    ts = res.timeseries
    fab = ts[(ts.node == "tw_tsmc_n4_hopper") & (ts["product"] == "die_gh100") & (ts.metric == "produced")]
    expected = 6500 / 30 * _dies_per_wafer(814) * _murphy(814, 0.066)
    assert _dies_per_wafer(814) == 63
    assert expected == pytest.approx(8170, rel=1e-3)
    assert fab["value"].to_numpy() == pytest.approx(expected, rel=1e-9)
    gas = ts[(ts.node == "tw_tsmc_n4_hopper") & (ts["product"] == "wf6") & (ts.metric == "consumed")]
    assert gas["value"].to_numpy() == pytest.approx(6500 / 30 * 25e-6, rel=1e-9)


def test_tungsten_licence_holds_chinese_tungsten_for_its_review():
    # 08: licences from 4 Feb 2025 (day 34) with a review of at least 45 working days,
    # i.e. 9 weeks = 63 calendar days. An order placed on day 34 leaves on day 97 at the
    # earliest, so China ships no tungsten on days 35..96; before day 34 it ships freely.
    res = sim.run(sim.load_scenario(SCENARIOS / "08-tungsten-export-controls.yaml"), replications=2)
    ts = res.timeseries
    shipped = ts[(ts.node == "cn_tungsten") & (ts.metric == "shipped")]
    assert shipped.loc[(shipped.day >= 35) & (shipped.day <= 96), "value"].sum() == 0
    assert shipped.loc[shipped.day < 34, "value"].sum() > 0


def test_state_mandate_covers_half_the_state_segment_for_six_months():
    # 05: each state node's compute demand is 1.26e6 TFLOPS/day x 1.5^(day/365). From
    # 5 Nov 2025 (day 308) to 5 May 2026 (day 489) each node takes half; from day 489 the
    # mandated node takes all of it and the free node none; before day 308 the reverse.
    res = sim.run(sim.load_scenario(SCENARIOS / "05-china-state-dc-mandate.yaml"), replications=1)
    ts = res.timeseries
    demand = ts[ts.metric == "compute_demand"].set_index(["node", "day"])["value"]

    def full(day: int) -> float:
        return 1.26e6 * 1.5 ** (day / 365)

    for day, before, mandated in ((100, 1.0, 0.0), (400, 0.5, 0.5), (600, 0.0, 1.0)):
        assert demand[("cn_state_dc_before", day)] == pytest.approx(before * full(day), rel=1e-9)
        assert demand[("cn_state_dc_mandated", day)] == pytest.approx(mandated * full(day), rel=1e-9)


def test_affiliates_rule_covers_nothing_beyond_the_listings():
    # Real ownership (03b): SMIC holds 60% of SMIC South (>= 50%), which is also listed by
    # name; Huawei holds nothing of its linked fabs (the Shenzhen fund holds them). So the
    # 50% rule on Huawei and SMIC picks exactly the nodes of Huawei, SMIC and SMIC South.
    scenario = sim.load_scenario(SCENARIOS / "03b-entity-list-affiliates.yaml")
    ruled = set()
    listed = set()
    for entity in ("Huawei", "SMIC"):
        ruled |= nodes_matching(scenario, {"entity": entity, "affiliates": 0.5})
    for entity in ("Huawei", "SMIC", "SMIC South"):
        listed |= nodes_matching(scenario, {"entity": entity})
    assert ruled == listed
    assert "cn_smic_n7_ascend" in listed
    assert "cn_huawei_fabs" not in ruled


@pytest.mark.parametrize(("node", "dies", "stacks", "n_dies"), [
    ("cn_ascend_910b", 1, 4, 1),
    ("cn_ascend_910c", 2, 8, 2),
])
def test_assembly_yield_is_in_the_recipes(node, dies, stacks, n_dies):
    # 04d: a package of n dies yields 0.95^n; inputs per good package = inputs / yield,
    # e.g. the 910C takes 2 / 0.9025 = 2.2161 dies and 8 / 0.9025 = 8.8643 stacks.
    scenario = sim.load_scenario(SCENARIOS / "04d-ascend-assembly-yield.yaml")
    consumes = scenario.nodes[node].consumes
    assert consumes["die_ascend"] == pytest.approx(dies / 0.95 ** n_dies, abs=1e-4)
    assert consumes["hbm_stack"] == pytest.approx(stacks / 0.95 ** n_dies, abs=1e-4)
