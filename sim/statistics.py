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
