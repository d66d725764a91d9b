"""``chipsim run --drivers``: the run's briefing lists what moves each headline.

The file below has two uncertain inputs: the buyer's demand rate, uniform 5-15 a day, and
the capacity of a plant nobody buys from. The headline is the demand over 10 days, 10 x
rate, so the rate alone moves it: at the rate's 5% and 95% quantiles (5.5 and 14.5) it is
55 and 145, and the idle plant's effect is exactly 0.
"""
from __future__ import annotations

import os

import pandas as pd

from helpers import cli, write_file

TWO_INPUTS = """\
name: two inputs
horizon: 10
replications: 2
seed: 4
products: {x: {unit: t}, y: {unit: t}}
nodes:
  s: {region: CN, produces: x, capacity: 100}
  idle: {region: CN, produces: y, capacity: {dist: uniform, low: 1, high: 2}}
  b: {region: US, demand: {product: x, rate: {dist: uniform, low: 5, high: 15}}}
lanes:
  - {from: s, to: b, product: x, lead_time: 1}
headlines:
  - {name: demand_10d, label: Demand over ten days, metric: demand, node: b, stat: sum}
"""


def test_the_briefing_names_the_input_that_moves_the_headline(tmp_path):
    path = write_file(tmp_path, "two.yaml", TWO_INPUTS)
    res = cli("run", path, "--out", tmp_path / "run", "--drivers", "--no-pdf")
    assert res.exit_code == 0, res.stderr
    table = pd.read_csv(tmp_path / "run" / "drivers" / "drivers.csv")
    movers = table[table["input"].notna()]
    assert list(movers["input"]) == ["nodes.b.demand.rate"]  # the idle plant moves nothing
    row = movers.iloc[0]
    assert (row["input_low"], row["input_high"]) == (5.5, 14.5)
    assert abs(row["headline_at_low"] - 55) < 1e-9 and abs(row["headline_at_high"] - 145) < 1e-9
    html = (tmp_path / "run" / "briefing.html").read_text(encoding="utf-8")
    assert "What moves the headlines" in html
    assert "B: demand rate" in html and "55 at its 5% point (5.5), 145 at its 95% point (14.5)" in html
    assert "What moves the headlines" in res.stdout


def test_chipsim_report_keeps_the_section_and_refuses_a_planted_link(tmp_path):
    path = write_file(tmp_path, "two.yaml", TWO_INPUTS)
    assert cli("run", path, "--out", tmp_path / "run", "--drivers", "--no-pdf", "-q").exit_code == 0
    (tmp_path / "run" / "briefing.html").unlink()
    assert cli("report", tmp_path / "run").exit_code == 0
    assert "What moves the headlines" in (tmp_path / "run" / "briefing.html").read_text(encoding="utf-8")
    # a run folder whose drivers/ is a symlink to somewhere else is refused, not followed
    os.rename(tmp_path / "run" / "drivers", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", tmp_path / "run" / "drivers")
    res = cli("report", tmp_path / "run")
    assert res.exit_code == 2 and "symbolic link" in res.stderr and "Traceback" not in res.stderr


def test_drivers_without_uncertain_inputs_is_refused_before_the_run(tmp_path):
    fixed = TWO_INPUTS.replace("{dist: uniform, low: 1, high: 2}", "1").replace("{dist: uniform, low: 5, high: 15}", "10")
    res = cli("run", write_file(tmp_path, "fixed.yaml", fixed), "--out", tmp_path / "run", "--drivers")
    assert res.exit_code == 2 and "no uncertain inputs" in res.stderr
    assert not (tmp_path / "run").exists()
