"""The memory estimate against a measured peak (issue 13: it was 4x too low)."""
from __future__ import annotations

import subprocess
import sys

import pytest

import sim
from helpers import ROOT
from sim.experiment import estimated_bytes
from sim.network import build_network

MEASURE = """\
import resource, runpy, sys
sys.argv = ["chipsim", *sys.argv[1:]]
try:
    runpy.run_module("sim", run_name="__main__")
except SystemExit:
    pass
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
@pytest.mark.parametrize("keep", ["all", "summary"])
def test_estimate_is_within_one_and_a_half_times_the_measured_peak(tmp_path, keep):
    path = ROOT / "bench" / "scenarios" / "forty_nodes.yaml"
    reps = 12
    done = subprocess.run([sys.executable, "-c", MEASURE, "run", str(path), "-n", str(reps), "--workers", "1", "--keep", keep,
                           "-q", "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    peak = int(done.stdout.split("PEAK_KB")[1].split()[0]) * 1024  # ru_maxrss is in KiB on Linux
    estimate = estimated_bytes(build_network(sim.load_scenario(path)), reps, keep)
    assert peak / 1.5 <= estimate <= peak * 1.5, (estimate / 2**20, peak / 2**20)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_run_too_big_for_memory_is_refused_before_it_starts_in_every_mode(tmp_path, command):
    # 100,000 replications x 36,500 days x the quickstart's 40 series: in summary mode the
    # per-replication part alone is 1e5 x 36,500 x 40 x 10 bytes = 1.46 TB
    import time

    from helpers import chipsim_command

    text = (ROOT / "scenarios" / "quickstart.yaml").read_text()
    (tmp_path / "big.yaml").write_text(text.replace("horizon: 2y", "horizon: 36500"))
    assert "horizon: 36500" in (tmp_path / "big.yaml").read_text()
    files = ["big.yaml"] if command == "run" else ["big.yaml", "big.yaml"]
    started = time.monotonic()
    done = subprocess.run(chipsim_command(command, *files, "-n", "100000", "--out", "out"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "GB of memory" in done.stderr, done.stderr[-1500:]
    assert time.monotonic() - started < 30 and not (tmp_path / "out").exists()
