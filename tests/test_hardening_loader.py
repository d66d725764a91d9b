"""Loader hardening (issue 13): aliases share one copy, text is limited in bytes, and
keys that collide once normalised to text are a positioned error."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from helpers import chipsim_command

BASE = "name: t\nhorizon: 10\nproducts: {a: {unit: t}}\n"


def test_one_anchored_string_aliased_thousands_of_times_is_refused_fast_under_a_memory_cap(tmp_path):
    # 1 MiB anchored once, aliased 2,000 times: 2 GB if each alias were copied
    text = "x" * 2**20
    doc = BASE + f"description: &s {text}\nnodes:\n  n1: {{region: X, produces: a, capacity: 1}}\nnotes:\n"
    doc += "".join("  - *s\n" for _ in range(2000))
    path = tmp_path / "bomb.yaml"
    path.write_text(doc)
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000)); "
    cmd = chipsim_command("validate", str(path))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", limit + "import runpy, sys; sys.argv = ['chipsim'] + sys.argv[1:]; "
                           "runpy.run_module('sim', run_name='__main__')", *cmd[3:]],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "MiB of text" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("first, second, spelled", [
    ("1", '"1"', "1 (a number)"),
    ("2025-01-01", '"2025-01-01"', "2025-01-01 (a date)"),
])
def test_keys_that_collide_as_text_are_a_positioned_error(tmp_path, first, second, spelled):
    doc = BASE + (f"nodes:\n  {first}: {{region: X, produces: a, capacity: 1}}\n"
                  f"  {second}: {{region: Y, produces: a, capacity: 2}}\n")
    path = tmp_path / "keys.yaml"
    path.write_text(doc)
    proc = subprocess.run(chipsim_command("validate", str(path)), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    out = proc.stdout + proc.stderr
    # BASE is 3 lines and "nodes:" the 4th: the second key (line 6, column 3) is reported,
    # naming the first (line 5)
    assert "keys.yaml:6:3:" in out and "line 5, column 3" in out and spelled in out, out


@pytest.mark.parametrize("dist, message", [
    ("{dist: lognormal, mean: 5, sd: 1.0e200}", "sd must be a finite number"),
    ("{dist: poisson, mean: 1.0e19}", "mean must be a finite number"),
    ("{dist: lognormal, mean: 1.0e-300, sd: 1}", "more than a million times its mean"),
    ("{dist: normal, mean: .inf, sd: 1}", "mean must be a finite number"),
    ("{dist: uniform, low: -1.0e300, high: 1}", "low must be a finite number"),
])
def test_distribution_parameters_whose_draws_would_overflow_are_refused_with_a_position(tmp_path, dist, message):
    path = tmp_path / "d.yaml"
    path.write_text(BASE + f"nodes:\n  n1: {{region: X, produces: a, capacity: {dist}}}\n")
    proc = subprocess.run(chipsim_command("validate", str(path)), capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    # line 5 is the node; its capacity value starts at column 42 of "  n1: {region: X, produces: a, capacity: "
    assert proc.returncode == 2 and "d.yaml:5:42:" in out and message in out, out


NETWORK = BASE.replace("products: {a: {unit: t}}", "products: {a: {unit: t}, t: {unit: tool, kind: equipment}}") + """\
nodes:
  src: {region: X, produces: a, capacity: 100}
  buyer: {region: Y, inventory: {a: 10}, demand: {product: a, rate: 5}, reorder: {policy: base_stock, days_of_cover: 10}}
lanes:
  - {from: src, to: buyer, product: a, lead_time: 2}
"""


@pytest.mark.parametrize("change, where, message", [
    # the shock line is line 10 of NETWORK + its shocks header; columns counted in the text
    ("shocks:\n  - {type: export_license, start: 5, from: src, review_days: 1e300wd}\n", "10:", "at most 100,000 working days"),
    ("shocks:\n  - {type: export_ban, start: 5, end: 1.0e21, from: src}\n", "10:", "more than 100,000 days"),
    ("shocks:\n  - {type: demand_change, node: buyer, start: 5, multiplier: 1.0e308}\n", "10:", "<= 1e+06"),
])
def test_values_that_would_overflow_are_refused_by_validate(tmp_path, change, where, message):
    path = tmp_path / "x.yaml"
    path.write_text(NETWORK + change)
    proc = subprocess.run(chipsim_command("validate", str(path)), capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and f"x.yaml:{where}" in out and message in out and "Traceback" not in out, out


@pytest.mark.parametrize("capacity", [
    "1.0e300, fab: {die_area_mm2: 100, stochastic: true, d0_per_cm2: 0.1}",
    "100, equipment: {t: {required: 1.0e300, installed: 1.0e300, attrition: 0.01}}",
])
def test_huge_fab_and_tool_figures_are_refused(tmp_path, capacity):
    path = tmp_path / "x.yaml"
    path.write_text(NETWORK.replace("capacity: 100}", f"capacity: {capacity}}}"))
    proc = subprocess.run(chipsim_command("validate", str(path)), capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "x.yaml:5:" in out and "Traceback" not in out, out


@pytest.mark.parametrize("start_date, horizon, shock, where", [
    ("9999-12-01", "1y", "", "horizon"),                                     # the run's last day is in year 10000
    ("0001-01-01", "60", "shocks:\n  - {type: export_ban, start: -10, end: 10, from: src}\n", "shocks[0].start"),
])
def test_days_outside_the_calendar_are_positioned_errors(tmp_path, start_date, horizon, shock, where):
    path = tmp_path / "x.yaml"
    path.write_text(NETWORK.replace("horizon: 10", f"horizon: {horizon}\nstart_date: {start_date}") + shock)
    proc = subprocess.run(chipsim_command("validate", str(path)), capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and f"{where}: day" in out and "outside the calendar" in out, out
