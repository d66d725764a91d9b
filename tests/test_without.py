"""`without:` in an `extends` child: inherited shocks, policies and headlines dropped by
name (docs/scenario-language.md, section 10), so that a scenario can be "the baseline
minus one event"."""
from __future__ import annotations

import pytest

import sim
from helpers import write_file
from sim import ScenarioError, load_scenario

BASE = """\
name: base
horizon: 60
seed: 3
products:
  magnet: {unit: t}
nodes:
  cn_magnets: {region: CN, produces: magnet, capacity: 10}
  jp_magnets: {region: JP, produces: magnet, capacity: 2}
  us_buyers:
    region: US
    demand: {product: magnet, rate: 6}
    inventory: {magnet: 30}
    reorder: {policy: base_stock, days_of_cover: 5}
lanes:
  - {from: cn_magnets, to: us_buyers, product: magnet, lead_time: 2, share: 0.8}
  - {from: jp_magnets, to: us_buyers, product: magnet, lead_time: 2, share: 0.2}
shocks:
  - {type: export_ban, name: CN ban, start: 10, end: 40, product: magnet, from: cn_magnets}
  - {type: capacity_loss, name: JP fire, start: 20, end: 30, node: jp_magnets, fraction: 0.5}
policies:
  - {type: capacity_expansion, name: JP expansion, node: jp_magnets, start: 15, capacity: 3}
headlines:
  - {name: us_short, label: US shortfall, metric: shortfall, node: us_buyers}
"""


def _problems(path) -> list:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_without_drops_the_named_inherited_entries_and_keeps_the_rest(in_tmp):
    write_file(in_tmp, "base.yaml", BASE)
    child = write_file(in_tmp, "child.yaml", """\
        extends: base.yaml
        without: [CN ban, JP expansion, us_short]
        shocks:
          - {type: export_ban, name: CN ban, start: 50, product: magnet, from: cn_magnets}
        """)
    sc = load_scenario(child)
    # the inherited "CN ban" is gone; the child's own shock of the same name is kept
    assert [(s.name, s.start) for s in sc.shocks] == [("JP fire", 20), ("CN ban", 50)]
    assert sc.policies == []
    assert sc.headlines == []


def test_without_reaches_through_a_chain(in_tmp):
    write_file(in_tmp, "base.yaml", BASE)
    write_file(in_tmp, "middle.yaml", "extends: base.yaml\nname: middle\n")
    leaf = write_file(in_tmp, "leaf.yaml", "extends: middle.yaml\nwithout: [JP fire]\n")
    sc = load_scenario(leaf)
    assert [s.name for s in sc.shocks] == ["CN ban"]
    assert sc.name == "middle"


def test_a_scenario_without_its_one_event_runs_as_the_file_that_never_had_it(in_tmp):
    # the base minus the ban and the fire must give, to the last unit, the same run as a
    # file written with neither
    write_file(in_tmp, "base.yaml", BASE)
    minus = write_file(in_tmp, "minus.yaml", "extends: base.yaml\nwithout: [CN ban, JP fire]\n")
    plain = BASE.split("shocks:\n")[0] + "policies:" + BASE.split("policies:")[1]
    never = write_file(in_tmp, "never.yaml", plain)
    a, b = sim.run(minus), sim.run(never)
    assert a.timeseries["value"].tolist() == b.timeseries["value"].tolist()
    # and the ban matters: with it the US buyers are short (30 t of stock against a gap of
    # at least 4 t a day for 5 days and 1 t a day for 25: Japan makes 2, then 2 + 3, of 6)
    short = sim.run(write_file(in_tmp, "with.yaml", "extends: base.yaml\nwithout: [JP fire]\n")).timeseries
    assert short[short["metric"] == "shortfall"]["value"].sum() > 0
    assert a.timeseries[a.timeseries["metric"] == "shortfall"]["value"].sum() == 0


def test_a_name_that_matches_nothing_inherited_is_a_positioned_error(in_tmp):
    write_file(in_tmp, "base.yaml", BASE)
    child = write_file(in_tmp, "child.yaml", "extends: base.yaml\nwithout:\n  - CN bam\n  - JP fire\n")
    (p,) = _problems(child)
    assert (p.file, p.line, p.col) == ("child.yaml", 3, 5)
    assert "CN bam" in p.message and "(did you mean 'CN ban'?)" in p.message


def test_a_child_cannot_drop_its_own_shock(in_tmp):
    # only inherited entries can be dropped: the child would simply not write its own
    write_file(in_tmp, "base.yaml", BASE)
    child = write_file(in_tmp, "child.yaml", """\
        extends: base.yaml
        without: [US fire]
        shocks:
          - {type: capacity_loss, name: US fire, start: 5, node: jp_magnets, fraction: 0.1}
        """)
    (p,) = _problems(child)
    assert p.line == 2 and "US fire" in p.message


@pytest.mark.parametrize("value", ["CN ban", "[1, 2]", "['']", "{a: 1}"])
def test_without_must_be_a_list_of_names(in_tmp, value):
    write_file(in_tmp, "base.yaml", BASE)
    child = write_file(in_tmp, "child.yaml", f"extends: base.yaml\nwithout: {value}\n")
    (p,) = _problems(child)
    assert (p.file, p.line) == ("child.yaml", 2) and "list of the names" in p.message


def test_without_needs_an_extends(in_tmp):
    path = write_file(in_tmp, "alone.yaml", BASE + "without: [CN ban]\n")
    problems = _problems(path)
    assert any(p.line == BASE.count("\n") + 1 and "needs an extends" in p.message for p in problems)


def test_the_json_schema_knows_without():
    from sim.jsonschema import scenario_json_schema
    assert scenario_json_schema()["properties"]["without"]["type"] == "array"
