"""Run folders handed to us (issue 13, round 2): nothing outside the run folder is
touched, nothing is lost, no traceback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, TINY, chipsim_command, cli

QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """A full run folder (tables, charts, briefing.html and briefing.pdf) of a tiny scenario."""
    base = tmp_path_factory.mktemp("saved")
    scenario = base / "tiny.yaml"
    scenario.write_text(TINY)
    result = cli("run", scenario, "-n", 2, "--out", base / "run", "--quiet")
    assert result.exit_code == 0, result.stderr
    return base / "run"


@pytest.fixture
def run_dir(saved_run, tmp_path) -> Path:
    """A copy of the saved run to tamper with."""
    return Path(shutil.copytree(saved_run, tmp_path / "run"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line_error(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


# 1. symlinks planted in the folder are replaced, never written through

def test_report_never_writes_through_planted_symlinks(run_dir, tmp_path):
    outside = tmp_path / "outside"
    (outside / "charts").mkdir(parents=True)
    (outside / "charts" / "keep.txt").write_text("mine")
    for name in ("briefing.html", "briefing.pdf", "kpis.csv"):
        (outside / name).write_text(f"precious {name}")
    before = _snapshot(outside)
    for name in ("briefing.html", "briefing.pdf", "kpis.csv"):
        (run_dir / name).unlink()
        (run_dir / name).symlink_to(outside / name)
    shutil.rmtree(run_dir / "charts")
    (run_dir / "charts").symlink_to(outside / "charts", target_is_directory=True)

    result = cli("report", run_dir)

    assert _snapshot(outside) == before
    assert sorted(p.name for p in outside.rglob("*")) == sorted(["charts", "keep.txt", "briefing.html",
                                                                 "briefing.pdf", "kpis.csv"])
    if result.exit_code == 0:  # the links were replaced by the report's own files
        assert not (run_dir / "charts").is_symlink() and (run_dir / "charts").is_dir()
        assert not (run_dir / "briefing.html").is_symlink()
        assert (run_dir / "briefing.pdf").read_bytes().startswith(b"%PDF")
    else:
        _one_line_error(result)


def test_report_leaves_no_temporary_folder(run_dir):
    assert cli("report", run_dir).exit_code == 0
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []
    assert (run_dir / "briefing.pdf").read_bytes().startswith(b"%PDF")


# 2. reads only the folder's own files, safely; a failed report keeps the old one

def test_report_ignores_a_scenario_path_in_the_manifest(run_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("name: [this is not a scenario\n")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["variants"][0]["scenario"] = str(elsewhere)
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    result = cli("report", run_dir)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("name", ["manifest.json", "scenario.yaml", "timeseries.parquet", "notes.json"])
def test_a_fifo_in_the_folder_is_refused_at_once(run_dir, name):
    (run_dir / name).unlink()
    os.mkfifo(run_dir / name)
    proc = subprocess.run(chipsim_command("report", run_dir), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert name in proc.stderr


def test_a_symlinked_scenario_is_not_followed(run_dir, tmp_path):
    outside = tmp_path / "other.yaml"
    shutil.copy(run_dir / "scenario.yaml", outside)
    (run_dir / "scenario.yaml").unlink()
    (run_dir / "scenario.yaml").symlink_to(outside)
    line = _one_line_error(cli("report", run_dir))
    assert "scenario.yaml" in line


def test_a_saved_scenario_cut_before_its_nodes_reports_without_a_traceback(run_dir):
    # found by the fuzz campaign of 2 Dec 2026 (seed 1202): a scenario.yaml truncated to its
    # products loads as a network without nodes, and the network map crashed on it
    text = (run_dir / "scenario.yaml").read_text()
    (run_dir / "scenario.yaml").write_text(text[:text.index("\nnodes:")] + "\n")
    result = cli("report", run_dir)
    assert result.exit_code in (0, 2), result.stderr
    assert "Traceback" not in result.stderr and (result.exception is None or isinstance(result.exception, SystemExit))


def test_a_scenario_without_nodes_runs_and_reports(tmp_path):
    # valid by the contract (nothing requires a node); it must not crash the charts
    path = tmp_path / "empty.yaml"
    path.write_text("name: empty\nhorizon: 5\nproducts: {x: {}}\n")
    result = cli("run", path, "--out", tmp_path / "run", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "charts" / "network_map.png").is_file()


def test_a_report_that_fails_midway_keeps_the_old_briefing_whole(run_dir, monkeypatch):
    from sim.reporting import briefing

    old = _snapshot(run_dir)

    def half_a_pdf(ctx, path):
        Path(path).write_bytes(b"%PDF-1.4 trunc")
        raise KeyboardInterrupt

    monkeypatch.setattr(briefing, "write_pdf", half_a_pdf)
    result = cli("report", run_dir)
    assert result.exit_code == 130
    assert (run_dir / "briefing.pdf").read_bytes() == old["briefing.pdf"]
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []


# 3. --force replaces only a chipsim folder

@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "s.yaml").write_text(TINY)
    (folder / "notes.txt").write_text("unrelated")
    return folder


def test_force_refuses_the_scenarios_own_folder(project):
    line = _one_line_error(cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", project, "--force"))
    assert "not a chipsim" in line
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt", "s.yaml"]


def test_force_refuses_a_scenario_file(project):
    _one_line_error(cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", project / "s.yaml",
                        "--force"))
    assert (project / "s.yaml").read_text() == TINY


def test_force_refuses_a_folder_with_a_foreign_manifest(project):
    other = project / "other"
    other.mkdir()
    (other / "manifest.json").write_text('{"name": "somebody else\'s"}')
    _one_line_error(cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", other, "--force"))
    assert (other / "manifest.json").exists()


@pytest.mark.parametrize("where", ["scenario", "parent"])
def test_force_refuses_a_chipsim_run_that_holds_a_file_the_command_reads(project, where):
    # A chipsim folder is replaceable, but not when it holds the scenario being run (or an
    # `extends` parent of it): replacing it would delete the input.
    out = project / "run"
    assert cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", out).exit_code == 0
    (out / "inputs").mkdir()
    if where == "scenario":
        run_file = out / "inputs" / "s.yaml"
        run_file.write_text(TINY)
    else:
        (out / "inputs" / "base.yaml").write_text(TINY)
        run_file = project / "child.yaml"
        run_file.write_text("extends: run/inputs/base.yaml\nname: child\n")
    line = _one_line_error(cli("run", run_file, "-n", 1, "--no-report", "--quiet", "--out", out, "--force"))
    assert "which this command reads" in line
    assert sorted(p.name for p in (out / "inputs").iterdir()) == ["base.yaml" if where == "parent" else "s.yaml"]


def test_force_replaces_a_chipsim_run(project):
    out = project / "run"
    assert cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", out).exit_code == 0
    (out / "marker").write_text("old")
    result = cli("run", project / "s.yaml", "-n", 2, "--no-report", "--quiet", "--out", out, "--force")
    assert result.exit_code == 0, result.stderr
    assert not (out / "marker").exists()
    assert json.loads((out / "manifest.json").read_text())["replications"] == 2


# 4. two runs into the same --out: one wins, the other says so

def test_two_concurrent_runs_on_the_same_out(tmp_path):
    out = tmp_path / "same"
    procs = [subprocess.Popen(chipsim_command("run", QUICKSTART, "-n", 4, "--seed", seed, "--no-report", "--quiet",
                                              "--out", out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for seed in (1, 2)]
    done = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in done)
    assert codes == [0, 2], done
    loser = next(text for code, text in done if code == 2)
    assert str(out) in loser and "Traceback" not in loser
    manifest = json.loads((out / "manifest.json").read_text())
    winner_seed = 1 if done[0][0] == 0 else 2
    assert manifest["seed"] == winner_seed
    from sim.results import Results
    assert Results.load(out).seed == winner_seed
    assert [p.name for p in tmp_path.iterdir()] == ["same"]


# 7. tampered folders: one line naming the file, exit 2

def _edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(change(manifest)))


def _drop_metric(folder: Path) -> None:
    import pandas as pd

    path = folder / "timeseries.parquet"
    pd.read_parquet(path).drop(columns="metric").to_parquet(path)


TAMPERED = {
    "manifest a list": ("manifest.json", lambda f: (f / "manifest.json").write_text("[1, 2]")),
    "manifest not json": ("manifest.json", lambda f: (f / "manifest.json").write_text("{nope")),
    "variants not a list": ("manifest.json", lambda f: _edit_manifest(f, lambda m: dict(m, variants={"a": 1}))),
    "variant without id": ("manifest.json", lambda f: _edit_manifest(f, lambda m: dict(m, variants=[{"label": "x"}]))),
    "variant id a path": ("manifest.json",
                          lambda f: _edit_manifest(f, lambda m: dict(m, kind="compare", variants=[{"id": "../x"}]))),
    "scenario invalid": ("scenario.yaml", lambda f: (f / "scenario.yaml").write_text("name: [unclosed\n")),
    "parquet without metric": ("timeseries.parquet", _drop_metric),
    "parquet garbage": ("timeseries.parquet", lambda f: (f / "timeseries.parquet").write_bytes(b"\x00garbage" * 50)),
    "kpis garbage": ("kpis.csv", lambda f: (f / "kpis.csv").write_bytes(b"\xff\xfe\x00,,\n\"unclosed")),
    "per_replication garbage": ("per_replication.csv", lambda f: (f / "per_replication.csv").write_text("a\n1\n")),
    "notes a string": ("notes.json", lambda f: (f / "notes.json").write_text('"notes"')),
    "per_replication without node": ("per_replication.csv",
                                     lambda f: (f / "per_replication.csv").write_text("replication,node\n1,2\n")),
    "manifest nested 1000 deep": ("manifest.json", lambda f: (f / "manifest.json").write_text('{"a":' * 1000 + "1" + "}" * 1000)),
    "notes nested 3000 deep": ("notes.json", lambda f: (f / "notes.json").write_text("[" * 3000 + "]" * 3000)),
    "replications a string": ("manifest.json", lambda f: _edit_manifest(f, lambda m: dict(m, replications="abc"))),
    "replications negative": ("manifest.json", lambda f: _edit_manifest(f, lambda m: dict(m, replications=-5))),
    "seed negative": ("manifest.json", lambda f: _edit_manifest(f, lambda m: dict(m, seed=-1))),
    "per_replication missing": ("per_replication.csv", lambda f: (f / "per_replication.csv").unlink()),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_folder_is_one_line_naming_the_file(run_dir, case):
    name, tamper = TAMPERED[case]
    before = (run_dir / "briefing.pdf").read_bytes()
    tamper(run_dir)
    line = _one_line_error(cli("report", run_dir))
    assert name in line, line
    assert (run_dir / "briefing.pdf").read_bytes() == before


# 6. user strings in CSV, SVG and HTML outputs

INJECTING = """\
name: "=HYPERLINK(\\"http://x\\") \\x01\\x1b[31m"
horizon: 30
products:
  "@magnet\\x01": {unit: "-t\\x1b"}
nodes:
  "+cn\\x01magnets":
    region: "=CN"
    produces: "@magnet\\x01"
    capacity: 10
  "-us\\x1bbuyers":
    region: US
    demand: {product: "@magnet\\x01", rate: 5}
    inventory: {"@magnet\\x01": 50}
lanes:
  - {from: "+cn\\x01magnets", to: "-us\\x1bbuyers", product: "@magnet\\x01", lead_time: 3}
"""
USER_STRINGS = ("=HYPERLINK", "@magnet\x01", "-t\x1b", "+cn\x01magnets", "-us\x1bbuyers", "=CN")


@pytest.fixture(scope="module")
def injected(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("inject")
    (base / "s.yaml").write_text(INJECTING)
    result = cli("run", base / "s.yaml", "-n", 2, "--out", base / "run", "--quiet", "--svg")
    assert result.exit_code == 0, result.stderr
    return base / "run"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_cells_from_user_strings_start_with_an_apostrophe(injected):
    import csv

    files = sorted(injected.rglob("*.csv"))
    assert {p.name for p in files} >= {"kpis.csv", "per_replication.csv", "kpi_bars.csv", "network_map.csv"}
    seen = 0
    for path in files:
        for row in csv.reader(path.read_text(encoding="utf-8").splitlines()):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")) or _is_number(cell), (path.name, cell)
                if any(s in cell for s in USER_STRINGS):
                    assert cell.startswith("'") or not cell.startswith(tuple("=+-@")), (path.name, cell)
                    seen += 1
    assert seen > 10


def test_the_apostrophes_are_undone_when_read_back(injected):
    from sim.results import Results

    loaded = Results.load(injected)
    assert set(loaded.kpis["node"]) == {"-us\x1bbuyers"}
    assert set(loaded.kpis["unit"]) == {"-t\x1b"}


def test_chart_svgs_and_the_briefing_stay_well_formed(injected, tmp_path):
    import xml.etree.ElementTree as ET

    svgs = sorted((injected / "charts").glob("*.svg"))
    assert len(svgs) >= 3
    for svg in svgs:
        ET.parse(svg)
    html = (injected / "briefing.html").read_text(encoding="utf-8")
    assert "\x01" not in html and "\x1b" not in html
    copy = Path(shutil.copytree(injected, tmp_path / "again"))
    assert cli("report", copy).exit_code == 0
    for svg in sorted((copy / "charts").glob("*.svg")):
        ET.parse(svg)


# 5. leftovers of killed runs are swept by the next run into the same place

def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_the_next_run_sweeps_partial_folders_of_killed_runs(project):
    from sim.provenance import owner_tag

    host = owner_tag().split(".")[1]
    dead = project / f".run.partial-{_dead_pid()}.{host}.abc123"
    alive = project / f".run.partial-{os.getpid()}.{host}.def456"
    other = project / ".run.partial-xyz"  # not one of ours: kept
    for folder in (dead, alive, other):
        folder.mkdir()
        (folder / "timeseries.parquet").write_text("half")
    result = cli("run", project / "s.yaml", "-n", 1, "--no-report", "--quiet", "--out", project / "run")
    assert result.exit_code == 0, result.stderr
    assert not dead.exists() and alive.exists() and other.exists()
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".run.")) == sorted([alive.name, other.name])


def test_report_sweeps_its_own_leftover_staging_folders(run_dir):
    from sim.provenance import owner_tag

    dead = run_dir / f".report.partial-{_dead_pid()}.{owner_tag().split('.')[1]}.zz"
    (dead / "charts").mkdir(parents=True)
    assert cli("report", run_dir).exit_code == 0
    assert not dead.exists()


def test_summary_runs_sweep_reps_folders_of_killed_runs(tmp_path, monkeypatch):
    import tempfile

    import sim
    from sim.provenance import owner_tag

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"chipsim-reps-{_dead_pid()}.{owner_tag().split('.')[1]}.q"
    dead.mkdir()
    (dead / "block0.bin").write_bytes(b"\0" * 64)
    (tmp_path / "s.yaml").write_text(TINY)
    sim.run(sim.load_scenario(tmp_path / "s.yaml"), replications=2, keep="summary", progress=False)
    assert not dead.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("chipsim-reps-")] == []


def test_a_run_folder_named_through_a_link_still_reports(run_dir, tmp_path):
    """DIR itself may be a link the user chose (runs/latest); only links inside it are refused."""
    link = tmp_path / "latest"
    link.symlink_to(run_dir, target_is_directory=True)
    assert cli("report", link).exit_code == 0
    from sim.results import Results
    assert Results.load(link).replications == 2


def test_report_refuses_a_compare_folder_whose_scenarios_folder_is_a_symlink(tmp_path):
    import shutil

    (tmp_path / "a.yaml").write_text(TINY)
    (tmp_path / "b.yaml").write_text(TINY)
    out = tmp_path / "cmp"
    result = cli("compare", tmp_path / "a.yaml", tmp_path / "b.yaml", "-n", 1, "--no-report", "--quiet", "--out", out)
    assert result.exit_code == 0, result.stderr
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "scenarios", elsewhere)
    (out / "scenarios").symlink_to(elsewhere, target_is_directory=True)
    line = _one_line_error(cli("report", out))
    assert "scenarios is not a folder (a symbolic link?)" in line
