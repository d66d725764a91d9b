"""Policy comparisons: variants of one base run on common random numbers, paired.

Every variant runs with the same seed and replication count, so replication r of each
variant sees the same demand, lead-time and licence draws wherever the scenarios agree.
Differences against the base are computed replication by replication, and their mean
gets a two-sided 90% t interval.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ChipsimUserError
from .experiment import run as run_scenario
from .loader import load_scenario
from .metrics import METRIC_INFO, earliest_window, per_replication_kpis
from .results import Results, _shock_windows
from .schema import Scenario

CONFIDENCE = 0.90
COMPARED = ("shortfall", "fill_rate", "delivered", "time_to_survive_days", "time_to_recover_days", "cost", "energy_mwh")


@dataclass
class Variant:
    """One scenario of a comparison: ``id`` (from its file name), its results."""

    id: str
    results: Results

    @property
    def label(self) -> str:
        return self.results.scenario.name


def variant_id(path: Union[str, os.PathLike], taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem) or "variant"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


def outcomes(timeseries: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per replication and demand row: the KPIs plus the node's total cost and energy."""
    window = earliest_window(_shock_windows(scenario))
    units = {pid: p.unit for pid, p in scenario.products.items()}
    per_rep = per_replication_kpis(timeseries, window, units)
    if per_rep.empty:
        return per_rep
    ts = timeseries
    extra = []
    rows = per_rep[["node", "product", "unit"]].drop_duplicates()
    for node, product, unit in rows.itertuples(index=False):
        at_node = ts[(ts["node"] == node) & (ts["metric"] == "cost")]
        cost = at_node.groupby("replication", observed=True)["value"].sum()
        extra.append(pd.DataFrame({"replication": cost.index, "node": node, "product": product,
                                   "unit": unit, "metric": "cost", "value": cost.to_numpy()}))
        energy = ts[(ts["node"] == node) & (ts["product"] == product) & (ts["metric"] == "energy_mwh")]
        if len(energy):
            e = energy.groupby("replication", observed=True)["value"].sum()
            extra.append(pd.DataFrame({"replication": e.index, "node": node, "product": product,
                                       "unit": unit, "metric": "energy_mwh", "value": e.to_numpy()}))
    return pd.concat([per_rep, *extra], ignore_index=True)


def paired_interval(diffs: np.ndarray) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of paired differences; a 90% t interval of the mean."""
    d = diffs[np.isfinite(diffs)]
    n = int(d.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def _differs(low: float, high: float, mean: float) -> bool:
    if math.isnan(low):
        return False
    if low == high == mean:  # identical in every replication
        return mean != 0.0
    return low > 0 or high < 0


def differences(table: pd.DataFrame, base: str) -> pd.DataFrame:
    """Paired differences option - base, per demand row and metric."""
    wide = table.pivot_table(index=["node", "product", "unit", "metric", "replication"], columns="variant",
                             values="value", aggfunc="first", dropna=False)
    rows = []
    for option in [v for v in wide.columns if v != base]:
        for (node, product, unit, metric), group in wide.groupby(level=[0, 1, 2, 3], sort=False):
            if metric not in COMPARED:
                continue
            a, b = group[base].to_numpy(float), group[option].to_numpy(float)
            mean, low, high, n = paired_interval(b - a)
            rows.append({"variant": option, "node": node, "product": product, "unit": unit, "metric": metric,
                         "base_mean": float(np.nanmean(a)) if np.isfinite(a).any() else math.nan,
                         "option_mean": float(np.nanmean(b)) if np.isfinite(b).any() else math.nan,
                         "difference": mean, "difference_low": low, "difference_high": high,
                         "pairs": n, "distinguishable": _differs(low, high, mean)})
    return pd.DataFrame(rows)


def focus_row(table: pd.DataFrame, base: str) -> tuple[str, str]:
    """The demand row where the base falls shortest (lowest mean fill rate)."""
    fill = table[(table["variant"] == base) & (table["metric"] == "fill_rate")]
    if fill.empty:
        raise ChipsimUserError("the scenarios have no demand nodes to compare")
    means = fill.groupby(["node", "product"], sort=False)["value"].mean()
    node, product = means.idxmin()
    return str(node), str(product)


def ranking(table: pd.DataFrame, variants: Sequence[str], node: str, product: str, metric: str,
            labels: Optional[dict] = None) -> tuple[pd.DataFrame, list[str]]:
    """Rank variants on one demand row and metric; say which neighbours cannot be told apart."""
    labels = labels or {}
    if metric not in METRIC_INFO or METRIC_INFO[metric][1] is None:
        ranked = [m for m, info in METRIC_INFO.items() if info[1]]
        raise ChipsimUserError(f"cannot rank by '{metric}'; choose one of: {', '.join(ranked)}")
    rows = table[(table["node"] == node) & (table["product"] == product) & (table["metric"] == metric)]
    wide = rows.pivot_table(index="replication", columns="variant", values="value", aggfunc="first", dropna=False)
    means = {v: float(np.nanmean(wide[v])) if v in wide and np.isfinite(wide[v]).any() else math.nan for v in variants}
    better_low = METRIC_INFO[metric][1] == "lower"
    order = sorted(variants, key=lambda v: (math.isnan(means[v]), means[v] if better_low else -means[v]))
    out, notes = [], []
    label = METRIC_INFO[metric][0]
    for rank, v in enumerate(order, start=1):
        _, low, high, n = paired_interval(wide[v].to_numpy(float) - 0.0) if v in wide else (math.nan,) * 3 + (0,)
        out.append({"rank": rank, "variant": v, "metric": metric, "mean": means[v], "mean_low": low, "mean_high": high,
                    "replications": n})
    for first_id, second_id in zip(order, order[1:]):
        mean, low, high, n = paired_interval(wide[second_id].to_numpy(float) - wide[first_id].to_numpy(float))
        first, second = labels.get(first_id, first_id), labels.get(second_id, second_id)
        if low == high == mean == 0.0:
            notes.append(f"'{first}' and '{second}' give the same {label} at {node} in every one of {n} replications.")
        elif not _differs(low, high, mean):
            notes.append(f"'{first}' and '{second}' cannot be told apart on {label} at {node} at {n} replications "
                         f"(90% interval of the difference: {low:,.4g} to {high:,.4g}); run more replications to separate them."
                         if not math.isnan(low) else
                         f"'{first}' and '{second}' cannot be told apart on {label} at {node} with {n} replication(s).")
    return pd.DataFrame(out), notes


@dataclass
class Comparison:
    """Variants run on common random numbers, their paired differences and ranking."""

    variants: list[Variant]
    table: pd.DataFrame                   # variant, replication, node, product, unit, metric, value
    differences: pd.DataFrame
    ranking: pd.DataFrame
    notes: list[str]
    focus: tuple[str, str]
    rank_by: str
    seed: int
    replications: int
    manifest: dict = field(default_factory=dict)

    @property
    def base(self) -> Variant:
        return self.variants[0]

    def timeseries(self) -> pd.DataFrame:
        """All variants' daily tables in one, with a leading ``variant`` column."""
        frames = [v.results.timeseries.assign(variant=v.id) for v in self.variants]
        ts = pd.concat(frames, ignore_index=True)
        ts["variant"] = pd.Categorical(ts["variant"], categories=[v.id for v in self.variants])
        for col in ("node", "product", "metric"):
            ts[col] = ts[col].astype("category")
        return ts[["variant", *[c for c in ts.columns if c != "variant"]]]

    def kpis(self) -> pd.DataFrame:
        return pd.concat([v.results.kpis.assign(variant=v.id)[["variant", *v.results.kpis.columns]] for v in self.variants],
                         ignore_index=True)

    def save(self, out: Union[str, os.PathLike], force: bool = False) -> Path:
        """Write the comparison directory atomically (see ``sim.reporting.rundir``)."""
        from .reporting.rundir import save_comparison
        return save_comparison(self, Path(out), force=force)


def compare(scenarios: Sequence[Union[Scenario, str, os.PathLike]], replications: Optional[int] = None,
            seed: Optional[int] = None, workers: int = 1, progress: bool = False,
            rank_by: str = "shortfall", focus: Optional[str] = None, search_paths: Sequence = (),
            executor: str = "processes", scheduler: Optional[str] = None) -> Comparison:
    """Run the base (first) and each option on the same seed and replications; compare.

    ``focus`` is ``NODE`` or ``NODE:PRODUCT`` for the ranking (default: the demand row the
    base serves worst). Returns a ``Comparison``.
    """
    if len(scenarios) < 2:
        raise ChipsimUserError("compare needs a base scenario and at least one option")
    loaded, ids = [], []
    for item in scenarios:
        sc = item if isinstance(item, Scenario) else load_scenario(Path(item), search_paths=search_paths)
        ids.append(variant_id(item if not isinstance(item, Scenario) else sc.name, set(ids)))
        loaded.append(sc)
    reps = loaded[0].replications if replications is None else int(replications)
    seed = loaded[0].seed if seed is None else int(seed)
    horizons = {sc.horizon for sc in loaded}
    starts = {sc.start_date for sc in loaded}
    if len(horizons) > 1 or len(starts) > 1:
        raise ChipsimUserError("variants must share start_date and horizon to be compared day by day "
                               f"(found horizons {sorted(horizons)} and start dates {sorted(map(str, starts))})")
    variants = []
    for vid, sc in zip(ids, loaded):
        variants.append(Variant(vid, run_scenario(sc, replications=reps, seed=seed, workers=workers, progress=progress,
                                                  executor=executor, scheduler=scheduler)))
    table = pd.concat([outcomes(v.results.timeseries, v.results.scenario).assign(variant=v.id) for v in variants],
                      ignore_index=True)
    base = variants[0].id
    if focus:
        node, _, product = focus.partition(":")
        rows = table[table["node"] == node]
        if rows.empty:
            raise ChipsimUserError(f"--focus {focus}: '{node}' is not a demand node of these scenarios")
        product = product or str(rows["product"].iloc[0])
        chosen = (node, product)
    else:
        chosen = focus_row(table, base)
    ranked, notes = ranking(table, [v.id for v in variants], chosen[0], chosen[1], rank_by,
                            {v.id: v.label for v in variants})
    diffs = differences(table, base)
    manifest = dict(variants[0].results.manifest)
    manifest.update({"kind": "compare", "variants": [{"id": v.id, "label": v.label,
                                                      "inputs": v.results.manifest.get("inputs", [])} for v in variants],
                     "wall_time_s": round(sum(v.results.manifest.get("wall_time_s", 0.0) for v in variants), 3),
                     "rank_by": rank_by, "focus": list(chosen)})
    return Comparison(variants, table, diffs, ranked, notes, chosen, rank_by, seed, reps, manifest)
