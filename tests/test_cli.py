"""The ``chipsim`` command: exit codes, FILE:LINE:COL lines on stderr, schema, runs.

Most tests call the Typer app in-process (``CliRunner``, stdout and stderr kept apart);
a few start a real ``python -m sim`` process, to see exactly what a user sees.
Expected positions were read off the fixture files (tests/fixtures/broken/) by hand;
the same table lives, with the token found at each position, in test_loader.py.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest

import sim
from helpers import ROOT, SUMMARY_LINE, chipsim_command, cli, write_file

PROBLEM_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<message>\S.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# file -> [(line, col, fragment of the message)]
EXPECTED = {
    "syntax_unclosed_flow.yaml": [(18, 10, "YAML syntax error")],
    "unknown_key.yaml": [(10, 5, "did you mean 'capacity'")],
    "unknown_node.yaml": [(16, 12, "did you mean 'cn_magnets'")],
    "negative_capacity.yaml": [(10, 15, ">= 0")],
    "python_tag.yaml": [(2, 7, "not allowed")],
    "duplicate_key.yaml": [(11, 5, "duplicate key")],
    "unknown_shock_type.yaml": [(18, 11, "did you mean 'export_ban'")],
    "shock_no_lane.yaml": [(18, 5, "matches no lane")],
    "bad_distribution.yaml": [(19, 16, "low <= mode <= high")],
    "several_problems.yaml": [
        (10, 5, "did you mean 'capacity'"),
        (13, 23, "did you mean 'magnet'"),
        (14, 25, ">= 0"),
        (17, 12, "did you mean 'cn_magnets'"),
        (18, 67, "low <= high"),
    ],
}

TINY_PARENT = """\
name: tiny parent
horizon: 30
products:
  magnet: {unit: t, price: 50}
nodes:
  cn_magnets:
    region: CN
    produces: magnet
    capacity: 300/month
  jp_magnets:
    region: JP
    produces: magnet
    capacity: 2
  us_buyers:
    region: US
    demand: {product: magnet, rate: 5}
    inventory: {magnet: 50}
    reorder: {policy: base_stock, days_of_cover: 10}
lanes:
  - {from: cn_magnets, to: us_buyers, product: magnet, lead_time: {dist: triangular, low: 3, mode: 5, high: 8}}
  - {from: jp_magnets, to: us_buyers, product: magnet, lead_time: 1w}
"""

TINY_CHILD = """\
extends: parent.yaml
name: tiny ban
start_date: 2025-03-01
shocks:
  - {type: export_ban, start: 2025-03-10, end: 20, product: magnet, from: {region: CN}, to: us_buyers, leakage: 0.1}
"""


def invoke(*args: str):
    """``cli`` (in-process, .stdout and .stderr apart), failing on anything but a normal exit."""
    result = cli(*args)
    # any exception other than the normal exit would be a crash (a traceback for a user)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    env.pop("FORCE_COLOR", None)
    return subprocess.run(chipsim_command(*args), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def problem_lines(stderr: str) -> list[tuple[str, int, int, str]]:
    """Parse stderr: every line is FILE:LINE:COL: message or the closing count."""
    found = []
    for line in ANSI.sub("", stderr).splitlines():
        if SUMMARY_LINE.match(line):
            continue
        match = PROBLEM_LINE.match(line)
        assert match, f"not a FILE:LINE:COL: message line: {line!r}"
        found.append((match["file"], int(match["line"]), int(match["col"]), match["message"]))
    return found


def assert_reports(stderr: str, name: str) -> None:
    assert "Traceback" not in stderr
    lines = problem_lines(stderr)
    assert [(f, line, col) for f, line, col, _ in lines] == [(name, line, col) for line, col, _ in EXPECTED[name]]
    for (_, _, _, message), (_, _, fragment) in zip(lines, EXPECTED[name], strict=True):
        assert fragment in message
    count = len(EXPECTED[name])
    assert f"{count} problem{'s' if count > 1 else ''} found" in stderr


# --- broken files ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXPECTED), ids=[n.removesuffix(".yaml") for n in EXPECTED])
def test_validate_broken_file(broken_dir, name):
    result = invoke("validate", name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert_reports(result.stderr, name)


@pytest.mark.parametrize("name", list(EXPECTED), ids=[n.removesuffix(".yaml") for n in EXPECTED])
def test_run_broken_file(broken_dir, name):
    result = invoke("run", name, "--out", "out", "-q", "-n", "1")
    assert result.exit_code == 2
    assert_reports(result.stderr, name)
    assert not (broken_dir / "out").exists()
    assert not list(broken_dir.glob(".out*"))


def test_real_process_reports_every_broken_file_without_traceback(broken_dir):
    names = list(EXPECTED)
    proc = run_process("validate", *names, cwd=broken_dir)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = problem_lines(proc.stderr)
    expected = [(name, line, col) for name in names for line, col, _ in EXPECTED[name]]
    assert sorted((f, line, col) for f, line, col, _ in lines) == sorted(expected)
    # the os.system tag was never executed
    assert not (broken_dir / "tag-was-executed").exists()


@pytest.mark.parametrize("name", ["python_tag.yaml", "syntax_unclosed_flow.yaml"])
def test_real_process_run_of_a_broken_file(broken_dir, name):
    proc = run_process("run", name, "--out", "out", "-q", cwd=broken_dir)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert_reports(proc.stderr, name)
    assert not (broken_dir / "tag-was-executed").exists()
    assert not (broken_dir / "out").exists()


def test_echo_tag_prints_nothing(tmp_path):
    write_file(tmp_path, "echo.yaml", 'name: !!python/object/apply:os.system ["echo hi"]\nhorizon: 30\n')
    proc = run_process("validate", "echo.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "hi" not in proc.stdout.split()
    assert problem_lines(proc.stderr)[0][:3] == ("echo.yaml", 1, 7)


def test_validate_good_and_bad_together(broken_dir):
    shutil.copy(ROOT / "scenarios" / "quickstart.yaml", broken_dir / "quickstart.yaml")
    result = invoke("validate", "quickstart.yaml", "unknown_key.yaml")
    assert result.exit_code == 2
    assert "ok quickstart.yaml" in result.stdout
    assert_reports(result.stderr, "unknown_key.yaml")


def test_validate_ok(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("validate", "scenarios/quickstart.yaml")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok scenarios/quickstart.yaml")
    assert result.stderr == ""


def test_validate_missing_file(in_tmp):
    result = invoke("validate", "nowhere.yaml")
    assert result.exit_code == 2
    ((file, line, col, message),) = problem_lines(result.stderr)
    assert (file, line, col) == ("nowhere.yaml", 1, 1) and "no such" in message


def test_search_path_option(tmp_path, monkeypatch):
    write_file(tmp_path, "common/parent.yaml", TINY_PARENT)
    write_file(tmp_path, "proj/child.yaml", TINY_CHILD.replace("extends: parent.yaml", "extends: ../common/parent.yaml"))
    monkeypatch.chdir(tmp_path / "proj")
    refused = invoke("validate", "child.yaml")
    assert refused.exit_code == 2
    ((file, line, col, message),) = problem_lines(refused.stderr)
    assert (file, line, col) == ("child.yaml", 1, 10) and "--search-path" in message
    allowed = invoke("validate", "child.yaml", "--search-path", "../common")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout.startswith("ok child.yaml: 3 nodes, 2 lanes, 1 shocks")


# --- schema, version, help ------------------------------------------------------------

def test_schema_is_valid_json_with_the_main_sections():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"name", "horizon", "nodes", "lanes", "shocks", "policies", "extends"} <= set(schema["properties"])
    assert "Distribution" in schema["$defs"]
    assert "horizon" in schema["required"]
    # every reference points at a definition
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', result.stdout)
    assert refs and set(refs) <= set(schema["$defs"])
    assert "Distribution" in refs  # e.g. lead_time


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"chipsim {dist_version('chipsim')}"
    assert sim.__version__ == dist_version("chipsim")


def test_python_dash_m_sim_help_and_version(tmp_path):
    proc = run_process("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for command in ("validate", "run", "schema"):
        assert command in proc.stdout
    proc = run_process("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"chipsim {sim.__version__}"


def test_unknown_command_is_a_usage_error():
    result = invoke("simulate", "x.yaml")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- runs ------------------------------------------------------------------------------

@pytest.fixture
def tiny(in_tmp) -> Path:
    write_file(in_tmp, "parent.yaml", TINY_PARENT)
    return write_file(in_tmp, "child.yaml", TINY_CHILD)


def test_run_writes_a_resolved_scenario_that_loads_back_equal(tiny, tmp_path):
    result = invoke("run", "child.yaml", "--out", "out", "-q", "-n", "1")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    for name in ("timeseries.parquet", "kpis.csv", "scenario.yaml", "manifest.json", "charts"):
        assert (out / name).exists(), name
    original = sim.load_scenario("child.yaml")
    resolved = sim.load_scenario(out / "scenario.yaml")
    assert resolved == original
    text = (out / "scenario.yaml").read_text(encoding="utf-8")
    assert re.search(r"^extends:", text, re.MULTILINE) is None  # merged into one file
    assert "jp_magnets" in text and "tiny ban" in text
    assert resolved.horizon == 30 and resolved.nodes["cn_magnets"].capacity == pytest.approx(10.0)
    # the manifest lists both input files with their hashes
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    inputs = {Path(i["path"]).name: i["sha256"] for i in manifest["inputs"]}
    assert inputs == {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
                      for name in ("child.yaml", "parent.yaml")}
    assert manifest["replications"] == 1


def test_run_twice_into_the_same_out_needs_force(tiny, tmp_path):
    first = invoke("run", "child.yaml", "--out", "out", "-q", "-n", "1")
    assert first.exit_code == 0, first.stderr
    out = tmp_path / "out"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before
    second = invoke("run", "child.yaml", "--out", "out", "-q", "-n", "1", "--seed", "5")
    assert second.exit_code == 2
    assert "already exists" in second.stderr and "--force" in second.stderr
    assert "Traceback" not in second.output
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.yaml", "out", "parent.yaml"]  # no partial folders
    forced = invoke("run", "child.yaml", "--out", "out", "-q", "-n", "1", "--seed", "5", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.yaml", "out", "parent.yaml"]


def test_resolved_scenario_records_the_seed_and_replications_run(tmp_path):
    out = tmp_path / "run"
    result = cli("run", ROOT / "scenarios" / "quickstart.yaml", "--out", out, "-q", "-n", "2", "--seed", "5")
    assert result.exit_code == 0, result.output
    resolved = sim.load_scenario(out / "scenario.yaml")
    assert (resolved.replications, resolved.seed) == (2, 5)


def test_problem_lines_are_printed_verbatim(tmp_path):
    # rich would turn ":100:" (line 100) into an emoji; positions must print as written
    path = tmp_path / "long.yaml"
    # lines 1-2 header, 3-98 filler, 99 products, 100 the node with a negative capacity
    path.write_text("name: x\nhorizon: 10\n" + "# filler\n" * 96 + "products: {p: {}}\nnodes: {n: {produces: p, capacity: -1}}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert ":100:" in result.stderr and "\U0001F4AF" not in result.stderr
