"""The metric registry and the headline KPIs: pure functions over the tidy tables.

Definitions (scenario-format.md, section 9):
- shortfall: the part of a day's new demand not served that day;
- fill_rate = 1 - shortfall / demand, per replication;
- the reference shock: the one named by ``reference_shock:``, else the earliest shock
  that starts on or after day 0 (ties: the one that ends first), else, when every shock
  started before day 0, the earliest of them (``reference_window``);
- a short day: shortfall above ``SHORT_EPS`` and above ``short_day_threshold`` x that
  day's demand (the threshold is 0 unless the scenario or the caller sets it);
- time_to_survive_days: days from the reference shock's start to the node's first short
  day on or after that start (empty when it never falls short);
- time_to_recover_days: days from the reference shock's end (its start if it never ends)
  to the day after the node's last short day; 0 when never short (or when the
  shortfall was over before the shock ended), empty when still short on the last day;
- short_runs / recovered_runs (KPI table only): replications with a short day on or
  after the reference start, and how many of those were no longer short on the last day.
Means skip replications where a value is empty; ``_p05``/``_p95`` are the 5th and 95th
percentiles over replications.

Every consumer (KPI table, compare outcomes, charts, briefing, CLI) reads names, labels,
units and directions from ``METRICS`` rather than keeping its own list.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and pandas are imported where used, so loading a scenario stays fast
    import numpy as np
    import pandas as pd

from .labels import label_of
from .quantities import day_number

# daily series of the tidy table: per (node, product) stock, and per lane (node "from->to")
NODE_SERIES = ("demand", "delivered", "shortfall", "backlog", "inventory", "produced",
               "consumed", "shipped", "received", "capacity", "cost", "stockpile",
               "wafers_started", "good_dies", "yield", "installed", "target_stock",
               "compute_demand", "compute_delivered", "compute_shortfall", "compute_backlog", "energy_mwh",
               "price", "price_multiplier", "demand_destroyed", "spend", "facility_energy_mwh", "capability_delivered")
# series of a (demand node, market product), recorded only there (contract section 11)
MARKET_SERIES = ("price", "price_multiplier", "demand_destroyed", "spend")
LANE_SERIES = ("flow", "fee", "lane_share", "qualified")
SHORT_EPS = 1e-9  # a day counts as short when its shortfall exceeds this many units

# daily series a KPI is computed from -> the role it plays (compute_* rows count in the measure)
_KPI_SOURCES = {"demand": "demand", "delivered": "delivered", "shortfall": "shortfall",
                "compute_demand": "demand", "compute_delivered": "delivered", "compute_shortfall": "shortfall",
                "price_multiplier": "price_multiplier", "demand_destroyed": "demand_destroyed"}


@dataclass(frozen=True)
class ShockWindow:
    """The reference shock's active days: ``start <= d < end`` (``end`` None: open-ended),
    and the share of a day's demand its shortfall must exceed for the day to count as short."""

    start: int
    end: int | None
    short_day_threshold: float = 0.0

    def with_threshold(self, short_day_threshold: float | None) -> ShockWindow:
        """This window with another short-day threshold (None: keep this one)."""
        if short_day_threshold is None:
            return self
        return ShockWindow(self.start, self.end, float(short_day_threshold))


# per replication (rows) and day (columns) arrays of one demand row, by role
RowCube = dict[str, "np.ndarray"]
RowFunction = Callable[[RowCube, "ShockWindow"], "np.ndarray"]
TotalFunction = Callable[["pd.DataFrame", str, str], "pd.Series"]


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


def reference_window(windows: list[tuple[int, int | None]], reference: int | None = None,
                     short_day_threshold: float = 0.0) -> ShockWindow:
    """The reference shock's window among the shocks' (start, end) windows (contract
    section 9): ``windows[reference]`` when given; else the earliest shock that starts on
    or after day 0 (ties: the one that ends first); else, when every shock started before
    day 0, the earliest of them; day 0, open-ended, when there is no shock."""
    if reference is not None:
        start, end = windows[reference]
        return ShockWindow(start, end, short_day_threshold)
    if not windows:
        return ShockWindow(0, None, short_day_threshold)
    in_run = [w for w in windows if w[0] >= 0] or windows
    start, end = min(in_run, key=lambda w: (w[0], math.inf if w[1] is None else w[1]))
    return ShockWindow(start, end, short_day_threshold)


def earliest_window(windows: list[tuple[int, int | None]]) -> ShockWindow:
    """The reference window of shocks without a named reference (see ``reference_window``)."""
    return reference_window(windows)


def short_days(shortfall: np.ndarray, demand: np.ndarray | None = None, threshold: float = 0.0) -> np.ndarray:
    """Indices of the short days: shortfall above ``SHORT_EPS`` and, with a threshold,
    above ``threshold`` x that day's demand."""
    import numpy as np

    short = shortfall > SHORT_EPS
    if threshold > 0.0 and demand is not None:
        short &= shortfall > threshold * demand
    return np.flatnonzero(short)


def time_to_survive_days(shortfall: np.ndarray, window: ShockWindow, demand: np.ndarray | None = None) -> float:
    """Days from the window's start to the first short day at or after it (NaN if none)."""
    days = short_days(shortfall, demand, window.short_day_threshold)
    days = days[days >= window.start]
    return float(days[0] - window.start) if days.size else math.nan


def time_to_recover_days(shortfall: np.ndarray, window: ShockWindow, demand: np.ndarray | None = None) -> float:
    """Days from the window's end (or start) to the day after the last short day."""
    days = short_days(shortfall, demand, window.short_day_threshold)
    if days.size == 0:
        return 0.0
    if days[-1] == len(shortfall) - 1:
        return math.nan
    reference = window.end if window.end is not None else window.start
    return float(max(0, days[-1] + 1 - reference))


def _per_run(kpi: Callable[[np.ndarray, ShockWindow, np.ndarray], float], cube: RowCube,
             window: ShockWindow) -> np.ndarray:
    """A survive/recover time of each replication (row) of a demand row's cube."""
    import numpy as np

    return np.array([kpi(s, window, d) for s, d in zip(cube["shortfall"], cube["demand"], strict=True)])


def _fill_rate(cube: RowCube, window: ShockWindow) -> np.ndarray:
    import numpy as np

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
           per_row=lambda c, w: _per_run(time_to_survive_days, c, w)),
    Metric("time_to_recover_days", "time to recover (days)", "days", "lower",
           per_row=lambda c, w: _per_run(time_to_recover_days, c, w)),
    Metric("cost", "cost of purchases", "currency", "lower", total=_node_total("cost", by_product=False),
           reported_when_absent=True),
    Metric("energy_mwh", "energy of delivered chips (MWh per day of use)", "MWh", None,
           total=_node_total("energy_mwh", by_product=True)),
    Metric("facility_energy_mwh", "facility energy of delivered chips (MWh per day of use)", "MWh", None,
           total=_node_total("facility_energy_mwh", by_product=True)),
    # market rows only (contract section 11): the scarcity multiplier's mean and peak over
    # the days, and the demand the price destroyed over the run
    Metric("price_multiplier_mean", "mean price multiplier", "ratio", None, compared=False, briefed=False,
           per_row=lambda c, w: c["price_multiplier"].mean(axis=1)),
    Metric("price_multiplier_peak", "peak price multiplier", "ratio", None, compared=False, briefed=False,
           per_row=lambda c, w: c["price_multiplier"].max(axis=1)),
    Metric("demand_destroyed", "demand destroyed by price", "product", None, compared=False, briefed=False,
           per_row=lambda c, w: c["demand_destroyed"].sum(axis=1)),
)}
# column order of the KPI table (and of per-replication outcomes)
KPI_COLUMNS = ("demand", "delivered", "shortfall", "fill_rate", "time_to_survive_days", "time_to_recover_days")
# ... followed, when some row is a market's, by these
MARKET_KPIS = ("price_multiplier_mean", "price_multiplier_peak", "demand_destroyed")
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
    import numpy as np

    cube, reps = {}, np.array([])
    for metric, series in group.groupby("metric", observed=True):
        series = series.sort_values(["replication", "day"])
        reps = series["replication"].unique()
        cube[_KPI_SOURCES[metric]] = series["value"].to_numpy().reshape(len(reps), -1)
    return cube, reps


def per_replication_kpis(timeseries: pd.DataFrame, window: ShockWindow,
                         units: dict[str, str] | None = None, short_day_threshold: float | None = None) -> pd.DataFrame:
    """KPIs of every replication, long: replication, node, product, unit, metric, value.

    ``short_day_threshold`` (a share 0..1 of the day's demand) overrides the window's.

    One (node, product) per demand; compute demand (a ``measure`` over substitutes) gives
    a row whose product is the measure (e.g. tflops_bf16), from the compute_* metrics.
    Empty values (never short, not recovered) are NaN. Quantities are in the row's unit.
    """
    import pandas as pd

    window = window.with_threshold(short_day_threshold)
    wanted = timeseries[timeseries["metric"].isin(list(_KPI_SOURCES))]
    frames = []
    for (node, product), group in wanted.groupby(["node", "product"], observed=True, sort=False):
        cube, reps = _row_cube(group)
        if "demand" not in cube:
            continue  # a substitute's own row only reports what it delivered
        unit = (units or {}).get(product, product)
        for name in KPI_COLUMNS + (MARKET_KPIS if "price_multiplier" in cube else ()):
            compute = METRICS[name].per_row
            assert compute is not None
            frames.append(pd.DataFrame({"replication": reps, "node": node, "product": product, "unit": unit,
                                        "metric": name, "value": compute(cube, window)}))
    if not frames:
        return pd.DataFrame(columns=["replication", "node", "product", "unit", "metric", "value"])
    return pd.concat(frames, ignore_index=True)


def outcomes_table(timeseries: pd.DataFrame, window: ShockWindow, units: dict[str, str] | None = None,
                   short_day_threshold: float | None = None) -> pd.DataFrame:
    """Per replication and demand row: the KPIs plus every node-total metric of the
    registry (cost over all the node's products; energy of the row's product)."""
    import pandas as pd

    per_rep = per_replication_kpis(timeseries, window, units, short_day_threshold)
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
    import numpy as np
    import pandas as pd

    rows = []
    market = bool(len(per_rep)) and bool(per_rep["metric"].isin(MARKET_KPIS).any())
    for (node, product), group in per_rep.groupby(["node", "product"], sort=False):
        row = {"node": node, "product": product, "unit": group["unit"].iloc[0]}
        for name in KPI_COLUMNS + (MARKET_KPIS if market else ()):
            values = group.loc[group["metric"] == name, "value"].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            row[name] = float(finite.mean()) if finite.size else math.nan
            row[f"{name}_p05"] = float(np.quantile(finite, 0.05)) if finite.size else math.nan
            row[f"{name}_p95"] = float(np.quantile(finite, 0.95)) if finite.size else math.nan
        row["replications"] = int(group["replication"].nunique())
        row["short_runs"], row["recovered_runs"] = _run_counts(group)
        rows.append(row)
    return pd.DataFrame(rows, columns=kpi_columns(market))


def _run_counts(group: pd.DataFrame) -> tuple[int, int]:
    """(replications short on or after the reference start, of those the ones recovered
    within the horizon) of one demand row's per-replication KPIs."""
    import numpy as np

    survive = group[group["metric"] == "time_to_survive_days"].set_index("replication")["value"]
    recover = group[group["metric"] == "time_to_recover_days"].set_index("replication")["value"].reindex(survive.index)
    short = np.isfinite(survive.to_numpy(float))
    recovered = short & np.isfinite(recover.to_numpy(float))
    return int(short.sum()), int(recovered.sum())


def kpi_table(timeseries: pd.DataFrame, window: ShockWindow, units: dict[str, str] | None = None,
              short_day_threshold: float | None = None) -> pd.DataFrame:
    """One row per demand (node, product): means over replications with p05/p95 companions,
    the replication count and how many replications fell short and recovered."""
    return summarise(per_replication_kpis(timeseries, window, units, short_day_threshold))


def kpi_columns(market: bool = False) -> list[str]:
    """Column order of the KPI table (``market``: with the market columns, MARKET_KPIS)."""
    cols = ["node", "product", "unit"]
    for name in KPI_COLUMNS + (MARKET_KPIS if market else ()):
        cols += [name, f"{name}_p05", f"{name}_p95"]
    return cols + ["replications", "short_runs", "recovered_runs"]


# --- headlines: named question-specific quantities (scenario ``headlines:``) -----------

HEADLINE_COLUMNS = ["headline", "label", "unit", "replication", "value"]
HEADLINE_SUMMARY_COLUMNS = ["headline", "label", "unit", "mean", "p05", "p95", "replications"]
# units of daily metrics that are not in their product's unit
_METRIC_UNITS = {"cost": "USD", "fee": "USD", "yield": "fraction", "wafers_started": "wafer", "energy_mwh": "MWh",
                 "facility_energy_mwh": "MWh",
                 "lane_share": "fraction", "qualified": "flag", "price": "USD", "spend": "USD",
                 "price_multiplier": "ratio"}


def headline_unit(metric: str, product_units: list[str]) -> str:
    """Unit of a headline: the metric's own (USD for cost, fee, price and spend, ratio for
    price_multiplier, MWh, wafer, fraction),
    else the product's unit (one unit shared by the products read, else "unit")."""
    if metric in _METRIC_UNITS:
        return _METRIC_UNITS[metric]
    units = set(product_units)
    return units.pop() if len(units) == 1 else "unit"


def _headline_place(headline) -> str:
    """The ``node`` column a headline reads: the node id or the lane as ``from->to``."""
    return headline.node if headline.node is not None else f"{headline.lane[0]}->{headline.lane[1]}"


def _headline_span(headline, start_date, horizon: int) -> tuple[int, int]:
    first = 0 if headline.from_ is None else max(0, day_number(headline.from_, start_date))
    stop = horizon if headline.to is None else min(horizon, day_number(headline.to, start_date))
    return first, stop


def _units_read(scenario, products: list[str]) -> list[str]:
    catalogue = scenario.products
    return [catalogue[p].unit if p in catalogue else p for p in products]


def headline_values(scenario, timeseries: pd.DataFrame) -> pd.DataFrame:
    """Each headline of the scenario, per replication: columns headline, label, unit,
    replication, value.

    A headline reads its daily ``metric`` at its node (or on its lane, node "from->to"),
    for its product (every product there when absent, summed per day), on the days
    ``from <= d < to`` (default: the whole run), and reduces them per replication by
    ``stat``: sum (default), mean (over the days of the span) or max. A series the run
    did not record (e.g. ``fee`` on a lane no licence governs) reads as 0 every day.
    ``timeseries`` is the per-replication tidy table (``Results.timeseries`` of a run
    that kept every replication).
    """
    import numpy as np
    import pandas as pd

    reps = np.sort(timeseries["replication"].unique()) if len(timeseries) else np.array([], dtype=int)
    frames = []
    for h in scenario.headlines:
        first, stop = _headline_span(h, scenario.start_date, scenario.horizon)
        rows = timeseries[(timeseries["metric"] == h.metric) & (timeseries["node"] == _headline_place(h))]
        if h.product is not None:
            rows = rows[rows["product"] == h.product]
        products = [h.product] if h.product is not None else sorted(map(str, rows["product"].unique()))
        rows = rows[(rows["day"] >= first) & (rows["day"] < stop)]
        daily = rows.groupby(["replication", "day"], observed=True)["value"].sum().unstack("day")
        days = max(stop - first, 0)
        daily = daily.reindex(index=reps, columns=range(first, first + days)).fillna(0.0) if days else daily.reindex(reps)
        values = daily.to_numpy(float)
        if values.shape[1] == 0:
            value = np.zeros(len(reps))
        elif h.stat == "sum":
            value = values.sum(axis=1)
        elif h.stat == "mean":
            value = values.mean(axis=1)
        else:
            value = values.max(axis=1)
        frames.append(pd.DataFrame({"headline": h.name, "label": label_of(h.name, h.label),
                                    "unit": headline_unit(h.metric, _units_read(scenario, products)),
                                    "replication": reps, "value": value}))
    if not frames:
        return pd.DataFrame(columns=HEADLINE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[HEADLINE_COLUMNS]


def summarise_headlines(per_replication: pd.DataFrame) -> pd.DataFrame:
    """One row per headline: mean over replications with 5th and 95th percentiles and
    the replication count (columns headline, label, unit, mean, p05, p95, replications)."""
    import numpy as np
    import pandas as pd

    rows = []
    for name, group in per_replication.groupby("headline", sort=False):
        values = group["value"].to_numpy(float)
        finite = values[np.isfinite(values)]
        rows.append({"headline": name, "label": group["label"].iloc[0], "unit": group["unit"].iloc[0],
                     "mean": float(finite.mean()) if finite.size else math.nan,
                     "p05": float(np.quantile(finite, 0.05)) if finite.size else math.nan,
                     "p95": float(np.quantile(finite, 0.95)) if finite.size else math.nan,
                     "replications": int(group["replication"].nunique())})
    return pd.DataFrame(rows, columns=HEADLINE_SUMMARY_COLUMNS)
