"""Policy comparisons: variants of one base run on common random numbers, paired.

Every variant runs with the same seed and replication count, so replication r of each
variant sees the same demand, lead-time and licence draws wherever the scenarios agree.
Differences against the base are computed replication by replication, and their mean
gets a two-sided 90% t interval.
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ChipsimUserError
from .executors import make_executor
from .experiment import check_options
from .experiment import run as run_scenario
from .loader import load_scenario
from .results import Results
from .rundir import save_comparison
from .schema import Scenario
from .statistics import differences, focus_row, outcomes, ranking


@dataclass
class Variant:
    """One scenario of a comparison: ``id`` (from its file name), its results."""

    id: str
    results: Results

    @property
    def label(self) -> str:
        """The scenario's name, as charts and tables show it."""
        return self.results.scenario.name


def variant_id(path: str | os.PathLike, taken: set[str]) -> str:
    """A file-name-safe id from a scenario's file name, not one of ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem) or "variant"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


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
        """The first variant, which the options are compared against."""
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
        """Every variant's KPI table in one, with a leading ``variant`` column."""
        return pd.concat([v.results.kpis.assign(variant=v.id)[["variant", *v.results.kpis.columns]] for v in self.variants],
                         ignore_index=True)

    def save(self, out: str | os.PathLike, force: bool = False) -> Path:
        """Write the comparison directory atomically (see ``sim.rundir``), with its
        charts and briefing."""
        from .reporting.briefing import build_report

        return save_comparison(self, Path(out), force=force, report=build_report)


def compare(scenarios: Sequence[Scenario | str | os.PathLike], replications: int | None = None,
            seed: int | None = None, workers: int = 1, progress: bool = False,
            rank_by: str = "shortfall", focus: str | None = None, search_paths: Sequence = (),
            executor: str = "processes", scheduler: str | None = None) -> Comparison:
    """Run the base (first) and each option on the same seed and replications; compare.

    ``focus`` is ``NODE`` or ``NODE:PRODUCT`` for the ranking (default: the demand row the
    base serves worst). Returns a ``Comparison``.
    """
    if len(scenarios) < 2:
        raise ChipsimUserError("compare needs a base scenario and at least one option")
    loaded: list[Scenario] = []
    ids: list[str] = []
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
    check_options(reps, seed, workers, executor)
    # one pool (or Dask client) for every variant rather than one per variant
    with make_executor(executor, min(workers, reps), scheduler) as shared:
        variants = [Variant(vid, run_scenario(sc, replications=reps, seed=seed, workers=workers, progress=progress,
                                              executor=shared))
                    for vid, sc in zip(ids, loaded, strict=False)]
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
