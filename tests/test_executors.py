"""Executors and keep modes give the same numbers as a serial run."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import scenario


def noisy(replications=6):
    return scenario(
        horizon=90, seed=11, replications=replications, products={"x": {}},
        nodes={"s": {"region": "CN", "produces": "x", "capacity": 30},
               "b": {"region": "US", "inventory": {"x": 80}, "demand": {"product": "x", "rate": 20, "distribution": "poisson"},
                     "reorder": {"days_of_cover": 6}}},
        lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": {"dist": "triangular", "low": 2, "mode": 3, "high": 8}}],
        shocks=[{"type": "export_ban", "start": 20, "end": 40, "from": "s", "leakage": 0.2}])


def test_dask_local_cluster_matches_the_serial_run():
    pytest.importorskip("distributed")
    serial = sim.run(noisy())
    dask = sim.run(noisy(), workers=2, executor="dask")
    pd.testing.assert_frame_equal(serial.timeseries, dask.timeseries)
    pd.testing.assert_frame_equal(serial.kpis, dask.kpis)
    assert dask.manifest["executor"] == "dask"


def test_summary_keeps_quantiles_and_the_same_kpis():
    full = sim.run(noisy(20))
    summary = sim.run(noisy(20), keep="summary")
    pd.testing.assert_frame_equal(full.kpis, summary.kpis)
    ts = full.timeseries
    short = ts[(ts.node == "b") & (ts.metric == "shortfall")].pivot_table(index="day", columns="replication", values="value",
                                                                          observed=True)
    s = summary.timeseries
    got = s[(s.node == "b") & (s.metric == "shortfall")].pivot_table(index="day", columns="stat", values="value", observed=True)
    np.testing.assert_allclose(got["mean"], short.mean(axis=1))
    np.testing.assert_allclose(got["p95"], short.quantile(0.95, axis=1))
    # the running totals' statistics sit beside the daily ones (for fan charts of totals)
    assert "replication" not in s.columns and set(s["stat"].cat.categories) == {
        "mean", "p05", "p50", "p95", "cumulative_mean", "cumulative_p05", "cumulative_p50", "cumulative_p95"}


def test_unknown_executor_and_keep_are_user_errors():
    with pytest.raises(sim.errors.ChipsimUserError):
        sim.run(noisy(), executor="spark")
    with pytest.raises(sim.errors.ChipsimUserError):
        sim.run(noisy(), keep="some")
