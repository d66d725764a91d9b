"""``chipsim compare --drivers``: what moves each option's difference from the base.

Three buyers hold opening stocks and nothing resupplies them, so over 60 days each serves
exactly its stock (every stock lasts less than the horizon):
- b holds S ~ uniform(100, 200) and uses 10 a day; the option fixes it at 150, so the
  difference in "served at b" is 150 - S: the base-only input S moves it, by 150 - 105 = 45
  at its 5% point and 150 - 195 = -45 at its 95% point; mu* = 90.
- c holds T ~ uniform(0, 50) in the base and T' ~ uniform(0, 100) in the option, using 2 a
  day (120 over the horizon, more than either stock): the difference is T' - T, moved by
  the option's own T' (mu* 0.9 x 100 = 90) and the base's T (mu* 0.9 x 50 = 45), 25 with
  both at their medians (50 - 25).
- d holds U ~ uniform(0, 20) in both files: the same value on both sides, so the
  difference is exactly 0 and no input moves it.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import cli, write_file
from sim.comparedrivers import compare_drivers, plan_compare
from sim.errors import ChipsimUserError
from sim.loader import load_scenario

BASE = """\
name: three stocks
horizon: 60
replications: 1
seed: 5
products: {x: {unit: t}}
nodes:
  b: {region: US, inventory: {x: {dist: uniform, low: 100, high: 200}}, demand: {product: x, rate: 10}}
  c: {region: EU, inventory: {x: {dist: uniform, low: 0, high: 50}}, demand: {product: x, rate: 2}}
  d: {region: JP, inventory: {x: {dist: uniform, low: 0, high: 20}}, demand: {product: x, rate: 1}}
headlines:
  - {name: served_b, label: Served at b, metric: delivered, node: b, product: x}
  - {name: served_c, label: Served at c, metric: delivered, node: c, product: x}
  - {name: served_d, label: Served at d, metric: delivered, node: d, product: x}
"""
OPTION = """\
extends: base.yaml
name: fixed b, wider c
nodes:
  b: {inventory: {x: 150}}
  c: {inventory: {x: {dist: uniform, low: 0, high: 100}}}
"""


def _files(tmp_path):
    return write_file(tmp_path, "base.yaml", BASE), write_file(tmp_path, "option.yaml", OPTION)


def test_each_difference_is_moved_by_the_inputs_that_differ_between_the_files(tmp_path):
    base, option = _files(tmp_path)
    drv = compare_drivers([load_scenario(base), load_scenario(option)], ["base", "option"], trajectories=4,
                          samples=40, top=2)
    idx = drv.indices.set_index(["headline", "input"])["mu_star"]
    assert idx[("served_b (option - base)", "nodes.b.inventory.x")] == pytest.approx(90, rel=1e-6)
    assert idx[("served_c (option - base)", "option:nodes.c.inventory.x")] == pytest.approx(90, rel=1e-6)
    assert idx[("served_c (option - base)", "nodes.c.inventory.x")] == pytest.approx(45, rel=1e-6)
    # d's stock is shared: it moves both sides alike, and the difference not at all
    assert drv.indices[drv.indices["headline"] == "served_d (option - base)"]["mu_star"].abs().max() == pytest.approx(0)
    assert idx[("served_b (option - base)", "nodes.d.inventory.x")] == pytest.approx(0, abs=1e-9)
    eff = drv.effects.set_index(["headline", "input"]).loc[("served_b (option - base)", "nodes.b.inventory.x")]
    assert (eff["headline_at_low"], eff["headline_at_high"]) == (pytest.approx(45), pytest.approx(-45))
    heads = drv.headlines.set_index("headline")
    assert heads.loc["served_c (option - base)", "at_median"] == pytest.approx(25)
    assert heads.loc["served_d (option - base)", ["p05", "p95"]].tolist() == [0, 0]
    assert heads.loc["served_b (option - base)", ["label", "option"]].tolist() == ["Served at b", "fixed b, wider c"]
    assert drv.labels["nodes.b.inventory.x"] == "B: opening stock of X (base only)"
    assert drv.labels["nodes.d.inventory.x"] == "D: opening stock of X"
    assert drv.labels["option:nodes.c.inventory.x"] == "C: opening stock of X (fixed b, wider c only)"
    sets = {i["name"]: i["set_in"] for i in drv.manifest["inputs"]}
    assert sets == {"nodes.b.inventory.x": ["base"], "nodes.c.inventory.x": ["base"],
                    "nodes.d.inventory.x": ["base", "option"], "option:nodes.c.inventory.x": ["option"]}
    # 4 inputs x (4 trajectories x 5 points) + 40 samples + median + 3 top inputs x 2 quantiles,
    # each evaluation running both files
    assert len(drv.evaluations) == 4 * 5 + 40 + 1 + 3 * 2


def test_compare_drivers_writes_the_table_and_the_briefing_section(tmp_path):
    base, option = _files(tmp_path)
    res = cli("compare", base, option, "--out", tmp_path / "cmp", "--drivers", "--no-pdf", "-n", "1")
    assert res.exit_code == 0, res.stderr
    table = pd.read_csv(tmp_path / "cmp" / "drivers" / "drivers.csv")
    b_rows = table[table["headline"] == "served_b (option - base)"]
    assert list(b_rows["input"]) == ["nodes.b.inventory.x"]
    assert (b_rows["headline_at_low"].iloc[0], b_rows["headline_at_high"].iloc[0]) == (45, -45)
    assert table[table["headline"] == "served_d (option - base)"]["input_label"].tolist() == ["no input moves it"]
    html = (tmp_path / "cmp" / "briefing.html").read_text(encoding="utf-8")
    assert "What moves each option&#39;s difference" in html or "What moves each option's difference" in html
    assert "B: opening stock of X (base only)" in html and "45 at its 5% point (105), -45 at its 95% point (195)" in html
    # a difference that is 0 at every point is named once, not given its own sentence
    assert "fixed b, wider c leaves these exactly at the base" in html
    assert "value at every point (difference 0): Served at d." in html
    assert "Served at b, fixed b, wider c minus base: " in html
    manifest = json.loads((tmp_path / "cmp" / "drivers" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["compare"] == {"base": "base", "options": ["option"]}
    assert "What moves each option's difference from the base" in res.stdout


def test_refused_before_anything_runs(tmp_path):
    fixed = BASE.replace("{dist: uniform, low: 100, high: 200}", "150").replace(
        "{dist: uniform, low: 0, high: 50}", "25").replace("{dist: uniform, low: 0, high: 20}", "10")
    base = write_file(tmp_path, "base.yaml", fixed)
    option = write_file(tmp_path, "option.yaml", "extends: base.yaml\nname: other\nnodes: {b: {inventory: {x: 100}}}\n")
    res = cli("compare", base, option, "--out", tmp_path / "cmp", "--drivers")
    assert res.exit_code == 2 and "have uncertain inputs" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "cmp").exists()
    # an option without the node a base headline reads cannot be measured by it
    other = write_file(tmp_path, "other.yaml", BASE.replace("name: three stocks", "name: other").replace(
        "  d: {region: JP, inventory: {x: {dist: uniform, low: 0, high: 20}}, demand: {product: x, rate: 1}}\n", "")
        .replace("  - {name: served_d, label: Served at d, metric: delivered, node: d, product: x}\n", ""))
    with pytest.raises(ChipsimUserError, match="option 'other' cannot be measured by the base's headlines"):
        plan_compare([load_scenario(write_file(tmp_path, "b2.yaml", BASE)), load_scenario(other)], ["b2", "other"])
