"""Node selectors: regions, lists and the ownership-aggregating affiliates rule."""
from __future__ import annotations

import pytest

from sim.selectors import nodes_matching_raw

NODES = {
    "hq_fab": {"region": "CN", "entity": "Huawei"},
    "holdco_plant": {"region": "CN", "entity": "HoldCo", "owners": {"Huawei": 0.6}},
    "sub_fab": {"region": "CN", "entity": "Sub", "owners": {"HoldCo": 0.9}},
    "joint": {"region": "KR", "entity": "Joint", "owners": {"Huawei": 0.3, "HoldCo": 0.4}},
    "us_fab": {"region": "US", "entity": "Intel"},
}


def test_region_and_lists():
    assert nodes_matching_raw({"region": "CN"}, NODES) == {"hq_fab", "holdco_plant", "sub_fab"}
    assert nodes_matching_raw({"region": ["KR", "US"]}, NODES) == {"joint", "us_fab"}
    assert nodes_matching_raw(["us_fab", "joint"], NODES) == {"us_fab", "joint"}
    assert nodes_matching_raw("hq_fab", NODES) == {"hq_fab"}


def test_entity_without_affiliates_covers_only_own_nodes():
    assert nodes_matching_raw({"entity": "Huawei"}, NODES) == {"hq_fab"}


@pytest.mark.parametrize("threshold, covered", [(0.5, True), (0.54, True), (0.6, False)])
def test_indirect_share_is_multiplied_along_the_chain(threshold, covered):
    # Huawei holds 60% of HoldCo, which holds 90% of Sub: 0.6 * 0.9 = 54% of sub_fab.
    chosen = nodes_matching_raw({"entity": "Huawei", "affiliates": threshold}, NODES)
    assert ("sub_fab" in chosen) is covered
    assert "holdco_plant" in chosen or threshold > 0.6


def test_direct_and_indirect_shares_are_summed():
    # joint: 30% direct + 40% via HoldCo * 60% = 0.3 + 0.24 = 54%.
    assert "joint" in nodes_matching_raw({"entity": "Huawei", "affiliates": 0.54}, NODES)
    assert "joint" not in nodes_matching_raw({"entity": "Huawei", "affiliates": 0.55}, NODES)


def test_ownership_cycles_terminate():
    nodes = {"a": {"entity": "A", "owners": {"B": 0.5}}, "b": {"entity": "B", "owners": {"A": 0.5}}}
    assert nodes_matching_raw({"entity": "X", "affiliates": 0.5}, nodes) == set()
    assert nodes_matching_raw({"entity": "A", "affiliates": 0.5}, nodes) == {"a", "b"}
