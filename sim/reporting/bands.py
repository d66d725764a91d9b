"""What the charts plot, from a run's tables: the demand row they concentrate on, its unit,
and the median and 5-95% band of a daily metric (from every replication, or from the
quantiles a summary run kept)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ..rundir import RunData


def focus_of(data: RunData) -> tuple[str, str]:
    """The demand row the charts concentrate on: the comparison's focus, else the row the
    base serves worst."""
    if data.focus:
        node, product = data.focus
        return node, product
    fill = data.table[(data.table["variant"] == data.base.id) & (data.table["metric"] == "fill_rate")]
    if fill.empty:
        return ("", "")
    means = fill.groupby(["node", "product"], sort=False, observed=True)["value"].mean()
    # a row without demand has no fill rate; when no row has one, the first row is the focus
    node, product = means.idxmin() if means.notna().any() else means.index[0]
    return str(node), str(product)


def unit_of(data: RunData, node: str, product: str) -> str:
    """Unit of a demand row's quantities (the product's unit, or the compute measure)."""
    rows = data.table[(data.table["node"] == node) & (data.table["product"] == product)]
    return str(rows["unit"].iloc[0]) if len(rows) else ""


def daily_means(ts: pd.DataFrame) -> pd.DataFrame:
    """Daily values to total over: each replication's, or the mean of a summary run."""
    if "stat" in ts.columns:
        return ts[ts["stat"] == "mean"].assign(replication=0)
    return ts


def daily_bands(ts: pd.DataFrame, metric: str, node: str | None = None, product: str | None = None,
                cumulative: bool = False) -> pd.DataFrame:
    """Median and 5-95% band over replications of a daily metric (summed over matching rows),
    or of its running total since day 0 with ``cumulative``.

    From a summary run the stored quantiles are used: of the daily values, or with
    ``cumulative`` of the running totals, which the summary keeps for the outcome series
    of demand nodes (summed over matching rows when several match)."""
    rows = ts[ts["metric"] == metric]
    if node is not None:
        rows = rows[rows["node"] == node]
    if product is not None:
        rows = rows[rows["product"] == product]
    if "stat" in rows.columns:
        prefix = "cumulative_" if cumulative else ""
        wanted = {f"{prefix}p05": "p05", f"{prefix}p50": "median", f"{prefix}p95": "p95"}
        picked = rows[rows["stat"].isin(list(wanted))]
        band = (picked.groupby(["variant", "date", "stat"], observed=True)["value"].sum().unstack("stat")
                .rename(columns=wanted)[["p05", "median", "p95"]])
        return band.reset_index()
    daily = rows.groupby(["variant", "replication", "date"], observed=True)["value"].sum().reset_index()
    if cumulative:
        daily["value"] = daily.groupby(["variant", "replication"], observed=True)["value"].cumsum()
    band = daily.groupby(["variant", "date"], observed=True)["value"].quantile([0.05, 0.5, 0.95]).unstack()
    band.columns = ["p05", "median", "p95"]
    return band.reset_index()


def has_running_totals(ts: pd.DataFrame, metric: str, node: str) -> bool:
    """Whether the running total of ``metric`` at ``node`` can be drawn: always from every
    replication's days, from a summary only when it kept the running totals' quantiles."""
    if "stat" not in ts.columns:
        return True
    rows = ts[(ts["metric"] == metric) & (ts["node"] == node)]
    return bool(rows["stat"].astype(str).str.startswith("cumulative_").any())


# every metric the charts read from the daily table (fans, interval bars' focus, network
# map, price fan); the briefing's words read only the per-replication outcomes
REPORT_METRICS = ("shortfall", "compute_shortfall", "demand", "compute_demand", "compute_delivered", "capacity",
                  "produced", "wafers_started", "price")


def report_rows(ts: pd.DataFrame) -> pd.DataFrame:
    """The rows of a daily table that the charts read (``REPORT_METRICS``), in their order:
    the charts drawn from them are the same as from the whole table."""
    return ts[ts["metric"].isin(REPORT_METRICS)]
