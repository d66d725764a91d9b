"""Paired statistics of outcomes: intervals, differences against a base, rankings.

Pure: reads tidy tables and scenarios, never runs a simulation or draws a chart, so a
chart needing a t interval and the orchestrator can both import it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import ChipsimUserError
from .leverspec import reference_index
from .metrics import METRICS, ShockWindow, compared, outcomes_table, rankable, reference_window
from .quantities import day_number

if TYPE_CHECKING:
    from .schema import Scenario

CONFIDENCE = 0.90


def shock_windows(scenario: Scenario) -> list[tuple[int, int | None]]:
    """(start day, end day or None) of every shock, in days from the scenario's start."""
    shocks: list[Any] = list(scenario.shocks)  # the Shock union is opaque to mypy; each has start and end
    return [(day_number(s.start, scenario.start_date),
             None if s.end is None else day_number(s.end, scenario.start_date)) for s in shocks]


def scenario_window(scenario: Scenario) -> ShockWindow:
    """The reference shock's window, which survive and recover times count from (the
    shock named by ``reference_shock``, else the earliest one starting on or after day 0,
    else the earliest), with the scenario's ``short_day_threshold``."""
    return reference_window(shock_windows(scenario), reference_index(scenario), scenario.short_day_threshold)


def product_units(scenario: Scenario) -> dict[str, str]:
    """Unit of each product of the scenario."""
    return {pid: p.unit for pid, p in scenario.products.items()}


def demand_rows(scenario: Scenario) -> list[tuple[str, str]]:
    """The (node, product) rows the scenario has demand for, in network order; a compute
    demand's product is its measure (as in the KPI table)."""
    from .network import build_network

    net = build_network(scenario)
    return list(dict.fromkeys(net.slots[d.slot] for d in net.demands))


def outcomes(timeseries: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per replication and demand row: the KPIs plus the node's total cost and energy."""
    return outcomes_table(timeseries, scenario_window(scenario), product_units(scenario))


def paired_interval(diffs: np.ndarray) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of paired differences; a 90% t interval of the mean, in the
    differences' own unit (NaN bounds with fewer than two finite values)."""
    d = diffs[np.isfinite(diffs)]
    n = int(d.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    # lazily, and scipy.special rather than scipy.stats (0.2 s to import instead of 0.7 s):
    # stdtrit is the function scipy.stats.t.ppf calls, so the bounds are the same bytes
    from scipy.special import stdtrit

    half = float(stdtrit(n - 1, 0.5 + CONFIDENCE / 2) * d.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def distinguishable(low: float, high: float, mean: float) -> bool:
    """Whether an interval of a difference excludes zero (a constant difference counts
    when it is not zero)."""
    if math.isnan(low):
        return False
    if low == high == mean:  # identical in every replication
        return mean != 0.0
    return low > 0 or high < 0


def differences(table: pd.DataFrame, base: str) -> pd.DataFrame:
    """Paired differences option - base, per demand row and compared metric.

    Only the (node, product) rows the variants have: a row of the options that the base
    lacks (or the reverse) pairs with NaN and counts zero pairs, but nodes are never
    crossed with products or units that do not go together."""
    names = set(compared())
    rows_of = table[table["metric"].isin(names)]
    keys = ["node", "product", "unit", "metric"]
    wide = (rows_of.groupby([*keys, "replication", "variant"], sort=False, observed=True)["value"].first()
            .unstack("variant"))
    rows = []
    for option in [v for v in wide.columns if v != base]:
        for (node, product, unit, metric), group in wide.groupby(level=[0, 1, 2, 3], sort=False, observed=True):
            a = group[base].to_numpy(float) if base in group else np.full(len(group), math.nan)
            b = group[option].to_numpy(float)
            mean, low, high, n = paired_interval(b - a)
            rows.append({"variant": option, "node": node, "product": product, "unit": unit, "metric": metric,
                         "base_mean": float(np.nanmean(a)) if np.isfinite(a).any() else math.nan,
                         "option_mean": float(np.nanmean(b)) if np.isfinite(b).any() else math.nan,
                         "difference": mean, "difference_low": low, "difference_high": high,
                         "pairs": n, "distinguishable": distinguishable(low, high, mean)})
    return pd.DataFrame(rows)


def focus_row(table: pd.DataFrame, base: str, variants: Sequence[str] = ()) -> tuple[str, str]:
    """The demand row where the base falls shortest (lowest mean fill rate), among the
    rows every one of ``variants`` has."""
    fill = table[table["metric"] == "fill_rate"]
    pairs = fill[["node", "product"]].apply(tuple, axis=1) if len(fill) else pd.Series(dtype=object)
    for v in variants:
        common = set(pairs[fill["variant"] == v])
        fill, pairs = fill[pairs.isin(common)], pairs[pairs.isin(common)]
    fill = fill[fill["variant"] == base]
    if fill.empty:
        raise ChipsimUserError("the scenarios have no demand row in common to compare")
    means = fill.groupby(["node", "product"], sort=False)["value"].mean()
    node, product = means.idxmin() if means.notna().any() else means.index[0]  # no demand anywhere: the first row
    return str(node), str(product)


def _neighbour_note(first: str, second: str, label: str, node: str, interval: tuple[float, float, float, int]) -> str | None:
    mean, low, high, n = interval
    if low == high == mean == 0.0:
        return f"'{first}' and '{second}' give the same {label} at {node} in every one of {n} replications."
    if distinguishable(low, high, mean):
        return None
    if math.isnan(low):
        return f"'{first}' and '{second}' cannot be told apart on {label} at {node} with {n} replication(s)."
    return (f"'{first}' and '{second}' cannot be told apart on {label} at {node} at {n} replications "
            f"(90% interval of the difference: {low:,.4g} to {high:,.4g}); run more replications to separate them.")


def ranking(table: pd.DataFrame, variants: Sequence[str], node: str, product: str, metric: str,
            labels: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Rank variants on one demand row and metric; say which neighbours cannot be told apart."""
    labels = labels or {}
    if metric not in METRICS or METRICS[metric].direction is None:
        raise ChipsimUserError(f"cannot rank by '{metric}'; choose one of: {', '.join(rankable())}")
    rows = table[(table["node"] == node) & (table["product"] == product) & (table["metric"] == metric)]
    wide = rows.pivot_table(index="replication", columns="variant", values="value", aggfunc="first", dropna=False)
    means = {v: float(np.nanmean(wide[v])) if v in wide and np.isfinite(wide[v]).any() else math.nan for v in variants}
    better_low = METRICS[metric].direction == "lower"
    order = sorted(variants, key=lambda v: (math.isnan(means[v]), means[v] if better_low else -means[v]))
    out, notes = [], []
    for rank, v in enumerate(order, start=1):
        _, low, high, n = paired_interval(wide[v].to_numpy(float) - 0.0) if v in wide else (math.nan,) * 3 + (0,)
        out.append({"rank": rank, "variant": v, "metric": metric, "mean": means[v], "mean_low": low, "mean_high": high,
                    "replications": n})
    for first_id, second_id in zip(order, order[1:], strict=False):
        interval = paired_interval(wide[second_id].to_numpy(float) - wide[first_id].to_numpy(float))
        note = _neighbour_note(labels.get(first_id, first_id), labels.get(second_id, second_id),
                               METRICS[metric].label, node, interval)
        if note:
            notes.append(note)
    return pd.DataFrame(out), notes


def headline_values_of(scenario: Scenario, timeseries: pd.DataFrame) -> pd.DataFrame | None:
    """The scenario's headlines per replication (``sim.metrics.headline_values``), or None
    when it declares none (or this chipsim cannot compute them)."""
    from . import metrics

    compute = getattr(metrics, "headline_values", None)
    if not getattr(scenario, "headlines", None) or compute is None:
        return None
    return pd.DataFrame(compute(scenario, timeseries))


def summarise_headline_values(per_rep: pd.DataFrame | None) -> pd.DataFrame | None:
    """headline, label, unit, mean, p05, p95, replications (``sim.metrics.summarise_headlines``)."""
    from . import metrics

    summarise = getattr(metrics, "summarise_headlines", None)
    if per_rep is None or summarise is None:
        return None
    return pd.DataFrame(summarise(per_rep))


def headline_differences(per_rep: pd.DataFrame, base: str) -> pd.DataFrame:
    """Paired differences option - base of every headline, per replication, with a 90%
    interval: ``per_rep`` has variant, replication, headline and value columns (label and
    unit are carried when present)."""
    extra = [c for c in ("label", "unit") if c in per_rep.columns]
    wide = per_rep.pivot_table(index=["headline", "replication"], columns="variant", values="value", aggfunc="first")
    described = per_rep.drop_duplicates("headline").set_index("headline")[extra] if extra else None
    rows = []
    for option in [v for v in per_rep["variant"].drop_duplicates() if v != base]:
        for headline, group in wide.groupby(level=0, sort=False):
            a = group[base].to_numpy(float) if base in group else np.full(len(group), math.nan)
            b = group[option].to_numpy(float) if option in group else np.full(len(group), math.nan)
            mean, low, high, n = paired_interval(b - a)
            info = described.loc[headline].to_dict() if described is not None else {}
            rows.append({"variant": option, "headline": headline, **info,
                         "base_mean": float(np.nanmean(a)) if np.isfinite(a).any() else math.nan,
                         "option_mean": float(np.nanmean(b)) if np.isfinite(b).any() else math.nan,
                         "difference": mean, "difference_low": low, "difference_high": high, "pairs": n})
    return pd.DataFrame(rows)


# --- outcomes of a chunk of replications straight from their daily values -------------

OUTCOME_COLUMNS = ["replication", "node", "product", "unit", "metric", "value"]


class OutcomePlan:
    """Where each outcome of ``outcomes`` comes from in a (replication, day, series) cube
    of ``net``'s series: the same rows, metrics and numbers as ``outcomes`` of the tidy
    table, without building it (a summary run reduces every chunk of replications to one
    (replications, entries) array in the workers).

    ``entries``: (node, product, unit, metric) in the order ``outcomes`` lists them;
    per-row metrics read the row's (replication, day) arrays of demand, delivered,
    shortfall (and a market's price series) and call the registry's own function; node
    totals are sums by ``pandas`` groupby over the days and series in the tidy table's
    order, as ``outcomes`` sums them, so every bit is the same."""

    def __init__(self, net: Any):
        from .metrics import _KPI_SOURCES, KPI_COLUMNS, MARKET_KPIS

        sc = net.scenario
        self.window = scenario_window(sc)
        units = product_units(sc)
        series = list(net.series)
        metric_order = list(dict.fromkeys(m for _, m in series))  # the tidy table's categories
        rows: dict[tuple[str, str], dict[str, int]] = {}
        for k, (slot, metric) in enumerate(series):
            if metric in _KPI_SOURCES:
                rows.setdefault(tuple(net.slots[slot]), {})[metric] = k
        self.rows: list[tuple[str, str, str, dict[str, int], tuple[str, ...]]] = []
        for (node, product), found in rows.items():
            roles = {_KPI_SOURCES[m]: found[m] for m in metric_order if m in found}  # later metrics overwrite
            if "demand" not in roles:
                continue  # a substitute's own row only reports what it delivered
            names = KPI_COLUMNS + (MARKET_KPIS if "price_multiplier" in roles else ())
            self.rows.append((node, product, units.get(product, product), roles, names))
        self.totals: list[tuple[str, str, str, str, list[int]]] = []  # node, product, unit, metric, series
        for node, product, unit in dict.fromkeys((r[0], r[1], r[2]) for r in self.rows):
            for m in (m for m in METRICS.values() if m.total is not None):
                by_product = m.name == "energy_mwh"
                cols = [k for k, (slot, metric) in enumerate(series) if metric == m.name
                        and net.slots[slot][0] == node and (not by_product or net.slots[slot][1] == product)]
                if m.reported_when_absent or cols:
                    self.totals.append((node, product, unit, m.name, cols))
        self.entries = [(n, p, u, name) for n, p, u, _, names in self.rows for name in names]
        self.entries += [(n, p, u, name) for n, p, u, name, _ in self.totals]

    def values(self, cube: np.ndarray) -> np.ndarray:
        """(replications, entries) outcomes of a (replications, day, series) cube."""
        n = cube.shape[0]
        out = np.full((n, len(self.entries)), np.nan)  # a total of no series stays NaN (and is not listed)
        j = 0
        for _, _, _, roles, names in self.rows:
            arrays = {role: np.ascontiguousarray(cube[:, :, k]) for role, k in roles.items()}
            for name in names:
                compute = METRICS[name].per_row
                assert compute is not None
                out[:, j] = compute(arrays, self.window)
                j += 1
        present = [(j, cols) for j, (*_, cols) in enumerate(self.totals, start=j) if cols]
        if present:  # one groupby for every total: group t * n + r holds replication r's days and series in order
            flat = np.concatenate([np.ascontiguousarray(cube[:, :, cols]).reshape(-1) for _, cols in present])
            group = np.concatenate([np.repeat(np.arange(t * n, (t + 1) * n), cube.shape[1] * len(cols))
                                    for t, (_, cols) in enumerate(present)])
            sums = pd.Series(flat).groupby(group).sum().to_numpy().reshape(len(present), n)
            for t, (column, _) in enumerate(present):
                out[:, column] = sums[t]
        return out

    def frame(self, values: np.ndarray, replications: np.ndarray) -> pd.DataFrame:
        """The outcomes table (``OUTCOME_COLUMNS``) of the (replications, entries) array
        ``values``, sorted by node, product, metric and replication."""
        reps = np.asarray(replications, dtype=np.int32)
        empty = np.zeros(0, np.int32)
        frames = []
        for j, (node, product, unit, metric) in enumerate(self.entries):
            absent = j >= len(self.entries) - len(self.totals) and not self.totals[j - len(self.entries)][4]
            frames.append(pd.DataFrame({"replication": empty if absent else reps, "node": node, "product": product,
                                        "unit": unit, "metric": metric,
                                        "value": np.zeros(0) if absent else values[:, j]}))
        if not frames:
            return pd.DataFrame(columns=OUTCOME_COLUMNS)
        return pd.concat(frames, ignore_index=True).sort_values(["node", "product", "metric", "replication"],
                                                                ignore_index=True)
