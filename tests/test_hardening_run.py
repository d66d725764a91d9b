"""Runs that overflow stop with a message naming where (issue 13)."""
from __future__ import annotations

import subprocess

import pytest

import sim
from helpers import chipsim_command
from sim.errors import ChipsimUserError

# demand 1e300 x 1e308 overflows to inf on day 5, the shock's first day (2025-01-06)
OVERFLOWING = """\
name: overflow
horizon: 30
products: {a: {unit: t}}
nodes:
  src: {region: X, produces: a, capacity: 100}
  buyer:
    region: Y
    inventory: {a: 10}
    demand: {product: a, rate: 1.0e300}
    reorder: {policy: base_stock, days_of_cover: 10}
lanes:
  - {from: src, to: buyer, product: a, lead_time: 2}
shocks:
  - {type: demand_change, node: buyer, multiplier: 1.0e308, start: 5}
"""


@pytest.fixture
def overflowing(tmp_path):
    path = tmp_path / "overflow.yaml"
    path.write_text(OVERFLOWING)
    return path


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("workers", [1, 2])
def test_non_finite_metrics_stop_the_run_naming_node_and_day(overflowing, workers):
    with pytest.raises(ChipsimUserError, match=r"on day 5 \(2025-01-06\)"):
        sim.run(sim.load_scenario(overflowing), replications=2, workers=workers, progress=False)


def test_the_cli_exits_2_without_a_traceback(overflowing, tmp_path):
    proc = subprocess.run(chipsim_command("run", str(overflowing), "--out", str(tmp_path / "out")), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "on day 5" in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


def test_more_replications_than_a_file_may_ask_for_are_refused_on_the_command_line_too(overflowing, tmp_path):
    # a scenario file may ask for at most 100,000 (schema); -n 200000 used to be accepted
    proc = subprocess.run(chipsim_command("run", str(overflowing), "-n", "200000", "--out", str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "from 1 to 100,000" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(ChipsimUserError, match="from 1 to 100,000"):
        sim.run(sim.load_scenario(overflowing), replications=100_001, progress=False)
