"""Runs that would overflow stop with a message naming where (issue 13)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

import sim
from helpers import chipsim_command
from sim.errors import ChipsimUserError
from sim.executors import finite_values
from sim.network import build_network

# demand 1e300 x 1e308 would overflow to inf on day 5, the shock's first day (2025-01-06)
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


def test_validate_refuses_the_overflowing_figures_before_anything_runs(overflowing, tmp_path):
    proc = subprocess.run(chipsim_command("run", str(overflowing), "--out", str(tmp_path / "out")), capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout + proc.stderr
    # line 9 holds the demand rate, line 14 the shock's multiplier
    assert proc.returncode == 2 and "overflow.yaml:9:" in out and "overflow.yaml:14:" in out and "Traceback" not in out
    assert not (tmp_path / "out").exists()


def test_non_finite_daily_values_stop_the_run_naming_node_metric_and_day(overflowing):
    text = OVERFLOWING.replace("rate: 1.0e300", "rate: 5").replace("multiplier: 1.0e308", "multiplier: 2")
    overflowing.write_text(text)
    net = build_network(sim.load_scenario(overflowing))
    k = next(i for i, (slot, metric) in enumerate(net.series) if metric == "shortfall" and net.slots[slot][0] == "buyer")
    values = np.zeros((net.horizon, len(net.series)))
    assert finite_values(net, 0, values) is values
    values[5, k] = np.inf  # day 5 from 2025-01-01 is 2025-01-06
    with pytest.raises(ChipsimUserError, match=r"replication 3: shortfall of a at buyer became inf on day 5 \(2025-01-06\)"):
        finite_values(net, 3, values)


def test_more_replications_than_a_file_may_ask_for_are_refused_on_the_command_line_too(overflowing, tmp_path):
    # a scenario file may ask for at most 100,000 (schema); -n 200000 used to be accepted
    overflowing.write_text(OVERFLOWING.replace("rate: 1.0e300", "rate: 5").replace("multiplier: 1.0e308", "multiplier: 2"))
    proc = subprocess.run(chipsim_command("run", str(overflowing), "-n", "200000", "--out", str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "from 1 to 100,000" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(ChipsimUserError, match="from 1 to 100,000"):
        sim.run(sim.load_scenario(overflowing), replications=100_001, progress=False)


@pytest.mark.parametrize("address", ["not a url", "tcp://127.0.0.1:99999", "tcp://:8786", "http://127.0.0.1:8786"])
def test_a_bad_scheduler_address_is_one_line_before_connecting(overflowing, tmp_path, address):
    pytest.importorskip("distributed")
    overflowing.write_text(OVERFLOWING.replace("rate: 1.0e300", "rate: 5").replace("multiplier: 1.0e308", "multiplier: 2"))
    proc = subprocess.run(chipsim_command("run", str(overflowing), "--executor", "dask", "--scheduler", address,
                                          "--out", str(tmp_path / "out")), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "is not a Dask scheduler address" in proc.stderr and "Traceback" not in proc.stderr


def test_a_run_without_any_demand_still_writes_its_briefing(tmp_path):
    # a demand rate of 0 leaves every fill rate undefined; the charts' focus row used to
    # come from idxmin over NaN and crash after simulating
    path = tmp_path / "zero.yaml"
    path.write_text(OVERFLOWING.replace("rate: 1.0e300", "rate: 0").replace("multiplier: 1.0e308", "multiplier: 2"))
    proc = subprocess.run(chipsim_command("run", str(path), "--out", str(tmp_path / "out"), "--no-pdf"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "briefing.html").exists()


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("schema",), ("validate", "scenarios/quickstart.yaml")])
def test_a_full_standard_output_is_one_line_not_a_traceback(args):
    from helpers import ROOT

    with open("/dev/full", "w") as full:
        proc = subprocess.run(chipsim_command(*args), cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "chipsim: cannot write the output: No space left on device"
