"""Headline KPIs computed from the tidy timeseries: pure functions, no engine imports.

Definitions (scenario-format.md, section 9):
- shortfall: the part of a day's new demand not served that day;
- fill_rate = 1 - shortfall / demand, per replication;
- time_to_survive_days: days from the earliest shock's start to the node's first day of
  shortfall on or after that start (empty when it never falls short);
- time_to_recover_days: days from the earliest shock's end (its start if it never ends)
  to the day after the node's last day of shortfall; 0 when never short (or when the
  shortfall was over before the shock ended), empty when still short on the last day.
Means skip replications where a value is empty; ``_p05``/``_p95`` are the 5th and 95th
percentiles over replications.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

SHORT_EPS = 1e-9  # a day counts as short when its shortfall exceeds this many units

# name -> (label, which direction is better); units come from the row's product
METRIC_INFO = {
    "shortfall": ("shortfall", "lower"),
    "fill_rate": ("fill rate", "higher"),
    "delivered": ("delivered", "higher"),
    "demand": ("demand", None),
    "time_to_survive_days": ("time to survive (days)", "higher"),
    "time_to_recover_days": ("time to recover (days)", "lower"),
    "cost": ("cost of purchases", "lower"),
    "energy_mwh": ("energy of delivered chips (MWh per day of use)", None),
}
_KPI_SOURCES = {"demand": "demand", "delivered": "delivered", "shortfall": "shortfall",
                "compute_demand": "demand", "compute_delivered": "delivered", "compute_shortfall": "shortfall"}
KPI_COLUMNS = ("demand", "delivered", "shortfall", "fill_rate", "time_to_survive_days", "time_to_recover_days")


@dataclass(frozen=True)
class ShockWindow:
    """The earliest shock's active days: ``start <= d < end`` (``end`` None: open-ended)."""

    start: int
    end: Optional[int]


def earliest_window(windows: list[tuple[int, Optional[int]]]) -> ShockWindow:
    """The shock that starts first (ties: the one that ends first); day 0 when there is none."""
    if not windows:
        return ShockWindow(0, None)
    start, end = min(windows, key=lambda w: (w[0], math.inf if w[1] is None else w[1]))
    return ShockWindow(start, end)


def time_to_survive_days(shortfall: np.ndarray, window: ShockWindow) -> float:
    """Days from the window's start to the first short day at or after it (NaN if none)."""
    days = np.flatnonzero(shortfall > SHORT_EPS)
    days = days[days >= window.start]
    return float(days[0] - window.start) if days.size else math.nan


def time_to_recover_days(shortfall: np.ndarray, window: ShockWindow) -> float:
    """Days from the window's end (or start) to the day after the last short day."""
    days = np.flatnonzero(shortfall > SHORT_EPS)
    if days.size == 0:
        return 0.0
    if days[-1] == len(shortfall) - 1:
        return math.nan
    reference = window.end if window.end is not None else window.start
    return float(max(0, days[-1] + 1 - reference))


def per_replication_kpis(timeseries: pd.DataFrame, window: ShockWindow,
                         units: dict[str, str] | None = None) -> pd.DataFrame:
    """KPIs of every replication, long: replication, node, product, unit, metric, value.

    One (node, product) per demand; compute demand (a ``measure`` over substitutes) gives
    a row whose product is the measure (e.g. tflops_bf16), from the compute_* metrics.
    Empty values (never short, not recovered) are NaN.
    """
    wanted = timeseries[timeseries["metric"].isin(list(_KPI_SOURCES))]
    frames = []
    for (node, product), group in wanted.groupby(["node", "product"], observed=True, sort=False):
        cube, reps = {}, None
        for metric, series in group.groupby("metric", observed=True):
            series = series.sort_values(["replication", "day"])
            reps = series["replication"].unique()
            cube[_KPI_SOURCES[metric]] = series["value"].to_numpy().reshape(len(reps), -1)
        if "demand" not in cube:
            continue  # a substitute's own row only reports what it delivered
        shortfall = cube["shortfall"]
        values = {
            "demand": cube["demand"].sum(axis=1),
            "delivered": cube["delivered"].sum(axis=1),
            "shortfall": shortfall.sum(axis=1),
        }
        total = values["demand"]
        with np.errstate(invalid="ignore", divide="ignore"):
            values["fill_rate"] = np.where(total > 0, 1.0 - values["shortfall"] / np.where(total > 0, total, 1.0), np.nan)
        values["time_to_survive_days"] = np.array([time_to_survive_days(r, window) for r in shortfall])
        values["time_to_recover_days"] = np.array([time_to_recover_days(r, window) for r in shortfall])
        unit = (units or {}).get(product, product)
        for metric in KPI_COLUMNS:
            frames.append(pd.DataFrame({"replication": reps, "node": node, "product": product, "unit": unit,
                                        "metric": metric, "value": values[metric]}))
    if not frames:
        return pd.DataFrame(columns=["replication", "node", "product", "unit", "metric", "value"])
    return pd.concat(frames, ignore_index=True)


def summarise(per_rep: pd.DataFrame) -> pd.DataFrame:
    """One row per (node, product): means over replications (skipping empty values) with
    5th and 95th percentile companions, and the replication count."""
    rows = []
    for (node, product), group in per_rep.groupby(["node", "product"], sort=False):
        row = {"node": node, "product": product, "unit": group["unit"].iloc[0]}
        for name in KPI_COLUMNS:
            values = group.loc[group["metric"] == name, "value"].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            row[name] = float(finite.mean()) if finite.size else math.nan
            row[f"{name}_p05"] = float(np.quantile(finite, 0.05)) if finite.size else math.nan
            row[f"{name}_p95"] = float(np.quantile(finite, 0.95)) if finite.size else math.nan
        row["replications"] = int(group["replication"].nunique())
        rows.append(row)
    return pd.DataFrame(rows, columns=kpi_columns())


def kpi_table(timeseries: pd.DataFrame, window: ShockWindow, units: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per demand (node, product): means over replications with p05/p95 companions."""
    return summarise(per_replication_kpis(timeseries, window, units))


def kpi_columns() -> list[str]:
    """Column order of the KPI table."""
    cols = ["node", "product", "unit"]
    for name in KPI_COLUMNS:
        cols += [name, f"{name}_p05", f"{name}_p95"]
    return cols + ["replications"]
