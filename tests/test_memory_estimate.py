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
