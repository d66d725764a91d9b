"""Properties of the calibrated reference network (scenarios/reference.yaml).

- the unconstrained baseline has no shortfall at any demand node over its whole horizon;
- every number in the file carries a `source:` or `ASSUMPTION` comment on its line, and
  every sourced one names its row of data/sources.csv;
- the stages the issue asks for are present, split by region or firm;
- the parameters fitted on the 2025 magnet replay are the ones the reference and the
  licensing scenario use.
"""
from __future__ import annotations

import re

import pytest

import sim
from helpers import ROOT

REFERENCE = ROOT / "scenarios" / "reference.yaml"
HISTORY = ROOT / "scenarios" / "history" / "magnets-2025.yaml"

# a number that is not part of an identifier (n4, die_gb100 and accel_h200 are names)
NUMBER = re.compile(r"(?<![A-Za-z_0-9.])\d+(?:\.\d+)?(?:e\d+)?")
UNTAGGED_KEYS = {"name", "description", "start_date", "horizon", "replications", "seed"}  # text and run settings


@pytest.fixture(scope="module")
def reference():
    return sim.load_scenario(REFERENCE)


@pytest.fixture(scope="module")
def baseline(reference):
    return sim.run(reference)


def test_baseline_has_no_shortfall_anywhere(baseline, reference):
    kpis = baseline.kpis
    assert len(kpis) >= 10  # every demand node has a row
    assert (kpis["shortfall"] <= 1e-6).all(), kpis.loc[kpis["shortfall"] > 1e-6, ["node", "product", "shortfall"]]
    ts = baseline.timeseries
    assert ts.loc[ts["metric"] == "compute_shortfall", "value"].max() <= 1e-6
    assert reference.horizon >= 730  # the claim covers 2025-26


def test_baseline_serves_compute_in_three_regions(baseline):
    rows = baseline.kpis.set_index("node")
    for node in ("us_datacenters", "cn_datacenters", "row_datacenters"):
        assert rows.loc[node, "product"] == "tflops_bf16"
        assert rows.loc[node, "fill_rate"] == pytest.approx(1.0)
    energy = baseline.timeseries.query("metric == 'energy_mwh'")["value"].sum()
    assert energy > 0


def test_every_number_has_a_source_or_an_assumption():
    missing = []
    for lineno, line in enumerate(REFERENCE.read_text().splitlines(), 1):
        code, _, comment = line.partition("#")
        if not code.strip():
            continue  # comment or blank line
        key = code.strip().lstrip("- ").split(":", 1)[0]
        if key in UNTAGGED_KEYS:
            continue
        value = code.split(":", 1)[1] if ":" in code else code
        if NUMBER.search(value) and not ("source:" in comment or "ASSUMPTION" in comment):
            missing.append(f"{lineno}: {line.strip()}")
    assert not missing, "numbers without a source or ASSUMPTION comment:\n" + "\n".join(missing)


LIBRARY = sorted((ROOT / "scenarios").glob("0*.yaml")) + [ROOT / "scenarios" / "controls-us-chips-2024.yaml"]


@pytest.mark.parametrize("path", [REFERENCE, *LIBRARY], ids=lambda p: p.name)
def test_every_sourced_number_cites_a_row_of_the_sources_file(path):
    # calibration v2: a `source:` comment (in the reference also `derived`) on a line with a
    # value names the row of data/sources.csv it rests on (tests/test_sources.py checks that
    # the ids exist)
    missing = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        code, _, comment = line.partition("#")
        tagged = "source:" in comment or (path == REFERENCE and "derived" in comment)
        if not code.strip() or not tagged:
            continue
        if "data/sources.csv:" not in comment:
            missing.append(f"{lineno}: {line.strip()}")
    assert not missing, "sourced numbers without a data/sources.csv id:\n" + "\n".join(missing)


def test_stages_are_present_and_split_by_region(reference):
    nodes = reference.nodes
    # a network of a few dozen nodes (61 since calibration v2 split Australia's mining from
    # the rest of the world's); the bound guards against accidental blow-ups or deletions
    assert 40 <= len(nodes) <= 65

    def regions(product):
        return {n.region for n in nodes.values() if n.produces == product}

    assert {"CN", "MM", "US", "AU"} <= {n.region for k, n in nodes.items() if "ree_mining" in k}
    assert {"CN", "MY", "US"} <= regions("ndpr_oxide")
    assert {"CN", "MY"} <= regions("dytb_oxide")
    assert {"CN", "JP"} <= regions("ndfeb_magnet")
    assert "CN" in regions("gallium") and "CN" in regions("germanium")
    assert {"NL", "CN"} <= regions("duv_scanner") and regions("euv_scanner") == {"NL"}
    assert {"US", "JP", "CN"} <= regions("depetch_tool")
    assert {n.entity for n in nodes.values() if n.produces == "hbm_stack"} >= {"SK hynix", "Samsung", "Micron", "CXMT"}
    fabs = {k: n for k, n in nodes.items() if n.fab is not None}
    assert {n.entity for n in fabs.values()} >= {"TSMC", "Samsung", "SMIC", "SMIC South"}
    assert any(n.equipment for n in fabs.values() if n.region == "CN")
    for product in ("accel_h200", "accel_h20", "accel_b200", "accel_ascend910b", "accel_ascend910c", "accel_cambricon"):
        assert regions(product), product
        attrs = reference.products[product].attributes
        assert attrs["tflops_bf16"] > 0 and attrs["power_kw"] > 0
    demand_regions = {n.region for n in nodes.values() if n.demand is not None and n.demand.measure == "tflops_bf16"}
    assert demand_regions == {"US", "CN", "ROW"}


def test_fitted_magnet_parameters_match_the_replay(reference):
    history = sim.load_scenario(HISTORY)
    free_share = {lane.to: lane.share for lane in history.lanes if lane.from_ == "cn_magnets_free"}
    listed_share = {lane.to: lane.share for lane in history.lanes if lane.from_ == "cn_magnets_listed"}
    fitted = free_share["us_magnet_buyers"] / (free_share["us_magnet_buyers"] + listed_share["us_magnet_buyers"])
    # the reference splits China's ~90% of each foreign buyer's magnets by the licence-free
    # share s, one shared draw whose most likely value is the fitted share; the listed lanes
    # are the mirror image, so free + listed is China's 0.9 in every replication
    for buyer in ("us_magnet_users", "eu_magnet_users", "row_magnet_users", "cn_magnet_users"):
        lanes = {lane.from_: lane.share for lane in reference.lanes if lane.to == buyer and lane.product == "ndfeb_magnet"}
        free, listed = lanes["cn_magnets_free"], lanes["cn_magnets_listed"]
        assert (free.shared, listed.shared, bool(free.opposite), listed.opposite) == ("licence_free", "licence_free", False, True)
        china = free.mode + listed.mode
        assert free.mode / china == pytest.approx(fitted)
        assert (listed.low, listed.mode, listed.high) == pytest.approx((china - free.high, china - free.mode, china - free.low))
        assert (free.low / china, free.high / china) == pytest.approx((0.2, 0.5))
    # the two makers' capacities split the same 207 kt by the same draw
    free, listed = reference.nodes["cn_magnets_free"].capacity, reference.nodes["cn_magnets_listed"].capacity
    assert (free.shared, listed.shared, listed.opposite) == ("licence_free", "licence_free", True)
    total = free.mode + listed.mode
    assert total == pytest.approx(207000 / 365)
    assert (listed.low, listed.high) == pytest.approx((total - free.high, total - free.low))
    assert free.mode / total == pytest.approx(fitted, abs=0.001)
    # and scenario 1a uses the approval rate fitted there
    fitted_rate = history.shocks[0].approval_rate[-1].rate
    s1 = sim.load_scenario(ROOT / "scenarios" / "01-ree-licensing-2025.yaml")
    assert [s.approval_rate[-1].rate for s in s1.shocks if s.type == "export_license"] == [fitted_rate, fitted_rate]
