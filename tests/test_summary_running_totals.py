"""A summary run keeps the quantiles of running totals, which daily quantiles cannot give:
the fan of cumulative shortfall must match the one computed from every replication."""
from __future__ import annotations

import numpy as np

import sim
from helpers import ROOT


def test_summary_keeps_quantiles_of_running_totals_equal_to_those_of_every_replication():
    sc = sim.load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    full = sim.run(sc, replications=20, seed=3, progress=False).timeseries
    summary = sim.run(sc, replications=20, seed=3, keep="summary", progress=False).timeseries
    node = "us_motor_makers"
    rows = full[(full["metric"] == "shortfall") & (full["node"] == node)].sort_values(["replication", "day"])
    totals = rows.assign(total=rows.groupby("replication", observed=True)["value"].cumsum())
    expected = totals.groupby("day")["total"].quantile([0.05, 0.5, 0.95]).unstack()
    kept = summary[(summary["metric"] == "shortfall") & (summary["node"] == node)]
    kept = kept.pivot_table(index="day", columns="stat", values="value", observed=True)
    for q, stat in ((0.05, "cumulative_p05"), (0.5, "cumulative_p50"), (0.95, "cumulative_p95")):
        assert np.allclose(kept[stat].to_numpy(), expected[q].to_numpy())
    # the sum of daily 95% quantiles is not the 95% quantile of the sum: it is far above it
    # here, which is why the running totals are kept
    assert kept["p95"].sum() > 1.5 * expected[0.95].iloc[-1]
