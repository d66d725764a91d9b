"""Interrupted runs leave nothing behind and exit 130 with one message."""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

from helpers import ROOT, chipsim_command

SLOW = ROOT / "bench" / "scenarios" / "forty_nodes.yaml"


@pytest.mark.parametrize("sig, workers", [(signal.SIGINT, 1), (signal.SIGTERM, 2)])
def test_signal_during_a_run_leaves_no_partial_directory(tmp_path, sig, workers):
    out = tmp_path / "run"
    proc = subprocess.Popen(chipsim_command("run", SLOW, "-n", "500", "--workers", workers, "--out", out, "-q"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_folder_is_one_line(tmp_path):
    import os
    if os.geteuid() == 0:
        # root ignores permissions; a path under a regular file fails the same way for everyone
        target = tmp_path / "a-file" / "run"
        (tmp_path / "a-file").write_text("x")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "run"
    done = subprocess.run(chipsim_command("run", ROOT / "scenarios" / "quickstart.yaml", "-n", "1", "--out", target, "-q"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_absurd_horizon_is_refused_with_its_position(tmp_path):
    import sim
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nhorizon: 3000y\nproducts: {x: {}}\nnodes: {n: {produces: x, capacity: 1}}\n")
    with pytest.raises(sim.ScenarioError, match="at most 36500 days") as info:
        sim.load_scenario(path)
    assert (info.value.problems[0].line, info.value.problems[0].col) == (2, 10)
