"""Replications, seeds and common random numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import ROOT, scenario, series


def noisy(shocks=()):
    """Poisson demand and triangular lead times: every replication differs."""
    return scenario(
        horizon=120, seed=5, replications=4,
        products={"x": {}},
        nodes={
            "s": {"region": "CN", "produces": "x", "capacity": 40},
            "t": {"region": "JP", "produces": "x", "capacity": 5},
            "b": {"region": "US", "inventory": {"x": 100},
                  "demand": {"product": "x", "rate": 20, "distribution": "poisson"},
                  "reorder": {"days_of_cover": 15}},
        },
        lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": {"dist": "triangular", "low": 2, "mode": 4, "high": 9}},
               {"from": "t", "to": "b", "product": "x", "lead_time": 3}],
        shocks=list(shocks),
    )


def test_results_do_not_depend_on_worker_count():
    serial = sim.run(noisy(), workers=1)
    pooled = sim.run(noisy(), workers=2)
    pd.testing.assert_frame_equal(serial.timeseries, pooled.timeseries)
    pd.testing.assert_frame_equal(serial.kpis, pooled.kpis)


def test_replications_differ_and_seed_matters():
    res = sim.run(noisy())
    d0 = series(res, "b", "demand", replication=0).to_numpy()
    d1 = series(res, "b", "demand", replication=1).to_numpy()
    assert not np.array_equal(d0, d1)
    other = sim.run(noisy(), seed=6)
    assert not np.array_equal(d0, series(other, "b", "demand", replication=0).to_numpy())


def test_replication_r_is_the_same_whatever_the_count():
    # replication 2 draws from SeedSequence(seed).spawn(n)[2] for any n >= 3
    three = sim.run(noisy(), replications=3)
    five = sim.run(noisy(), replications=5)
    a = three.timeseries[three.timeseries.replication == 2].reset_index(drop=True)
    b = five.timeseries[five.timeseries.replication == 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_common_random_numbers_across_variants():
    # A variant with a shock sees the same demand draws as its base (named streams).
    base = sim.run(noisy())
    banned = sim.run(noisy([{"type": "export_ban", "start": 30, "end": 60, "from": "s"}]))
    for r in range(4):
        np.testing.assert_array_equal(series(base, "b", "demand", replication=r).to_numpy(),
                                      series(banned, "b", "demand", replication=r).to_numpy())
    assert banned.kpis.loc[0, "shortfall"] > base.kpis.loc[0, "shortfall"]


def test_parameter_distributions_drawn_once_per_replication():
    # capacity ~ uniform(10, 20) per replication: constant within a replication, and its
    # mean over many replications is near 15 (sd of the mean = (10/sqrt(12))/sqrt(200) ~ 0.2).
    sc = scenario(
        horizon=5, replications=200, seed=3,
        products={"x": {}},
        nodes={"plant": {"produces": "x", "capacity": {"dist": "uniform", "low": 10, "high": 20}}},
    )
    ts = sim.run(sc).timeseries
    cap = ts[ts.metric == "capacity"].pivot_table(index="replication", columns="day", values="value", observed=True)
    assert (cap.nunique(axis=1) == 1).all()
    assert cap[0].between(10, 20).all()
    assert abs(cap[0].mean() - 15) < 1.0


def test_run_accepts_a_path_and_overrides(tmp_path):
    res = sim.run(ROOT / "scenarios" / "quickstart.yaml", replications=2, seed=9)
    assert res.replications == 2 and res.seed == 9
    assert set(res.timeseries.columns) == {"replication", "day", "date", "node", "product", "metric", "value"}
    assert res.manifest["seed"] == 9
    assert len(res.manifest["inputs"]) == 1 and len(res.manifest["inputs"][0]["sha256"]) == 64


def test_bad_run_arguments_are_user_errors():
    from sim.errors import ChipsimUserError
    with pytest.raises(ChipsimUserError):
        sim.run(noisy(), workers=0)
    with pytest.raises(ChipsimUserError):
        sim.run(noisy(), replications=0)
