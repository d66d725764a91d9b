"""chipsim drivers: Morris indices against closed forms, a tiny network whose headline is
one input, and the command's errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import cli, write_file
from sim.drivers import drivers, input_label, plan
from sim.driverssave import separated
from sim.errors import ChipsimUserError
from sim.reporting.driversbriefing import driver_sentences, number
from sim.sensitivity import QUANTILES, morris_design, morris_table, quantile_of

# Buyer b holds a uniform(100, 200) stock and uses 10 a day; buyer c holds a
# uniform(0, 50) stock and uses 1 a day; nothing resupplies either. Over 60 days each
# serves exactly its stock (b's lasts 10-20 days, c's at most 50), so the headline
# "served at b" is b's stock and nothing else.
NETWORK = """\
name: two stocks
horizon: 60
replications: 1
seed: 5
products: {x: {unit: t}}
nodes:
  b: {region: US, inventory: {x: {dist: uniform, low: 100, high: 200}}, demand: {product: x, rate: 10}}
  c: {region: EU, inventory: {x: {dist: uniform, low: 0, high: 50}}, demand: {product: x, rate: 1}}
headlines:
  - {name: served_b, label: Served at b, metric: delivered, node: b, product: x}
  - {name: served_c, label: Served at c, metric: delivered, node: c, product: x}
"""


def test_morris_of_a_linear_function_is_its_change_across_the_quantile_range():
    names = ["a", "b", "dummy"]
    unit = morris_design(names, 6, seed=3)
    q = quantile_of(unit)
    assert q.min() == pytest.approx(QUANTILES[0]) and q.max() == pytest.approx(QUANTILES[1])
    # y = 3 q_a + q_b: moving a from its 5% to its 95% quantile changes y by 3 x 0.9
    table = morris_table(names, unit, 3 * q[:, 0] + q[:, 1], seed=3).set_index("input")
    assert table.loc["a", "mu_star"] == pytest.approx(2.7)
    assert table.loc["b", "mu_star"] == pytest.approx(0.9)
    assert table.loc["dummy", "mu_star"] == pytest.approx(0.0)
    assert table.loc["a", "sigma"] == pytest.approx(0.0, abs=1e-9)  # linear: every effect the same
    assert list(table.index[:2]) == ["a", "b"]


def test_morris_sees_an_interaction_in_sigma_not_in_the_mean():
    names = ["a", "b"]
    unit = morris_design(names, 20, seed=1)
    q = quantile_of(unit)
    table = morris_table(names, unit, (q[:, 0] - 0.5) * (q[:, 1] - 0.5), seed=1).set_index("input")
    # the effect of a is 0.9 (q_b - 0.5): its sign changes with b, so sigma > 0 and mu* > |mu|
    assert table.loc["a", "sigma"] > 0.05
    assert table.loc["a", "mu_star"] > abs(table.loc["a", "mu"])


def test_design_errors():
    with pytest.raises(ChipsimUserError, match="at least 2"):
        morris_design(["a"], 1, seed=0)
    with pytest.raises(ChipsimUserError, match="at least one input"):
        morris_design([], 4, seed=0)


def test_tiny_network_headline_is_driven_by_its_own_stock_only(tmp_path):
    path = write_file(tmp_path, "two.yaml", NETWORK)
    drv = drivers(path, trajectories=4, samples=40, top=2)
    idx = drv.indices.set_index(["headline", "input"])
    # served at b = b's stock: across its 5-95% quantiles, 105 to 195, a change of 90
    assert idx.loc[("served_b", "nodes.b.inventory.x"), "mu_star"] == pytest.approx(90, rel=1e-6)
    assert idx.loc[("served_b", "nodes.c.inventory.x"), "mu_star"] == pytest.approx(0, abs=1e-9)
    assert idx.loc[("served_c", "nodes.c.inventory.x"), "mu_star"] == pytest.approx(0.9 * 50, rel=1e-6)
    eff = drv.effects.set_index(["headline", "input"]).loc[("served_b", "nodes.b.inventory.x")]
    assert eff["headline_at_low"] == pytest.approx(105) and eff["headline_at_high"] == pytest.approx(195)
    heads = drv.headlines.set_index("headline")
    assert heads.loc["served_b", "at_median"] == pytest.approx(150)
    # a 40-point Latin hypercube of uniform(100, 200): its 5% and 95% points within a stratum (2.5)
    assert heads.loc["served_b", "p05"] == pytest.approx(105, abs=2.5)
    assert heads.loc["served_b", "p95"] == pytest.approx(195, abs=2.5)
    table = drv.table()
    b_rows = table[table["headline"] == "served_b"]
    assert list(b_rows["input"]) == ["nodes.b.inventory.x"]  # c's stock has no effect: not listed
    assert b_rows["input_label"].iloc[0] == "B: opening stock of X"
    # 2 inputs x (4 trajectories x 3 points) + 40 samples + median + 2 inputs x 2 quantiles
    assert len(drv.evaluations) == 4 * 3 + 40 + 1 + 2 * 2


def test_separated_ranks_only_non_overlapping_intervals():
    mu, conf = [10.0, 5.0, 4.0, 0.0], [2.0, 1.5, 1.0, 0.0]
    assert separated(mu, conf, 0) == "yes"      # 8 > 6.5
    assert separated(mu, conf, 1) == "no"       # 3.5 < 5
    assert separated(mu, conf, 3) == "flat"
    assert separated([3.0], [1.0], 0) == "last"


def test_sentences_and_numbers():
    assert number(1_234_567) == "1.23M" and number("45.38wd") == "45.4wd" and number(0.0637) == "0.0637"
    table = pd.DataFrame([{"headline": "h", "label": "Chips", "unit": "chip", "p05": 1e5, "p50": 2e5, "p95": 3e5,
                           "input": "x", "input_label": "HBM stock", "mu_star": 5e4, "mu_star_conf": 6e4,
                           "ranked": "no", "input_low": 1e6, "input_high": 8e6, "headline_at_low": 1.5e5,
                           "headline_at_high": 2.5e5}])
    (text,) = driver_sentences(table)
    assert text.startswith("Chips: 200k chip (100k to 300k over the uncertain inputs); driven by HBM stock")
    assert "150k at its 5% point (1M), 250k at its 95% point (8M)" in text and "too close to rank" in text


def test_input_labels():
    doc = {"nodes": {"cn_ascend_910c": {"label": None}}, "shocks": [{"name": "Licences"}]}
    assert input_label("nodes.cn_ascend_910c.inventory.hbm_stack", doc) == "CN ascend 910C: opening stock of HBM stack"
    assert input_label("shocks.0.review_days", doc) == "Licences: review days"
    assert input_label("lanes.3.lead_time", doc) == "lanes.3.lead_time"   # no such lane: the path as it is
    lanes = {"lanes": [{"from": "cn_magnets", "to": "us_motor_makers"}]}
    assert input_label("lanes.0.lead_time", lanes) == "lane CN magnets -> US motor makers: lead time"


def test_a_stepped_field_is_named_by_the_dates_of_its_steps():
    doc = {"shocks": [{"name": "Licences", "approval_rate": [{"rate": 0.25}, {"from": "2025-06-02", "rate": 0.85},
                                                             {"from": 400, "rate": 1.0}]}]}
    assert input_label("shocks.0.approval_rate.0.rate", doc) == "Licences: approval rate until 2 Jun 2025"
    assert input_label("shocks.0.approval_rate.1.rate", doc) == "Licences: approval rate from 2 Jun 2025"
    assert input_label("shocks.0.approval_rate.2.rate", doc) == "Licences: approval rate from day 400"
    assert input_label("shocks.0.approval_rate.1.from", doc) == "Licences: approval rate: start of step 2"
    assert input_label("shocks.0.approval_rate.5.rate", doc) == "Licences: approval rate 5 rate"   # no such step


def test_no_uncertain_inputs_and_no_headlines_are_clear_errors(tmp_path):
    fixed = write_file(tmp_path, "fixed.yaml", NETWORK.replace("{dist: uniform, low: 100, high: 200}", "150")
                       .replace("{dist: uniform, low: 0, high: 50}", "20"))
    with pytest.raises(ChipsimUserError, match="no uncertain inputs"):
        plan(fixed)
    bare = write_file(tmp_path, "bare.yaml", NETWORK.split("headlines:")[0])
    with pytest.raises(ChipsimUserError, match="declares no headlines"):
        plan(bare)
    with pytest.raises(ChipsimUserError, match="did you mean 'served_b'"):
        plan(write_file(tmp_path, "two.yaml", NETWORK), ["served_bb"])


def test_cli_errors_and_folder(tmp_path):
    bare = write_file(tmp_path, "bare.yaml", NETWORK.split("headlines:")[0])
    res = cli("drivers", bare, "--out", tmp_path / "o1", "-q")
    assert res.exit_code == 2 and "declares no headlines" in res.stderr and not (tmp_path / "o1").exists()
    res = cli("drivers", write_file(tmp_path, "two.yaml", NETWORK), "--headline", "nope", "--out", tmp_path / "o2", "-q")
    assert res.exit_code == 2 and "no such headline" in res.stderr
    res = cli("drivers", tmp_path / "missing.yaml", "--out", tmp_path / "o3", "-q")
    assert res.exit_code == 2
    out = tmp_path / "ok"
    res = cli("drivers", tmp_path / "two.yaml", "-r", "2", "-N", "4", "--out", out, "-q")
    assert res.exit_code == 0, res.stderr
    assert "Served at b" in res.stdout
    table = pd.read_csv(out / "drivers.csv")
    assert set(table["headline"]) == {"served_b", "served_c"}
    assert (out / "drivers.html").exists() and (out / "charts" / "drivers.png").exists()
    assert np.isfinite(table["mu_star"]).all()
    res = cli("drivers", tmp_path / "two.yaml", "-r", "2", "-N", "4", "--out", out, "-q")
    assert res.exit_code == 2  # the folder exists and --force was not given
