"""Issue 12, runs side: comparison tables of existing rows only, checks before anything
runs, report on samples and sweeps, date levers, compact run folders, notes and headlines.

Expected numbers are counted by hand from the small scenarios written here.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from helpers import ROOT, ban_text, cli, write_file
from sim.comparison import compare


def two_rows(name: str, end: int, extra: str = "", named: bool = True) -> str:
    """Two buyers, each of one product in its own unit (x in t, y in kg): two demand rows."""
    title = f"name: {name}\n" if named else ""
    return f"""\
{title}horizon: 60
replications: 2
seed: 1
products: {{x: {{unit: t}}, y: {{unit: kg}}}}
nodes:
  sx: {{region: CN, produces: x, capacity: 100}}
  sy: {{region: CN, produces: y, capacity: 100}}
  bx: {{region: US, inventory: {{x: 50}}, demand: {{product: x, rate: 5}}, reorder: {{level: 100}}}}
  by: {{region: US, inventory: {{y: 50}}, demand: {{product: y, rate: 5}}, reorder: {{level: 100}}}}
lanes:
  - {{from: sx, to: bx, product: x, lead_time: 7}}
  - {{from: sy, to: by, product: y, lead_time: 7}}
shocks:
  - {{type: export_ban, start: 0, end: {end}, from: sx}}
{extra}"""


OTHER = """\
name: elsewhere
horizon: 60
products: {z: {unit: t}}
nodes:
  sz: {region: CN, produces: z, capacity: 100}
  bz: {region: US, inventory: {z: 50}, demand: {product: z, rate: 5}}
lanes:
  - {from: sz, to: bz, product: z, lead_time: 7}
"""


def test_comparison_rows_are_existing_pairs_times_metrics_times_options(tmp_path):
    # pairs (bx, x, t) and (by, y, kg): 2. Metrics paired per row: shortfall, fill rate,
    # delivered, time to survive, time to recover, cost = 6 (no chips, so no energy).
    # Options: 2. 2 x 6 x 2 = 24 rows; crossing nodes, products and units would give 8 row
    # keys instead of 2.
    base = write_file(tmp_path, "base.yaml", two_rows("base", 30))
    a = write_file(tmp_path, "a.yaml", two_rows("a", 20))
    b = write_file(tmp_path, "b.yaml", two_rows("b", 10))
    d = compare([base, a, b]).differences
    assert len(d) == 2 * 6 * 2
    assert set(zip(d["node"], d["product"], d["unit"], strict=True)) == {("bx", "x", "t"), ("by", "y", "kg")}
    assert set(d["variant"]) == {"a", "b"}


def _no_simulation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a simulation started")
    import importlib

    monkeypatch.setattr(importlib.import_module("sim.comparison"), "run_scenario", refuse)


def _one_line_error(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exc_info)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_an_option_sharing_no_demand_node_is_named_before_anything_runs(in_tmp, monkeypatch):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    write_file(in_tmp, "quickstart.yaml", OTHER)
    _no_simulation(monkeypatch)
    line = _one_line_error(cli("compare", "base.yaml", "quickstart.yaml", "-q", "-o", "out"))
    assert "'quickstart'" in line and "no demand node" in line
    assert not (in_tmp / "out").exists()


def test_focus_and_rank_by_are_checked_before_simulating(in_tmp, monkeypatch):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    write_file(in_tmp, "a.yaml", two_rows("a", 20))
    _no_simulation(monkeypatch)
    line = _one_line_error(cli("compare", "base.yaml", "a.yaml", "-q", "--focus", "bxx"))
    assert "'bxx'" in line and "did you mean 'bx'" in line
    line = _one_line_error(cli("compare", "base.yaml", "a.yaml", "-q", "--rank-by", "shortfal"))
    assert "did you mean 'shortfall'" in line
    line = _one_line_error(cli("compare", "base.yaml", "a.yaml", "-q", "--focus", "bx:y"))
    assert "'y'" in line and "x" in line


def test_an_option_not_serving_the_focus_node_is_named(in_tmp, monkeypatch):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    # the option keeps bx (shares a row) but drops by's demand
    option = two_rows("a", 20).replace("by: {region: US, inventory: {y: 50}, demand: {product: y, rate: 5}, "
                                       "reorder: {level: 100}}", "by: {region: US, inventory: {y: 50}}")
    write_file(in_tmp, "a.yaml", option)
    _no_simulation(monkeypatch)
    line = _one_line_error(cli("compare", "base.yaml", "a.yaml", "-q", "--focus", "by"))
    assert "option 'a'" in line and "by" in line


def test_an_option_without_a_name_is_warned_about_and_labelled_by_its_file(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    write_file(in_tmp, "shorter.yaml", "extends: base.yaml\nshocks:\n  - {type: export_ban, start: 0, end: 10, from: sx}\n")
    result = cli("compare", "base.yaml", "shorter.yaml", "-q", "-o", "out", "--no-report")
    assert result.exit_code == 0, result.stderr
    assert "option 'shorter' has no name of its own" in result.stderr
    manifest = json.loads((in_tmp / "out" / "manifest.json").read_text())
    assert [v["label"] for v in manifest["variants"]] == ["base", "shorter"]


def test_report_on_the_committed_sample_is_a_clear_error():
    line = _one_line_error(cli("report", str(ROOT / "reports" / "ree-licensing-options")))
    assert "timeseries.parquet" in line


def test_report_on_a_sweep_folder_says_it_is_one(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    result = cli("sweep", "base.yaml", "--vary", "nodes.sx.capacity=50:150", "--samples", "3", "-n", "1", "-o", "sw")
    assert result.exit_code == 0, result.stderr
    line = _one_line_error(cli("report", "sw"))
    assert "sweep folder" in line


def test_date_levers_sample_whole_days_between_the_bounds(in_tmp):
    # start_date 2025-01-01 is the default; the ban's end moves between 2025-01-11 and
    # 2025-02-10 (30 days). A Latin hypercube of 3 puts one date in each third:
    # [Jan 11, Jan 21], [Jan 21, Jan 31], [Jan 31, Feb 10].
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    result = cli("sweep", "base.yaml", "--vary", "shocks.0.end=2025-01-11:2025-02-10", "--samples", "3", "-n", "1",
                 "-o", "sw")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(in_tmp / "sw" / "sweep.csv")
    ends = sorted(dt.date.fromisoformat(v) for v in table.drop_duplicates("sample")["shocks.0.end"])
    assert len(ends) == 3
    thirds = [(dt.date(2025, 1, 11), dt.date(2025, 1, 21)), (dt.date(2025, 1, 21), dt.date(2025, 1, 31)),
              (dt.date(2025, 1, 31), dt.date(2025, 2, 10))]
    for end, (low, high) in zip(ends, thirds, strict=True):
        assert low <= end <= high
    sens = pd.read_csv(in_tmp / "sw" / "sensitivity.csv")
    assert sens["high"].iloc[0] - sens["low"].iloc[0] == 30


def test_load_warnings_are_printed_on_stderr(in_tmp):
    # a bare duration as end beside a date start keeps its day-number meaning, with a warning;
    # the shock is line 15 of two_rows' text; "  - {" (5) + "type: export_ban, " (18) +
    # "start: 2025-01-01, " (19) + "end: " (5) puts its end value at column 48
    text = two_rows("base", 30).replace("start: 0, end: 30", "start: 2025-01-01, end: 9m")
    write_file(in_tmp, "base.yaml", text)
    for command in (("validate", "base.yaml"), ("run", "base.yaml", "-q", "-o", "out", "--no-report")):
        result = cli(*command)
        assert result.exit_code == 0, result.stderr
        warning = [line for line in result.stderr.splitlines() if "warning:" in line]
        assert len(warning) == 1 and warning[0].startswith("base.yaml:15:48:"), result.stderr


def test_validate_prints_each_shocks_dates(in_tmp):
    # day 0 is 2025-01-01; the ban runs from day 0 to day 30 = 2025-01-31
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    result = cli("validate", "base.yaml")
    assert result.exit_code == 0, result.stderr
    assert "from 2025-01-01 until 2025-01-31" in result.stdout


def test_runs_save_the_compact_form_by_default_and_report_and_load_read_it(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    assert cli("run", "base.yaml", "-q", "-o", "small", "--no-pdf").exit_code == 0
    assert cli("run", "base.yaml", "-q", "-o", "full", "--full-timeseries", "--no-report").exit_code == 0
    small = pd.read_parquet(in_tmp / "small" / "timeseries.parquet")
    full = pd.read_parquet(in_tmp / "full" / "timeseries.parquet")
    # compact: 4 statistics per day and series, and 4 of the running totals per day for
    # the outcome series of the demand nodes bx and by; full: 2 replications per day and series
    daily = {"mean", "p05", "p50", "p95"}
    assert set(small["stat"]) == daily | {f"cumulative_{s}" for s in daily} and "replication" not in small
    outcomes = full[full["node"].isin(["bx", "by"]) & full["metric"].isin(["demand", "delivered", "shortfall", "cost"])]
    running = outcomes[["node", "product", "metric"]].drop_duplicates()
    assert len(small[small["stat"].isin(daily)]) == 2 * len(full)
    assert len(small) == 2 * len(full) + 4 * len(running) * full["day"].nunique()
    assert (in_tmp / "small" / "briefing.html").exists() and not (in_tmp / "small" / "briefing.pdf").exists()
    assert not (in_tmp / "full" / "briefing.html").exists()
    for folder in ("small", "full"):
        assert sim.Results.load(in_tmp / folder).kpis.equals(sim.Results.load(in_tmp / "small").kpis)
        assert cli("report", folder).exit_code == 0
    assert (in_tmp / "full" / "briefing.html").exists()


def test_compare_saves_the_compact_form_by_default(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    write_file(in_tmp, "a.yaml", two_rows("a", 20))
    assert cli("compare", "base.yaml", "a.yaml", "-q", "-o", "cmp", "--no-pdf").exit_code == 0
    ts = pd.read_parquet(in_tmp / "cmp" / "timeseries.parquet")
    assert "stat" in ts and "replication" not in ts
    assert cli("report", "cmp").exit_code == 0


def test_the_notes_of_the_input_files_are_saved_with_the_run(in_tmp):
    text = two_rows("base", 30).replace("replications: 2\n", "replications: 2  # ASSUMPTION: two are enough\n")
    text = text.replace("seed: 1\n", "seed: 1  # source: USGS Mineral Commodity Summaries 2025\n# a comment on its own line\n")
    write_file(in_tmp, "base.yaml", text)
    assert cli("run", "base.yaml", "-q", "-o", "out", "--no-report").exit_code == 0
    notes = json.loads((in_tmp / "out" / "notes.json").read_text())["notes"]
    # line 3 holds the replications, line 4 the seed; the prose comment of line 5 is no note
    assert notes == [{"file": "base.yaml", "line": 3, "kind": "assumption", "text": "two are enough",
                      "figure": "replications: 2"},
                     {"file": "base.yaml", "line": 4, "kind": "source",
                      "text": "source: USGS Mineral Commodity Summaries 2025", "figure": "seed: 1"}]
    from sim.rundir import load_run

    assert load_run(in_tmp / "out").notes == notes


def test_short_threshold_must_be_a_share(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    line = _one_line_error(cli("run", "base.yaml", "-q", "-o", "out", "--short-threshold", "1.5"))
    assert "--short-threshold" in line


def test_short_threshold_overrides_the_scenario(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    assert cli("run", "base.yaml", "-q", "-o", "out", "--short-threshold", "0.5", "--no-report").exit_code == 0
    assert "short_day_threshold: 0.5" in (in_tmp / "out" / "scenario.yaml").read_text()


DECLARED = "headlines:\n  - {name: short_b, label: EU short, metric: shortfall, node: b}\n"


@pytest.mark.parametrize("keep", ["summary", "all"])
def test_declared_headlines_are_computed_per_replication_and_written(in_tmp, keep):
    # ban to day 100: b short on days 25..106, 82 days x 10 t = 820 t in every replication;
    # ban to day 60: days 25..66, 42 x 10 = 420 t; the paired difference is -400 t exactly
    write_file(in_tmp, "long.yaml", ban_text("long", 100) + DECLARED)
    write_file(in_tmp, "short.yaml", ban_text("short", 60) + DECLARED)
    result = cli("run", "long.yaml", "-o", "run", "--no-report", "--keep", keep)
    assert result.exit_code == 0, result.stderr
    run = pd.read_csv(in_tmp / "run" / "headlines.csv")
    assert run.loc[0, "mean"] == pytest.approx(820) and run.loc[0, "replications"] == 4
    assert "EU short: 820 t" in result.stdout
    result = cli("compare", "long.yaml", "short.yaml", "-q", "-o", "cmp", "--no-report", "--keep", keep)
    assert result.exit_code == 0, result.stderr
    both = pd.read_csv(in_tmp / "cmp" / "headlines.csv")
    assert list(both["variant"]) == ["long", "short"] and list(both["headline"]) == ["short_b", "short_b"]
    assert list(both["mean"]) == pytest.approx([820, 420])
    diff = pd.read_csv(in_tmp / "cmp" / "headline_differences.csv").iloc[0]
    assert diff["variant"] == "short" and diff["difference"] == pytest.approx(-400)
    assert diff["difference_low"] == pytest.approx(-400) and diff["pairs"] == 4
    from sim.rundir import load_run

    assert load_run(in_tmp / "cmp").headlines["mean"].tolist() == pytest.approx([820, 420])


def test_written_folders_hold_what_the_docs_list(in_tmp):
    write_file(in_tmp, "base.yaml", two_rows("base", 30))
    assert cli("run", "base.yaml", "-q", "-o", "out").exit_code == 0
    names = {p.name for p in Path(in_tmp / "out").iterdir()}
    assert {"timeseries.parquet", "kpis.csv", "per_replication.csv", "scenario.yaml", "manifest.json", "notes.json",
            "charts", "briefing.html", "briefing.pdf"} <= names
