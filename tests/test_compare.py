"""Policy comparisons on common random numbers: paired differences, intervals, ranking."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import ban_text, cli
from sim.comparison import compare
from sim.statistics import paired_interval


def test_paired_interval_is_the_t_interval_of_the_mean():
    # diffs 1..5: mean 3, sd sqrt(2.5) = 1.5811; t(0.95, 4) = 2.1318 -> half width
    # 2.1318 x 1.5811 / sqrt(5) = 1.5074
    mean, low, high, n = paired_interval(np.array([1.0, 2, 3, 4, 5]))
    assert (mean, n) == (3.0, 5)
    assert low == pytest.approx(3 - 1.5074, abs=1e-3) and high == pytest.approx(3 + 1.5074, abs=1e-3)
    assert math.isnan(paired_interval(np.array([2.0]))[1])


def ban_file(tmp_path, name, end, extra=""):
    # helpers.ban_text: shortfall runs from day 25 to day end + 6
    text = ban_text(name, end) + extra
    path = tmp_path / f"{name.replace(' ', '_')}.yaml"
    path.write_text(text)
    return path


def test_differences_against_the_base_are_paired_and_exact_when_deterministic(tmp_path):
    # Base ban ends day 100: short on days 25..106 -> 82 days x 10 = 820 t.
    # Option ban ends day 60: short on days 25..66 -> 42 x 10 = 420 t. Difference -400 t in
    # every replication, so the interval is [-400, -400] and the options differ.
    base = ban_file(tmp_path, "long ban", 100)
    short = ban_file(tmp_path, "short ban", 60)
    same = ban_file(tmp_path, "same ban", 100)
    comp = compare([base, short, same])
    d = comp.differences
    row = d[(d.variant == "short_ban") & (d.metric == "shortfall")].iloc[0]
    assert row["base_mean"] == pytest.approx(820) and row["option_mean"] == pytest.approx(420)
    assert row["difference"] == pytest.approx(-400)
    assert row["difference_low"] == pytest.approx(-400) and row["difference_high"] == pytest.approx(-400)
    assert bool(row["distinguishable"])
    rec = d[(d.variant == "short_ban") & (d.metric == "time_to_recover_days")].iloc[0]
    assert rec["base_mean"] == 7 and rec["option_mean"] == 7
    assert list(comp.ranking["variant"]) == ["short_ban", "long_ban", "same_ban"] or \
        list(comp.ranking["variant"]) == ["short_ban", "same_ban", "long_ban"]
    assert any("give the same shortfall" in note for note in comp.notes)


def test_identical_options_are_not_called_different(tmp_path):
    # Two identical scenarios on the same seed: every paired difference is 0, so the
    # verdict is "no difference", never "distinguishable".
    a = ban_file(tmp_path, "ban a", 80)
    b = ban_file(tmp_path, "ban b", 80)
    comp = compare([a, b], replications=3)
    row = comp.differences[comp.differences.metric == "shortfall"].iloc[0]
    assert row["difference"] == 0 and not bool(row["distinguishable"])


def test_compare_rejects_mismatched_horizons(tmp_path):
    a = ban_file(tmp_path, "a", 80)
    b = tmp_path / "b.yaml"
    b.write_text(a.read_text().replace("horizon: 150", "horizon: 120"))
    with pytest.raises(sim.errors.ChipsimUserError):
        compare([a, b])


def test_comparison_directory_and_report_rebuild(tmp_path):
    base = ban_file(tmp_path, "long ban", 100)
    short = ban_file(tmp_path, "short ban", 60)
    comp = compare([base, short])
    out = comp.save(tmp_path / "cmp", svg=True)
    for name in ("timeseries.parquet", "kpis.csv", "comparison.csv", "ranking.csv", "per_replication.csv",
                 "manifest.json", "scenarios/long_ban.yaml", "scenarios/short_ban.yaml", "briefing.html", "briefing.pdf",
                 "charts/shortfall_fan.png", "charts/shortfall_fan.svg", "charts/shortfall_fan.csv",
                 "charts/kpi_bars.png", "charts/survive_recover.png", "charts/network_map.png"):
        assert (out / name).is_file(), name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["variant", "replication", "day", "date", "node", "product", "metric", "value"]
    # the kpi bars chart plots the same numbers the comparison reports (820 and 420 t)
    bars = pd.read_csv(out / "charts" / "kpi_bars.csv")
    short_means = bars[bars.metric == "shortfall"].set_index("variant")["mean"]
    assert short_means["long_ban"] == pytest.approx(820) and short_means["short_ban"] == pytest.approx(420)
    assert set(bars.loc[bars.metric == "shortfall", "unit"]) == {"t"} and set(bars.loc[bars.metric == "fill_rate", "unit"]) == {"share"}
    # rebuild from files alone
    for name in ("briefing.html", "briefing.pdf"):
        (out / name).unlink()
    for path in (out / "charts").iterdir():
        path.unlink()
    result = cli("report", out)
    assert result.exit_code == 0, result.output
    assert (out / "briefing.html").is_file() and (out / "charts" / "kpi_bars.png").is_file()
    rebuilt = pd.read_csv(out / "charts" / "kpi_bars.csv")
    pd.testing.assert_frame_equal(bars, rebuilt)


def test_report_on_a_plain_run_directory(tmp_path):
    path = ban_file(tmp_path, "only", 100)
    out = sim.run(path).save(tmp_path / "run")
    (out / "briefing.html").unlink()
    from sim.reporting.briefing import build_report
    from sim.rundir import load_run
    build_report(load_run(out), out)
    html = (out / "briefing.html").read_text()
    assert "820" in html  # the base shortfall, written into the headline


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = cli("report", tmp_path)
    assert result.exit_code == 2
    assert "not a chipsim run directory" in result.output
