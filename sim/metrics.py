"""The metric registry and the headline KPIs: pure functions over the tidy tables.

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

Every consumer (KPI table, compare outcomes, charts, briefing, CLI) reads names, labels,
units and directions from ``METRICS`` rather than keeping its own list.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

SHORT_EPS = 1e-9  # a day counts as short when its shortfall exceeds this many units

# daily series a KPI is computed from -> the role it plays (compute_* rows count in the measure)
_KPI_SOURCES = {"demand": "demand", "delivered": "delivered", "shortfall": "shortfall",
                "compute_demand": "demand", "compute_delivered": "delivered", "compute_shortfall": "shortfall"}


@dataclass(frozen=True)
class ShockWindow:
    """The earliest shock's active days: ``start <= d < end`` (``end`` None: open-ended)."""

    start: int
    end: int | None


# per replication (rows) and day (columns) arrays of one demand row, by role
RowCube = dict[str, np.ndarray]
RowFunction = Callable[[RowCube, ShockWindow], np.ndarray]
TotalFunction = Callable[[pd.DataFrame, str, str], pd.Series]


@dataclass(frozen=True)
class Metric:
    """One outcome of a demand row (node, product), per replication.

    ``unit``: "product" (the product's own unit, or the compute measure), "fraction",
    "days", "currency" or "MWh". ``direction``: "higher" or "lower" is better, None when
    neither (then it cannot rank). Exactly one of ``per_row`` (from the row's daily
    demand/delivered/shortfall arrays) and ``total`` (a sum over the tidy table at the
    node, indexed by replication) computes it. ``compared``: paired against the base in
    a comparison; ``briefed``: shown in the briefing's comparison table;
    ``reported_when_absent``: a node total is reported even when the node has no such series.
    """

    name: str
    label: str
    unit: str
    direction: str | None
    per_row: RowFunction | None = None
    total: TotalFunction | None = None
    compared: bool = True
    briefed: bool = True
    reported_when_absent: bool = False


def earliest_window(windows: list[tuple[int, int | None]]) -> ShockWindow:
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


def _fill_rate(cube: RowCube, window: ShockWindow) -> np.ndarray:
    total = cube["demand"].sum(axis=1)
    short = cube["shortfall"].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 1.0 - short / np.where(total > 0, total, 1.0), np.nan)


def _node_total(metric: str, by_product: bool) -> TotalFunction:
    """Per replication sum of a daily series at a node (all its products unless ``by_product``)."""
    def total(ts: pd.DataFrame, node: str, product: str) -> pd.Series:
        rows = ts[(ts["node"] == node) & (ts["metric"] == metric)]
        if by_product:
            rows = rows[rows["product"] == product]
        return rows.groupby("replication", observed=True)["value"].sum()
    return total


# ranking's error message lists the directional metrics in this order
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("shortfall", "shortfall", "product", "lower", per_row=lambda c, w: c["shortfall"].sum(axis=1)),
    Metric("fill_rate", "fill rate", "fraction", "higher", per_row=_fill_rate),
    Metric("delivered", "delivered", "product", "higher", per_row=lambda c, w: c["delivered"].sum(axis=1),
           briefed=False),
    Metric("demand", "demand", "product", None, per_row=lambda c, w: c["demand"].sum(axis=1), compared=False),
    Metric("time_to_survive_days", "time to survive (days)", "days", "higher",
           per_row=lambda c, w: np.array([time_to_survive_days(r, w) for r in c["shortfall"]])),
    Metric("time_to_recover_days", "time to recover (days)", "days", "lower",
           per_row=lambda c, w: np.array([time_to_recover_days(r, w) for r in c["shortfall"]])),
    Metric("cost", "cost of purchases", "currency", "lower", total=_node_total("cost", by_product=False),
           reported_when_absent=True),
    Metric("energy_mwh", "energy of delivered chips (MWh per day of use)", "MWh", None,
           total=_node_total("energy_mwh", by_product=True)),
)}
# column order of the KPI table (and of per-replication outcomes)
KPI_COLUMNS = ("demand", "delivered", "shortfall", "fill_rate", "time_to_survive_days", "time_to_recover_days")
# row order of a sweep's table, kept so sweep.csv reads as before
SWEPT = ("shortfall", "fill_rate", "time_to_survive_days", "time_to_recover_days", "delivered")
# the series a summary run keeps per replication to compute outcomes from
OUTCOME_SERIES = frozenset(_KPI_SOURCES) | {m.name for m in METRICS.values() if m.total is not None}


def compared() -> tuple[str, ...]:
    """Metrics paired against the base in a comparison."""
    return tuple(m.name for m in METRICS.values() if m.compared)


def briefed() -> tuple[str, ...]:
    """Metrics shown in the briefing's comparison table."""
    return tuple(m.name for m in METRICS.values() if m.compared and m.briefed)


def rankable() -> list[str]:
    """Metrics with a better direction, in registry order."""
    return [m.name for m in METRICS.values() if m.direction]


def label(name: str) -> str:
    """The registry's label of a metric, or its name when it is not registered."""
    return METRICS[name].label if name in METRICS else name


def _row_cube(group: pd.DataFrame) -> tuple[RowCube, np.ndarray]:
    cube, reps = {}, np.array([])
    for metric, series in group.groupby("metric", observed=True):
        series = series.sort_values(["replication", "day"])
        reps = series["replication"].unique()
        cube[_KPI_SOURCES[metric]] = series["value"].to_numpy().reshape(len(reps), -1)
    return cube, reps


def per_replication_kpis(timeseries: pd.DataFrame, window: ShockWindow,
                         units: dict[str, str] | None = None) -> pd.DataFrame:
    """KPIs of every replication, long: replication, node, product, unit, metric, value.

    One (node, product) per demand; compute demand (a ``measure`` over substitutes) gives
    a row whose product is the measure (e.g. tflops_bf16), from the compute_* metrics.
    Empty values (never short, not recovered) are NaN. Quantities are in the row's unit.
    """
    wanted = timeseries[timeseries["metric"].isin(list(_KPI_SOURCES))]
    frames = []
    for (node, product), group in wanted.groupby(["node", "product"], observed=True, sort=False):
        cube, reps = _row_cube(group)
        if "demand" not in cube:
            continue  # a substitute's own row only reports what it delivered
        unit = (units or {}).get(product, product)
        for name in KPI_COLUMNS:
            compute = METRICS[name].per_row
            assert compute is not None
            frames.append(pd.DataFrame({"replication": reps, "node": node, "product": product, "unit": unit,
                                        "metric": name, "value": compute(cube, window)}))
    if not frames:
        return pd.DataFrame(columns=["replication", "node", "product", "unit", "metric", "value"])
    return pd.concat(frames, ignore_index=True)


def outcomes_table(timeseries: pd.DataFrame, window: ShockWindow, units: dict[str, str] | None = None) -> pd.DataFrame:
    """Per replication and demand row: the KPIs plus every node-total metric of the
    registry (cost over all the node's products; energy of the row's product)."""
    per_rep = per_replication_kpis(timeseries, window, units)
    if per_rep.empty:
        return per_rep
    totals = [m for m in METRICS.values() if m.total is not None]
    extra = []
    rows = per_rep[["node", "product", "unit"]].drop_duplicates()
    for node, product, unit in rows.itertuples(index=False):
        for metric in totals:
            assert metric.total is not None
            sums = metric.total(timeseries, node, product)
            if metric.reported_when_absent or len(sums):
                extra.append(pd.DataFrame({"replication": sums.index, "node": node, "product": product,
                                           "unit": unit, "metric": metric.name, "value": sums.to_numpy()}))
    return pd.concat([per_rep, *extra], ignore_index=True)


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
