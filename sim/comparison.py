"""Policy comparisons: variants of one base run on common random numbers, paired.

Every variant runs with the same seed and replication count, so replication r of each
variant sees the same demand, lead-time and licence draws wherever the scenarios agree.
Differences against the base are computed replication by replication, and their mean
gets a two-sided 90% t interval.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ChipsimUserError, did_you_mean
from .executors import make_executor
from .experiment import check_options
from .experiment import run as run_scenario
from .loader import load_scenario
from .metrics import rankable
from .results import Results, save_folder, stack_tables
from .rundir import save_comparison
from .schema import Scenario
from .statistics import demand_rows, differences, focus_row, headline_differences, outcomes, ranking, summarise_headline_values


@dataclass
class Variant:
    """One scenario of a comparison: ``id`` (from its file name), its results."""

    id: str
    results: Results
    name: str | None = None   # set when the scenario's own name cannot tell it apart

    @property
    def label(self) -> str:
        """The scenario's name (or the label given instead), as charts and tables show it."""
        return self.name or self.results.scenario.name


def variant_id(path: str | os.PathLike, taken: set[str]) -> str:
    """A file-name-safe id from a scenario's file name, not one of ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem) or "variant"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


def _check_focus(loaded: Sequence[Scenario], ids: Sequence[str], focus: str | None,
                 rows: list[list[tuple[str, str]]]) -> None:
    """``--focus NODE[:PRODUCT]`` names a demand row of the base that every option serves."""
    if not focus:
        return
    node, _, product = focus.partition(":")
    base_nodes = list(dict.fromkeys(n for n, _ in rows[0]))
    if node not in base_nodes:
        raise ChipsimUserError(f"--focus {focus}: '{node}' is not a demand node of the base '{ids[0]}'"
                               f"{did_you_mean(node, base_nodes)}; demand nodes: {', '.join(base_nodes)}")
    products = [p for n, p in rows[0] if n == node]
    if product and product not in products:
        raise ChipsimUserError(f"--focus {focus}: '{node}' has no demand for '{product}'"
                               f"{did_you_mean(product, products)}; it demands: {', '.join(products)}")
    wanted = (node, product or products[0])
    for vid, option_rows in zip(ids[1:], rows[1:], strict=False):
        if wanted not in option_rows:
            raise ChipsimUserError(f"option '{vid}' has no demand for {wanted[1]} at {wanted[0]}, the --focus row; "
                                   "an option must serve the node it is ranked on")


def plan_comparison(loaded: Sequence[Scenario], ids: Sequence[str], focus: str | None = None,
                    rank_by: str = "shortfall") -> tuple[list[str | None], list[str]]:
    """Check a comparison before anything runs; return the label to show for each variant
    (None: its own name) and warnings to print.

    Refused (as ``ChipsimUserError``): an unknown ``rank_by``, a ``focus`` that is not a
    demand row of the base or that an option does not serve, an option sharing no demand
    row with the base. Warned: an option whose name is the base's (it has no ``name:`` of
    its own, so ``extends`` gave it the base's); it is labelled by its file name.
    """
    if rank_by not in rankable():
        raise ChipsimUserError(f"--rank-by {rank_by}: cannot rank by '{rank_by}'{did_you_mean(rank_by, rankable())}; "
                               f"choose one of: {', '.join(rankable())}")
    rows = [demand_rows(sc) for sc in loaded]
    for vid, option_rows in zip(ids[1:], rows[1:], strict=False):
        if not set(option_rows) & set(rows[0]):
            raise ChipsimUserError(f"option '{vid}' shares no demand node with the base '{ids[0]}'; "
                                   "compare options that are variants of the base (e.g. `extends:` it)")
    _check_focus(loaded, ids, focus, rows)
    labels: list[str | None] = [None]
    warnings: list[str] = []
    for vid, sc in zip(ids[1:], loaded[1:], strict=False):
        if sc.name == loaded[0].name:
            warnings.append(f"warning: option '{vid}' has no name of its own (it took the base's name "
                            f"'{sc.name}' and description); labelled '{vid}' instead: give it a `name:`")
            labels.append(vid)
        else:
            labels.append(None)
    return labels, warnings


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
    headlines: pd.DataFrame | None = None             # variant, headline, label, unit, mean, p05, p95, replications
    headline_differences: pd.DataFrame | None = None  # paired option - base, 90% intervals

    @property
    def base(self) -> Variant:
        """The first variant, which the options are compared against."""
        return self.variants[0]

    def timeseries(self) -> pd.DataFrame:
        """All variants' daily tables in one, with a leading categorical ``variant`` column."""
        return stack_tables([v.results.timeseries for v in self.variants], [v.id for v in self.variants])

    def kpis(self) -> pd.DataFrame:
        """Every variant's KPI table in one, with a leading ``variant`` column."""
        return pd.concat([v.results.kpis.assign(variant=v.id)[["variant", *v.results.kpis.columns]] for v in self.variants],
                         ignore_index=True)

    def save(self, out: str | os.PathLike, force: bool = False, report: bool = True, pdf: bool = True,
             progress: bool = False, svg: bool = False) -> Path:
        """Write the comparison directory atomically (see ``sim.rundir``), with its
        charts (SVG too when ``svg``) and briefing unless ``report`` is false (its PDF
        unless ``pdf`` is false); ``progress`` shows the steps on stderr."""
        return save_folder(save_comparison, self, out, force, report, pdf, progress, svg)


def compare(scenarios: Sequence[Scenario | str | os.PathLike], replications: int | None = None,
            seed: int | None = None, workers: int = 1, progress: bool = False,
            rank_by: str = "shortfall", focus: str | None = None, search_paths: Sequence = (),
            executor: str = "processes", scheduler: str | None = None, keep: str = "all",
            warn: Callable[[str], object] | None = None, ids: Sequence[str] | None = None) -> Comparison:
    """Run the base (first) and each option on the same seed and replications; compare.

    ``focus`` is ``NODE`` or ``NODE:PRODUCT`` for the ranking (default: the demand row the
    base serves worst). Everything is checked before the first replication runs (see
    ``plan_comparison``); ``warn(message)`` receives its warnings (default: ignored).
    ``keep`` is as for ``sim.experiment.run``; ``ids`` names the variants (default: from
    their file names, or names for scenario objects). Returns a ``Comparison``.
    """
    if len(scenarios) < 2:
        raise ChipsimUserError("compare needs a base scenario and at least one option")
    loaded: list[Scenario] = []
    made: list[str] = []
    for item in scenarios:
        sc = item if isinstance(item, Scenario) else load_scenario(Path(item), search_paths=search_paths)
        made.append(variant_id(item if not isinstance(item, Scenario) else sc.name, set(made)))
        loaded.append(sc)
    if ids is not None and (len(ids) != len(loaded) or len(set(ids)) != len(ids)):
        raise ChipsimUserError("compare: give one distinct id per scenario")
    ids = list(ids) if ids is not None else made
    reps = loaded[0].replications if replications is None else int(replications)
    seed = loaded[0].seed if seed is None else int(seed)
    horizons = {sc.horizon for sc in loaded}
    starts = {sc.start_date for sc in loaded}
    if len(horizons) > 1 or len(starts) > 1:
        raise ChipsimUserError("variants must share start_date and horizon to be compared day by day "
                               f"(found horizons {sorted(horizons)} and start dates {sorted(map(str, starts))})")
    check_options(reps, seed, workers, executor, keep)
    names, warnings = plan_comparison(loaded, ids, focus, rank_by)
    for message in warnings:
        if warn is not None:
            warn(message)
    # one pool (or Dask client) for every variant rather than one per variant
    with make_executor(executor, min(workers, reps), scheduler) as shared:
        variants = [Variant(vid, run_scenario(sc, replications=reps, seed=seed, workers=workers, progress=progress,
                                              executor=shared, keep=keep), name)
                    for vid, sc, name in zip(ids, loaded, names, strict=False)]
    return _gather(variants, focus, rank_by, seed, reps)


def _outcomes_of(results: Results) -> pd.DataFrame:
    if results.per_replication is not None:
        return results.per_replication
    return outcomes(results.timeseries, results.scenario)


def _gather(variants: list[Variant], focus: str | None, rank_by: str, seed: int, reps: int) -> Comparison:
    """The paired tables, ranking and manifest of variants that have run."""
    table = pd.concat([_outcomes_of(v.results).assign(variant=v.id) for v in variants], ignore_index=True)
    base = variants[0].id
    if focus:
        node, _, product = focus.partition(":")
        rows = table[table["node"] == node]
        if rows.empty:
            raise ChipsimUserError(f"--focus {focus}: '{node}' is not a demand node of these scenarios")
        product = product or str(rows["product"].iloc[0])
        chosen = (node, product)
    else:
        chosen = focus_row(table, base, [v.id for v in variants])
    ranked, notes = ranking(table, [v.id for v in variants], chosen[0], chosen[1], rank_by,
                            {v.id: v.label for v in variants})
    diffs = differences(table, base)
    manifest = dict(variants[0].results.manifest)
    manifest.update({"kind": "compare", "variants": [{"id": v.id, "label": v.label,
                                                      "inputs": v.results.manifest.get("inputs", [])} for v in variants],
                     "wall_time_s": round(sum(v.results.manifest.get("wall_time_s", 0.0) for v in variants), 3),
                     "rank_by": rank_by, "focus": list(chosen)})
    comp = Comparison(variants, table, diffs, ranked, notes, chosen, rank_by, seed, reps, manifest)
    comp.headlines, comp.headline_differences = _headlines(variants)
    return comp


def _headlines(variants: list[Variant]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Each variant's headlines summarised, and their paired differences against the base."""
    per_rep = [(v.id, getattr(v.results, "headline_values", None)) for v in variants]
    if any(values is None or not len(values) for _, values in per_rep):
        return None, None
    summaries = []
    for vid, values in per_rep:
        summary = summarise_headline_values(values)
        if summary is None:
            return None, None
        summaries.append(summary.assign(variant=vid)[["variant", *summary.columns]])
    long = pd.concat([values.assign(variant=vid) for vid, values in per_rep if values is not None], ignore_index=True)
    return pd.concat(summaries, ignore_index=True), headline_differences(long, variants[0].id)
