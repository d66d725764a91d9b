"""Leftovers of killed runs from before temporary folders named their writer
(``.NAME.partial-<random>``, ``chipsim-reps-<random>``): deleted only when they are
clearly chipsim's own and nothing in them changed for an hour (issue 13)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from helpers import TINY, cli

HOURS = 3600


def _age(folder: Path, seconds: float) -> None:
    """Make ``folder`` and everything in it look untouched for ``seconds``."""
    when = time.time() - seconds
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)) + [folder]:
        os.utime(path, (when, when), follow_symlinks=False)


def _partial_run(folder: Path, manifest: dict | None = None) -> Path:
    """A half-written run folder as an older chipsim left it when killed."""
    (folder / "charts").mkdir(parents=True)
    (folder / "timeseries.parquet").write_bytes(b"PAR1 half")
    (folder / "kpis.csv").write_text("node,product\n")
    (folder / "charts" / "kpi_bars.png").write_bytes(b"\x89PNG")
    (folder / "charts" / ".kpi_bars.svg.x1y2.tmp").write_text("<svg")
    (folder / "manifest.json").write_text(json.dumps(manifest if manifest is not None else {"chipsim_version": "0.1.0"}))
    return folder


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "s.yaml").write_text(TINY)
    return tmp_path


def _run(project: Path) -> None:
    result = cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", project / "run")
    assert result.exit_code == 0, result.stderr


def test_an_old_untagged_partial_folder_of_chipsims_is_swept_by_the_next_run(project):
    old = _partial_run(project / ".run.partial-ab12cd_9")
    _age(old, 2 * HOURS)
    _run(project)
    assert not old.exists()
    assert (project / "run" / "manifest.json").exists()


@pytest.mark.parametrize("spoil", ["fresh", "foreign_file", "foreign_manifest", "link_inside", "name_not_random",
                                   "other_prefix"])
def test_anything_not_clearly_a_dead_chipsim_folder_is_left_alone(project, spoil):
    name = {"name_not_random": ".run.partial-xyz", "other_prefix": ".runs.partial-ab12cd_9"}.get(spoil,
                                                                                                 ".run.partial-ab12cd_9")
    folder = _partial_run(project / name, manifest={"tool": "other"} if spoil == "foreign_manifest" else None)
    outside = project / "precious.txt"
    outside.write_text("mine")
    if spoil == "foreign_file":
        (folder / "thesis.docx").write_text("a user's file")
    if spoil == "link_inside":
        (folder / "charts" / "map.png").symlink_to(outside)
    _age(folder, 0 if spoil == "fresh" else 2 * HOURS)
    _run(project)
    assert folder.exists() and sorted(p.name for p in folder.rglob("*"))  # kept, contents and all
    assert outside.read_text() == "mine"


def test_an_old_untagged_reps_folder_is_swept_by_a_summary_run(tmp_path, monkeypatch):
    import tempfile

    import sim

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead, busy, mixed = (tmp_path / f"chipsim-reps-{n}" for n in ("q1w2e3r4", "t5y6u7i8", "o9p0a1s2"))
    for folder in (dead, busy, mixed):
        folder.mkdir()
        (folder / "block0.bin").write_bytes(b"\0" * 64)
    (mixed / "data.csv").write_text("not ours")
    _age(dead, 2 * HOURS)
    _age(mixed, 2 * HOURS)
    _age(busy, 60)  # written a minute ago: a run of an older chipsim may still be going
    (tmp_path / "s.yaml").write_text(TINY)
    sim.run(sim.load_scenario(tmp_path / "s.yaml"), replications=2, keep="summary", progress=False)
    assert not dead.exists() and busy.exists() and mixed.exists()


def test_report_sweeps_an_old_untagged_staging_folder(tmp_path):
    (tmp_path / "s.yaml").write_text(TINY)
    assert cli("run", tmp_path / "s.yaml", "-n", 1, "--quiet", "--no-pdf", "--out", tmp_path / "run").exit_code == 0
    stage = tmp_path / "run" / ".report.partial-zz11yy22"
    (stage / "charts").mkdir(parents=True)
    (stage / "briefing.html").write_text("<html>")
    _age(stage, 2 * HOURS)
    assert cli("report", tmp_path / "run").exit_code == 0
    assert not stage.exists()


def test_a_folder_of_another_user_is_left_alone(project, monkeypatch):
    from sim import leftovers

    old = _partial_run(project / ".run.partial-ab12cd_9")
    _age(old, 2 * HOURS)
    monkeypatch.setattr(leftovers.os, "getuid", lambda: os.lstat(old).st_uid + 1)
    assert leftovers.sweep_untagged(project, ".run.partial-", "run") == []
    assert old.exists()
