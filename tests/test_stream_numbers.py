"""Random streams follow an item, not its position (leverspec.stream_numbers): a shock's
licence decisions and drawn fields come from streams numbered by its ``stream`` (by default
one more than the previous item's, which is its position). ``without:`` writes the numbers
the kept items had in the parent, so that a child that drops an early shock keeps common
random numbers with its parent for every later one.

The test network has two independent chains (s1 -> b1, s2 -> b2). Shock A puts a coin-flip
licence on chain 1, shock B one on chain 2, and a capacity loss C with a drawn fraction
hits s2. Nothing on chain 2 depends on chain 1, so by the principle of common random
numbers chain 2's series must be the same, day by day, in the parent and in a child that
drops A; before stream numbers, B and C moved up one place and drew A's and B's numbers.
"""
from __future__ import annotations

import pytest

import sim
from helpers import write_file

PARENT = """\
name: parent
horizon: 200
replications: 3
seed: 7
products:
  x: {unit: t}
nodes:
  s1: {region: CN, produces: x, capacity: 100}
  s2: {region: CN, produces: x, capacity: 100}
  b1: {region: EU, demand: {product: x, rate: 10}, inventory: {x: 50}, reorder: {policy: base_stock, days_of_cover: 5}}
  b2: {region: EU, demand: {product: x, rate: 10}, inventory: {x: 50}, reorder: {policy: base_stock, days_of_cover: 5}}
lanes:
  - {from: s1, to: b1, product: x, lead_time: 3}
  - {from: s2, to: b2, product: x, lead_time: 3}
shocks:
  - {type: export_license, name: A, start: 0, from: s1, to: b1, product: x, approval_rate: 0.5, review_days: 5}
  - {type: export_license, name: B, start: 0, from: s2, to: b2, product: x, approval_rate: 0.5,
     review_days: {dist: uniform, low: 2, high: 20}}
  - {type: capacity_loss, name: C, node: s2, start: 30, end: 60, fraction: {dist: uniform, low: 0.2, high: 0.9}}
"""


def _chain2(res):
    ts = res.timeseries
    rows = ts[ts["node"].isin(["b2", "s2", "s2->b2"])]
    return rows.sort_values(["replication", "node", "product", "metric", "day"])["value"].to_numpy()


def test_dropping_an_early_shock_keeps_the_later_shocks_draws(tmp_path):
    parent = write_file(tmp_path, "parent.yaml", PARENT)
    child = write_file(tmp_path, "child.yaml", "extends: parent.yaml\nname: child\nwithout: [A]\n")
    a, b = sim.run(parent), sim.run(child)
    assert _chain2(a).tolist() == _chain2(b).tolist()
    # and chain 1 did change: A is gone, so b1 is never short after its first days
    assert a.kpis.set_index("node").loc["b1", "shortfall"] > 0
    assert b.kpis.set_index("node").loc["b1", "shortfall"] == pytest.approx(0.0)


def test_without_writes_the_numbers_into_the_resolved_scenario(tmp_path):
    write_file(tmp_path, "parent.yaml", PARENT)
    child = sim.load_scenario(write_file(tmp_path, "child.yaml", "extends: parent.yaml\nname: child\nwithout: [A]\n"))
    assert [(s.name, s.stream) for s in child.shocks] == [("B", 1), ("C", 2)]
    # the resolved copy (what a run folder keeps) carries them, so it reruns the same draws
    again = sim.load_scenario(write_file(tmp_path, "resolved.yaml", sim.provenance.scenario_yaml(child)))
    assert [s.stream for s in again.shocks] == [1, 2]
    assert _chain2(sim.run(again)).tolist() == _chain2(sim.run(child)).tolist()


def test_a_shock_added_after_a_drop_follows_the_last_number(tmp_path):
    # one more than the previous item's: the child's own shock takes 3, not 2 (C's number)
    write_file(tmp_path, "parent.yaml", PARENT)
    child = sim.load_scenario(write_file(tmp_path, "child.yaml", """\
        extends: parent.yaml
        name: child
        without: [A]
        shocks:
          - {type: capacity_loss, name: D, node: s1, start: 10, end: 20, fraction: 0.5}
        """))
    assert sim.leverspec.stream_numbers(child.shocks) == [1, 2, 3]


def test_a_file_without_stream_keys_numbers_by_position():
    sc = sim.load_scenario("scenarios/00-as-it-happened-2025-26.yaml")
    assert sim.leverspec.stream_numbers(sc.shocks) == list(range(len(sc.shocks)))
    assert all(s.stream is None for s in sc.shocks)


@pytest.mark.parametrize(("key", "value"), [("replications", "true"), ("seed", "true"), ("stream", "true"), ("stream", '"3"')])
def test_whole_numbers_refuse_booleans_and_strings(tmp_path, key, value):
    # YAML's true would otherwise be read as 1, and "3" as 3: a typo, not a number
    text = PARENT.replace("replications: 3", f"replications: {value}") if key == "replications" else \
        PARENT.replace("seed: 7", f"seed: {value}") if key == "seed" else \
        PARENT.replace("name: A, start: 0,", f"name: A, start: 0, stream: {value},")
    path = write_file(tmp_path, "bad.yaml", text)
    with pytest.raises(sim.ScenarioError, match="valid integer"):
        sim.load_scenario(path)
