"""The results API: a short repr, Results.load of a saved run, sim.compare exported, and
matplotlib left alone by importing chipsim."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import sim
from helpers import scenario


def small(replications=3):
    return scenario(
        horizon=40, seed=5, replications=replications, products={"x": {}},
        nodes={"s": {"region": "CN", "produces": "x", "capacity": 30},
               "b": {"region": "US", "inventory": {"x": 50}, "demand": {"product": "x", "rate": 20, "distribution": "poisson"},
                     "reorder": {"days_of_cover": 6}}},
        lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 3}],
        shocks=[{"type": "export_ban", "start": 10, "end": 20, "from": "s"}])


def test_repr_fits_on_a_screen():
    results = sim.run(small())
    text = repr(results)
    assert len(text) < 300 and "\n" not in text
    assert "replications=3" in text and "seed=5" in text and "keep='all'" in text
    assert f"timeseries={results.timeseries.shape[0]}x{results.timeseries.shape[1]}" in text


@pytest.mark.parametrize("keep", ["all", "summary"])
def test_a_saved_run_loads_back_into_the_same_results(tmp_path, keep):
    results = sim.run(small(), keep=keep)
    loaded = sim.Results.load(results.save(tmp_path / "run", report=False))
    pd.testing.assert_frame_equal(loaded.timeseries, results.timeseries)
    pd.testing.assert_frame_equal(loaded.kpis, results.kpis)
    if keep == "summary":
        pd.testing.assert_frame_equal(loaded.per_replication, results.per_replication)
    else:
        assert loaded.per_replication is None
    assert (loaded.seed, loaded.replications, loaded.keep, loaded.shock_window) == (
        results.seed, results.replications, results.keep, results.shock_window)
    assert loaded.manifest == results.manifest
    assert loaded.scenario.to_document() == results.scenario.to_document()


def test_compare_is_public():
    assert sim.compare is sim.compare.__globals__["compare"]
    assert "compare" in sim.__all__


def test_importing_chipsim_leaves_matplotlib_settings_alone():
    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')  # not the Agg that chipsim's charts are saved with\n"
        "matplotlib.rcParams['font.size'] = 13.0\n"
        "before = (matplotlib.get_backend(), dict(matplotlib.rcParams))\n"
        "import sim, sim.reporting.charts, sim.reporting.briefing\n"
        "after = (matplotlib.get_backend(), dict(matplotlib.rcParams))\n"
        "assert before == after, [k for k in before[1] if before[1][k] != after[1].get(k)]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_drawing_a_chart_restores_rcparams(tmp_path):
    import matplotlib

    from sim.reporting.style import chart_style

    before = dict(matplotlib.rcParams)
    with chart_style():
        assert matplotlib.rcParams["savefig.dpi"] == 150
    assert dict(matplotlib.rcParams) == before
    sim.run(small()).save(tmp_path / "run")
    assert dict(matplotlib.rcParams) == before
