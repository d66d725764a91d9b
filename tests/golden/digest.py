"""What the golden regression test keeps of a run: all KPIs and a reduction of the daily
table that would move with any change of a daily value or of its timing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import sim

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent
REPLICATIONS = 2
SEED = 7


def bundled_scenarios() -> list[Path]:
    """Every scenario file shipped in ``scenarios/`` (library, reference, history); the
    replays' error bands (``history/bands.yaml``) are data, not a scenario."""
    history = [p for p in sorted((ROOT / "scenarios" / "history").glob("*.yaml")) if p.name != "bands.yaml"]
    return sorted((ROOT / "scenarios").glob("*.yaml")) + history


def digest(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(KPI table, series reduction) of one scenario run with the golden seed.

    The reduction, per replication, node, product and metric: the sum over days, the
    day-weighted sum (moves when a value shifts in time), the last day's value and the
    maximum; and per metric and day the total over nodes for replication 0.
    """
    rel = path.relative_to(ROOT).as_posix()
    res = sim.run(sim.load_scenario(path), replications=REPLICATIONS, seed=SEED)
    kpis = res.kpis.copy()
    kpis.insert(0, "scenario", rel)
    ts = res.timeseries
    keys = ["replication", "node", "product", "metric"]
    ts = ts.assign(weighted=ts["value"] * (ts["day"].astype(np.float64) + 1.0))
    last_day = ts["day"].max()
    g = ts.groupby(keys, observed=True, sort=True)
    per_series = pd.DataFrame({
        "total": g["value"].sum(),
        "weighted": g["weighted"].sum(),
        "peak": g["value"].max(),
        "last": ts[ts["day"] == last_day].groupby(keys, observed=True, sort=True)["value"].sum(),
    }).reset_index()
    per_series["kind"] = "series"
    first = ts[ts["replication"] == 0]
    per_day = first.groupby(["metric", "day"], observed=True, sort=True)["value"].sum().rename("total").reset_index()
    per_day["kind"] = "daily_total"
    out = pd.concat([per_series, per_day], ignore_index=True)
    # keys that do not apply to a row kind are filled so that rows compare as equal keys
    out["replication"] = out["replication"].fillna(-1).astype(np.int64)
    out["day"] = out["day"].fillna(-1).astype(np.int64)
    for col in ("node", "product", "metric"):
        out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
    out.insert(0, "scenario", rel)
    return kpis, out
