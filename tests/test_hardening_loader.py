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
