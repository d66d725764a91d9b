"""chipsim explore: robustness, regret, PRIM, Sobol and signposts against hand-derived
numbers, and the exploration's table against itself across seeds, workers and Dask."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.discovery import box_in_words, prim_box
from sim.errors import ChipsimUserError
from sim.exploration import explore
from sim.futures import design, parse_input, scenario_inputs, values_of
from sim.robustness import best_cut, parse_threshold, regret, robustness, signposts
from sim.sensitivity import sobol_design, sobol_table

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "quickstart.yaml"
OPTION = ROOT / "tests" / "fixtures" / "explore_option.yaml"
SEARCH = [ROOT / "scenarios"]
INPUTS = ["shocks.0.leakage=0:0.1", "shocks.0.end=2025-06-01:2026-01-01"]


def _switching_table() -> pd.DataFrame:
    """One input x = 0.1 .. 0.9; option A's shortfall is 10x, option B's a constant 5:
    A is best below x = 0.5, B above it."""
    xs = np.round(np.arange(1, 10) / 10, 10)
    rows = [{"future": k, "option": "A", "x": x, "shortfall": 10 * x} for k, x in enumerate(xs)]
    rows += [{"future": k, "option": "B", "x": x, "shortfall": 5.0} for k, x in enumerate(xs)]
    return pd.DataFrame(rows)


def test_regret_and_satisficing_of_a_switching_pair_by_hand():
    table = _switching_table()
    thr = parse_threshold("shortfall@n<=6")
    reg = regret(table, "shortfall").set_index(["future", "option"])["regret"]
    # A's regret is max(0, 10x - 5): 0 up to x = 0.5, then 1, 2, 3, 4; B's is max(0, 5 - 10x)
    assert reg.xs("A", level="option").tolist() == pytest.approx([0, 0, 0, 0, 0, 1, 2, 3, 4])
    assert reg.xs("B", level="option").tolist() == pytest.approx([4, 3, 2, 1, 0, 0, 0, 0, 0])
    rob = robustness(table, "shortfall", thr).set_index("option")
    assert rob.loc["A", "regret_mean"] == pytest.approx(10 / 9)
    assert rob.loc["B", "regret_mean"] == pytest.approx(10 / 9)
    # 90th percentile of [0,0,0,0,0,1,2,3,4] (linear): position 0.9 * 8 = 7.2 -> 3 + 0.2 * (4 - 3)
    assert rob.loc["A", "regret_p90"] == pytest.approx(3.2)
    # A meets shortfall <= 6 while 10x <= 6: x = 0.1 .. 0.6, 6 of 9 futures; B always
    assert rob.loc["A", "satisficing"] == pytest.approx(6 / 9)
    assert rob.loc["B", "satisficing"] == 1.0
    assert rob.loc["B", "rank"] == 1  # the higher satisficing share ranks first
    # both are best at x = 0.5, A in 5 futures, B in 5
    assert rob.loc["A", "best_share"] == pytest.approx(5 / 9) and rob.loc["B", "best_share"] == pytest.approx(5 / 9)


def test_signpost_finds_the_switch_and_the_option_to_switch_to():
    table = _switching_table()
    posts = signposts(table, "A", ["x"], parse_threshold("shortfall@n<=6"))
    post = posts.iloc[0]
    # A fails for x = 0.7, 0.8, 0.9: the best single cut is between 0.6 and 0.7, upwards
    assert post["above"] and post["value"] == pytest.approx(0.65)
    assert post["tpr"] == 1.0 and post["fpr"] == 0.0
    assert post["switch_to"] == "B" and post["switch_share"] == 1.0 and post["option_share"] == 0.0


def test_best_cut_downwards_and_degenerate():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    cut = best_cut(x, np.array([True, True, False, False]), "x")
    assert cut is not None and not cut.above and cut.value == 2.5 and cut.tpr == 1.0 and cut.fpr == 0.0
    assert best_cut(x, np.zeros(4, bool), "x") is None
    assert best_cut(np.ones(4), np.array([True, False, True, False]), "x") is None


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"approval": rng.uniform(0, 1, 3000), "freight": rng.uniform(0, 100, 3000),
                      "noise": rng.uniform(0, 1, 3000)})
    failing = ((x["approval"] < 0.4) & (x["freight"] > 45)).to_numpy()
    box = prim_box(x, failing).set_index("input")
    assert set(box.index) == {"approval", "freight"}  # the noise input is not restricted
    assert 0.35 <= box.loc["approval", "high"] <= 0.45 and box.loc["approval", "restricted_high"]
    assert 40 <= box.loc["freight", "low"] <= 50 and box.loc["freight", "restricted_low"]
    # the true box holds 0.4 * 0.55 = 22% of the futures
    assert box["mass"].iloc[0] == pytest.approx(0.22, abs=0.03)
    assert box["density"].iloc[0] >= 0.9 and box["coverage"].iloc[0] >= 0.85
    words = box_in_words(box.reset_index(), "the stockpile")
    assert "approval is below 0.4" in words or "approval is below 0.3" in words
    assert "freight is above 4" in words and "% of futures" in words


def test_prim_of_nothing_failing_is_empty():
    x = pd.DataFrame({"a": np.linspace(0, 1, 10)})
    assert prim_box(x, np.zeros(10, bool)).empty
    assert "No input region" in box_in_words(prim_box(x, np.zeros(10, bool)), "it")


def test_sobol_of_an_additive_function_matches_the_closed_form():
    # f = x1 + x2 + 0 * x3 with x1 ~ U(0, sqrt 12) (variance 1), x2 ~ normal(0, 1), x3 ~ U(0, 1):
    # S1 = ST = 1/2, 1/2, 0 (additive: no interactions)
    inputs = [parse_input(f"a=0:{math.sqrt(12)}", {}), parse_input("b=normal(0,1)", {}), parse_input("c=0:1", {})]
    names = [i.name for i in inputs]
    unit = sobol_design(names, 2048, seed=11)
    values = values_of(inputs, unit)  # the same mapping the command uses for its design
    table = sobol_table(names, values[:, 0] + values[:, 1], seed=11).set_index("input")
    for name, expected in (("a", 0.5), ("b", 0.5), ("c", 0.0)):
        assert table.loc[name, "S1"] == pytest.approx(expected, abs=0.05)
        assert table.loc[name, "ST"] == pytest.approx(expected, abs=0.05)
        assert table.loc[name, "ST_conf"] < 0.1


def test_design_is_a_seeded_latin_hypercube():
    inputs = [parse_input("a=0:1", {}), parse_input("b=triangular(0,1,4)", {})]
    unit = design(inputs, 10, seed=5)
    assert np.array_equal(unit, design(inputs, 10, seed=5)) and not np.array_equal(unit, design(inputs, 10, seed=6))
    for col in range(2):  # one point in each tenth of every axis
        assert sorted(np.floor(unit[:, col] * 10).astype(int)) == list(range(10))
    v = values_of(inputs, np.array([[0.5, 0.5]]))
    # triangular(0, 1, 4): F(1) = 1/4, so the median solves 1 - (4 - m)^2 / 12 = 1/2: m = 4 - sqrt(6)
    assert v[0, 0] == 0.5 and v[0, 1] == pytest.approx(4 - math.sqrt(6))


def test_scenario_distributions_are_inputs_with_their_units():
    doc = {"shocks": [{"review_days": {"dist": "triangular", "low": "45wd", "mode": "45wd", "high": "60wd"}}]}
    (inp,) = scenario_inputs(doc)
    assert inp.path == "shocks.0.review_days" and inp.suffix == "wd" and inp.dist.high == 60
    assert inp.document_value(50.0) == "50wd"


@pytest.mark.parametrize("text, words", [
    ("fill_rat@eu>=0.95", ["column 1", "did you mean 'fill_rate'"]),
    ("fill_rate@eu=0.95", ["no comparison"]),
    ("fill_rate>=0.95", ["no '@NODE'"]),
    ("fill_rate@eu>=high", ["column 15", "'high' is not a number"]),
    ("fill_rate@>=0.9", ["no node after '@'"]),
])
def test_threshold_errors_are_positioned(text, words):
    with pytest.raises(ChipsimUserError) as info:
        parse_threshold(text)
    for word in words:
        assert word in str(info.value)


def test_threshold_percent():
    thr = parse_threshold("fill_rate@eu_magnet_users:ndfeb_magnet>=95%")
    assert (thr.metric, thr.node, thr.product, thr.op, thr.value) == ("fill_rate", "eu_magnet_users", "ndfeb_magnet",
                                                                       ">=", 0.95)
    assert thr.met(np.array([0.96, 0.95, 0.94, np.nan])).tolist() == [True, True, False, False]


@pytest.mark.parametrize("text, words", [
    ("shocks.0.leakage=triangle(0,1,2)", ["unknown distribution 'triangle'", "triangular"]),
    ("shocks.0.leakage=triangular(3,1,2)", ["low <= mode <= high"]),
    ("shocks.0.leakage=0.5:0.1", ["LOW must be below HIGH"]),
    ("shocks.0.leakage=normal(1)", ["normal takes 2 numbers"]),
    ("shocks.0.leakage", ["fixed value there", "not a distribution"]),
])
def test_bad_inputs_say_what_is_wrong(text, words):
    with pytest.raises(ChipsimUserError) as info:
        explore([BASE, OPTION], [text], futures=2, focus="us_motor_makers", replications=1, search_paths=SEARCH)
    for word in words:
        assert word in str(info.value)


def test_unknown_path_is_named_with_a_suggestion():
    with pytest.raises(ChipsimUserError, match=r"no 'shockz' under 'the scenario' \(did you mean 'shocks'\?\)"):
        explore([BASE, OPTION], ["shockz.0.leakage=0:1"], futures=2, focus="us_motor_makers", replications=1,
                search_paths=SEARCH)


def test_cli_bad_threshold_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["explore", str(BASE), str(OPTION), "--vary", INPUTS[0], "--futures", "2",
                                      "--threshold", "fill_rat@us_motor_makers>=0.9", "--search-path", str(SEARCH[0]),
                                      "--out", str(tmp_path / "x"), "-q"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "column 1" in result.output


def _explore(**kwargs) -> pd.DataFrame:
    exp = explore([BASE, OPTION], INPUTS, futures=4, threshold="fill_rate@us_motor_makers>=0.97", replications=1,
                  seed=3, search_paths=SEARCH, **kwargs)
    return exp.table


def test_table_is_deterministic_for_a_seed_and_has_every_future_and_option():
    first, second = _explore(), _explore()
    pd.testing.assert_frame_equal(first, second)
    assert len(first) == 8 and list(first["option"][:2]) == ["quickstart", "explore_option"]
    assert {"shocks.0.leakage", "shortfall", "fill_rate", "fill_rate_day_181"} <= set(first.columns)
    # within a future both options see the same inputs (the same future)
    assert (first.groupby("future")["shocks.0.leakage"].nunique() == 1).all()


@pytest.mark.slow
def test_same_table_on_two_workers_and_on_dask():
    serial = _explore()
    pd.testing.assert_frame_equal(serial, _explore(workers=2))
    pytest.importorskip("distributed")
    pd.testing.assert_frame_equal(serial, _explore(workers=2, executor="dask"))


def test_cli_writes_the_folder_and_briefing(tmp_path):
    out = tmp_path / "exp"
    result = CliRunner().invoke(app, ["explore", str(BASE), str(OPTION), "--vary", INPUTS[0], "--vary", INPUTS[1],
                                      "--futures", "6", "-n", "1", "--threshold", "fill_rate@us_motor_makers>=0.99",
                                      "--search-path", str(SEARCH[0]), "--out", str(out), "-q", "--no-pdf"])
    assert result.exit_code == 0, result.output
    for name in ("futures.parquet", "robustness.csv", "regret.csv", "prim_box.csv", "signposts.csv", "manifest.json",
                 "briefing.html", "charts/regret.png"):
        assert (out / name).exists(), name
    html = (out / "briefing.html").read_text()
    assert "Robustness" in html and "Signposts" in html and "data:image/png;base64," in html
    assert len(pd.read_parquet(out / "futures.parquet")) == 12


def test_with_threshold_rejudges_the_same_futures():
    exp = explore([BASE, OPTION], INPUTS, futures=3, threshold="fill_rate@us_motor_makers>=0.5", replications=1,
                  seed=3, search_paths=SEARCH)
    # a fill rate is at most 1: nobody meets >= 1.5, everybody meets >= 0
    assert (exp.with_threshold("fill_rate@us_motor_makers>=1.5").robustness["satisficing"] == 0.0).all()
    assert (exp.with_threshold("fill_rate@us_motor_makers>=0").robustness["satisficing"] == 1.0).all()
    pd.testing.assert_frame_equal(exp.with_threshold("fill_rate@us_motor_makers>=0.5").robustness, exp.robustness)
    with pytest.raises(ChipsimUserError, match="holds us_motor_makers"):
        exp.with_threshold("fill_rate@eu_motor_makers>=0.5")


def test_prim_peels_a_small_sample_too():
    # 40 futures: a 5% peel would remove no point; the default peels 5 / 40 = 12.5% -> 10%
    a = (np.arange(40) + 0.5) / 40
    x = pd.DataFrame({"a": a, "b": np.random.default_rng(1).permutation(a)})
    box = prim_box(x, a < 0.3).set_index("input")
    assert "a" in box.index and box.loc["a", "restricted_high"] and 0.25 <= box.loc["a", "high"] <= 0.4


def test_cli_table_reads_in_a_log(tmp_path):
    """Piped to a file, the robustness table keeps each option on one line, with the
    threshold once in its title instead of folded into a narrow column."""
    result = CliRunner().invoke(app, ["explore", str(BASE), str(OPTION), "--vary", INPUTS[0], "--vary", INPUTS[1],
                                      "--futures", "6", "-n", "1", "--threshold", "fill_rate@us_motor_makers>=0.99",
                                      "--search-path", str(SEARCH[0]), "--out", str(tmp_path / "exp"), "--no-report"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("threshold fill_rate@us_motor_makers>=0.99" in ln for ln in lines)
    rows = [ln for ln in lines if ln.strip()[:1] in ("1", "2") and "%" in ln]
    assert len(rows) == 2 and all("(" in ln and "to" in ln and ")" in ln for ln in rows)  # mean (5% to 95%) whole


def test_failing_chart_says_so_when_nothing_fails():
    from sim.reporting.explorecharts import failing_chart

    exp = explore([BASE, OPTION], INPUTS, futures=3, threshold="fill_rate@us_motor_makers>=0", replications=1,
                  seed=3, search_paths=SEARCH)
    ax = failing_chart(exp, "source").axes[0]
    title = ax.get_title().replace("\n", " ")
    assert "in every future explored" in title and not title.startswith("Where")
    assert "fill rate at" in title                                      # the threshold in words, not fill_rate@...
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["meets the threshold"]
