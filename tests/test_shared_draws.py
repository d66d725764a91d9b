"""Shared draws (docs/scenario-language.md, distributions): the distributions that name one
``shared`` draw take one common quantile u per replication (1 - u with ``opposite``), so
figures that must move together (a share and its complement, a capacity derived from the
share) do."""
from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from helpers import write_file
from sim import ScenarioError, load_scenario
from sim.distributions import Triangular, Uniform
from sim.errors import ChipsimUserError
from sim.futures import future_document, parse_input, scenario_inputs

# Two Chinese magnet makers whose split of 10 t a day is uncertain: the licence-free one
# makes x ~ tri(2, 3, 5), the listed one 10 - x, the mirror image tri(5, 7, 8) at 1 - u.
SPLIT = """\
name: split
horizon: 20
replications: 12
seed: 5
products:
  magnet: {unit: t}
nodes:
  cn_free:
    region: CN
    produces: magnet
    capacity: {dist: triangular, low: 2, mode: 3, high: 5, shared: free_share}
  cn_listed:
    region: CN
    produces: magnet
    capacity: {dist: triangular, low: 5, mode: 7, high: 8, shared: free_share, opposite: true}
  cn_twin:
    region: CN
    produces: magnet
    capacity: {dist: uniform, low: 20, high: 50, shared: free_share}
  buyers:
    region: US
    demand: {product: magnet, rate: 1000}
lanes:
  - {from: cn_free, to: buyers, product: magnet, lead_time: 1}
  - {from: cn_listed, to: buyers, product: magnet, lead_time: 1}
  - {from: cn_twin, to: buyers, product: magnet, lead_time: 1}
"""


def test_triangular_quantile_is_the_inverse_cdf():
    # tri(0, 0, 1): F(x) = 1 - (1 - x)^2, so the quantile of u is 1 - sqrt(1 - u)
    d = Triangular(dist="triangular", low=0, mode=0, high=1)
    for u in (0.0, 0.19, 0.75, 1.0):
        assert d.quantile(u) == pytest.approx(1 - math.sqrt(1 - u))
    # tri(2, 3, 5): F(3) = (3 - 2)^2 / ((5 - 2)(3 - 2)) = 1/3
    assert Triangular(dist="triangular", low=2, mode=3, high=5).quantile(1 / 3) == pytest.approx(3.0)
    assert Uniform(dist="uniform", low=20, high=50).quantile(0.25) == pytest.approx(27.5)


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    path = write_file(tmp_path_factory.mktemp("split"), "split.yaml", SPLIT)
    res = sim.run(path)
    ts = res.timeseries
    made = ts[ts["metric"] == "produced"].groupby(["replication", "node"], observed=True)["value"].first().unstack()
    return made


def test_a_share_and_its_mirrored_complement_always_sum_to_the_whole(split):
    # demand far above supply: every maker runs at its drawn capacity each day
    total = split["cn_free"] + split["cn_listed"]
    assert np.allclose(total, 10.0)
    assert split["cn_free"].std() > 0.2           # the split does vary over replications
    assert split["cn_free"].between(2, 5).all()


def test_members_without_opposite_move_together(split):
    # cn_twin takes the same quantile u: twin = 20 + 30u, and free = F^-1(u) of tri(2, 3, 5)
    d = Triangular(dist="triangular", low=2, mode=3, high=5)
    for free, twin in zip(split["cn_free"], split["cn_twin"], strict=True):
        assert free == pytest.approx(d.quantile((twin - 20) / 30))


def test_an_unshared_copy_draws_independently(tmp_path):
    # without `shared` the two makers no longer sum to 10 in every replication
    text = SPLIT.replace(", shared: free_share, opposite: true", "").replace(", shared: free_share", "")
    res = sim.run(write_file(tmp_path, "free.yaml", text))
    ts = res.timeseries
    made = ts[ts["metric"] == "produced"].groupby(["replication", "node"], observed=True)["value"].first().unstack()
    assert not np.allclose(made["cn_free"] + made["cn_listed"], 10.0)


@pytest.mark.parametrize("bad, words", [
    ("capacity: {dist: normal, mean: 3, sd: 1, shared: s}", "uniform or triangular"),
    ("capacity: {dist: uniform, low: 1, high: 2, opposite: true}", "give shared"),
    ("capacity: {dist: uniform, low: 1, high: 2, shared: '9 bad name'}", "shared must be a name"),
])
def test_bad_shared_draws_are_refused_where_they_stand(in_tmp, bad, words):
    text = SPLIT.replace("capacity: {dist: triangular, low: 2, mode: 3, high: 5, shared: free_share}", bad)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_file(in_tmp, "bad.yaml", text))
    (p,) = info.value.problems
    assert (p.line, p.col) == (11, 15) and words in p.message, p.message


@pytest.mark.parametrize("field", [
    "lead_time: {dist: uniform, low: 1, high: 3, shared: s}",
])
def test_values_drawn_per_shipment_cannot_be_shared(in_tmp, field):
    text = SPLIT.replace("{from: cn_free, to: buyers, product: magnet, lead_time: 1}",
                         "{from: cn_free, to: buyers, product: magnet, " + field + "}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_file(in_tmp, "bad.yaml", text))
    assert "drawn for every shipment" in info.value.problems[0].message


def test_a_review_time_cannot_be_shared(in_tmp):
    text = SPLIT + ("shocks:\n  - {type: export_license, start: 1, product: magnet, from: cn_free,\n"
                    "     review_days: {dist: uniform, low: 5, high: 9, shared: s}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_file(in_tmp, "bad.yaml", text))
    assert "shipment under review" in info.value.problems[0].message


def test_the_document_keeps_the_link_and_plain_distributions_dump_as_before(in_tmp):
    doc = load_scenario(write_file(in_tmp, "split.yaml", SPLIT)).to_document()
    assert doc["nodes"]["cn_listed"]["capacity"] == {"dist": "triangular", "low": 5.0, "mode": 7.0, "high": 8.0,
                                                   "shared": "free_share", "opposite": True}
    assert Uniform(dist="uniform", low=1, high=2).model_dump() == {"dist": "uniform", "low": 1.0, "high": 2.0}


def test_drivers_and_explore_move_a_shared_draw_as_one_input(in_tmp):
    doc = load_scenario(write_file(in_tmp, "split.yaml", SPLIT)).to_document()
    (lead,) = scenario_inputs(doc)
    assert lead.path == "nodes.cn_free.capacity" and [m.path for m in lead.linked] == [
        "nodes.cn_listed.capacity", "nodes.cn_twin.capacity"]
    # the lead at 3 is its quantile 1/3 (above); the listed maker at 1 - 1/3 of tri(5, 7, 8):
    # 8 - sqrt((1/3) x 3 x 1) = 7; the twin at 20 + 30/3 = 30
    out = future_document(doc, [lead], [3.0], [True])
    assert out["nodes"]["cn_listed"]["capacity"] == pytest.approx(7.0)
    assert out["nodes"]["cn_twin"]["capacity"] == pytest.approx(30.0)
    # --vary of one member moves the whole draw; a new range for one member is refused
    assert [m.path for m in parse_input("nodes.cn_twin.capacity", doc).linked] == [
        "nodes.cn_listed.capacity", "nodes.cn_twin.capacity"]
    with pytest.raises(ChipsimUserError, match="shared draw 'free_share'"):
        parse_input("nodes.cn_listed.capacity=1:2", doc)
