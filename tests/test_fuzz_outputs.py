"""The fuzz harness of run and report (bench/fuzz_outputs.py) blames a command only for
what it wrote: a tampered file that `report` refused and left alone is its input."""
from __future__ import annotations

import importlib.util

from helpers import ROOT


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_outputs", ROOT / "bench" / "fuzz_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tampered_input_left_as_it_was_is_not_an_output(tmp_path):
    # seed 2026 replaced per_replication.csv with random bytes starting '-\x11'; report
    # refused it (exit 2) and the harness then read the garbage as a formula cell
    fuzz = _harness()
    folder = tmp_path / "out"
    (folder / "charts").mkdir(parents=True)
    (folder / "per_replication.csv").write_bytes(b"-\x11QD\xff\x7f garbage")
    before = fuzz.snapshot(folder)
    assert fuzz.check_outputs(folder, before) == []
    (folder / "charts" / "kpi_bars.csv").write_text("label\n=cmd|' /C calc'!A0\n")  # written by the command
    (folder / "per_replication.csv").write_text("node\n@SUM(A1)\n")                  # rewritten by it
    problems = fuzz.check_outputs(folder, before)
    assert sorted(p.split(":")[0] for p in problems) == ["kpi_bars.csv", "per_replication.csv"]
