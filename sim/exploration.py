"""Exploratory modelling: every option in every sampled future, on common random numbers.

``explore(base, options, inputs, futures=N)`` samples N futures over the uncertain
inputs (``sim.futures``), runs the base and each option in every future with the same
seed and replications (so within a future the options differ only by their policies),
and gathers one tidy table: future, option, each input's value, and the focus demand
row's outcomes (mean over replications) plus early metrics (the cumulative fill rate
at a quarter and at half of the horizon). One executor (process pool or Dask) serves
the whole exploration; each worker gets a chunk of futures and returns only those
rows, which are streamed to a Parquet file, so memory stays bounded.

The analysis of the table is pure (``sim.robustness``, ``sim.discovery``,
``sim.sensitivity``); ``Exploration`` holds the table and its results.
"""
from __future__ import annotations

import copy
import datetime as _dt
import functools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .comparison import variant_id
from .discovery import box_in_words, prim_box
from .engine import run_replication
from .errors import ChipsimUserError, did_you_mean
from .executors import Executor, finite_values, make_executor
from .experiment import check_options
from .futures import Input, applies, design, future_document, parse_input, scenario_inputs, set_value, value_text, values_of
from .loader import load_scenario
from .metrics import KPI_COLUMNS, OUTCOME_SERIES, rankable
from .network import Network, build_network
from .provenance import build_manifest
from .results import tidy_timeseries
from .robustness import Threshold, parse_threshold, regret, robustness, signposts
from .schema import Scenario
from .sensitivity import sobol_design, sobol_table
from .statistics import demand_rows, outcomes

OUTCOMES = (*KPI_COLUMNS, "cost")
MAX_FUTURES = 100_000


@dataclass(frozen=True)
class Job:
    """What a worker needs to run futures: each option's id and document, which inputs
    apply to it, the replications, seed, focus row and early-metric days."""

    ids: tuple[str, ...]
    docs: tuple[dict, ...]
    inputs: tuple[Input, ...]
    use: tuple[tuple[bool, ...], ...]
    replications: int
    seed: int
    node: str
    product: str
    checkpoints: tuple[int, ...]


def _scenario(job: Job, j: int, values: Sequence[float], k: int) -> Scenario:
    doc = future_document(job.docs[j], job.inputs, values, job.use[j])
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        shown = ", ".join(f"{inp.path}={inp.document_value(v)}" for inp, v in zip(job.inputs, values, strict=True))
        which = f"future {k}" if k >= 0 else "a future at the inputs' 0.1%, 50% or 99.9% point"
        raise ChipsimUserError(f"{which} ({shown}), option '{job.ids[j]}': {'.'.join(map(str, err['loc']))}: "
                               f"{err['msg'].removeprefix('Value error, ')} (check the --vary distributions)") from None


def focus_outcomes(scenario: Scenario, seed: int, replications: int, node: str, product: str,
                   checkpoints: Sequence[int] = ()) -> dict[str, float]:
    """The focus row's outcomes (``OUTCOMES``, mean over replications, in their units) and
    its cumulative fill rate up to each checkpoint day (``fill_rate_day_<d>``, a fraction)."""
    net = build_network(scenario)
    cols = [i for i, (slot, m) in enumerate(net.series) if net.slots[slot] == (node, product) and m in OUTCOME_SERIES]
    small = Network(net.scenario, net.slots, net.slot_of, net.lanes, net.producers, net.demands, net.order_lines,
                    [net.series[i] for i in cols])
    cube = np.stack([finite_values(net, r, run_replication(net, seed, r).values)[:, cols] for r in range(replications)])
    per = outcomes(tidy_timeseries(small, cube, list(range(replications))), scenario)
    per = per[(per["node"] == node) & (per["product"] == product)]
    means = per.groupby("metric", observed=True)["value"].mean()
    row = {m: float(means.get(m, np.nan)) for m in OUTCOMES}
    names = [m for _, m in small.series]
    dem = names.index("compute_demand" if "compute_demand" in names else "demand") if names else None
    got = names.index("compute_delivered" if "compute_delivered" in names else "delivered") if names else None
    for day in checkpoints:
        if dem is None or got is None:
            row[f"fill_rate_day_{day}"] = np.nan
            continue
        asked = cube[:, : day + 1, dem].sum(axis=1)
        served = cube[:, : day + 1, got].sum(axis=1)
        row[f"fill_rate_day_{day}"] = float(np.mean(np.where(asked > 0, served / np.where(asked > 0, asked, 1), 1.0)))
    return row


def run_futures(job: Job, chunk: Sequence[tuple[int, Sequence[float]]]) -> list[dict]:
    """Rows of the exploration table for a chunk of (future, input values): every option
    of ``job`` in each future (a worker's unit of work; module level, so it pickles)."""
    rows = []
    for k, values in chunk:
        for j, vid in enumerate(job.ids):
            sc = _scenario(job, j, values, k)
            rows.append({"future": int(k), "option": vid,
                         **{inp.name: inp.column(v) for inp, v in zip(job.inputs, values, strict=True)},
                         **focus_outcomes(sc, job.seed, job.replications, job.node, job.product, job.checkpoints)})
    return rows


def _chunks(points: np.ndarray, workers: int, start: int = 0) -> list[list[tuple[int, list[float]]]]:
    size = max(1, min(25, len(points) // (max(1, workers) * 8)))
    items = [(start + k, [float(v) for v in row]) for k, row in enumerate(points)]
    return [items[i:i + size] for i in range(0, len(items), size)]


def _progressing(chunks: Iterator[list[dict]], total: int, what: str, show: bool,
                 per_unit: int) -> Iterator[list[dict]]:
    """The chunks, advancing a bar of ``total`` futures (done and time left) on stderr."""
    if not show:
        yield from chunks
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn(what), BarColumn(bar_width=30), MofNCompleteColumn(), TextColumn("futures"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(what, total=total)
        for rows in chunks:
            yield rows
            bar.advance(task, len(rows) // per_unit)


class _ParquetStream:
    """Rows appended to a Parquet file in a temporary folder as chunks finish."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="chipsim-explore-"))
        self.path = self.dir / "futures.parquet"
        self.writer: Any = None

    def add(self, rows: list[dict]) -> None:
        """Append a chunk's rows."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def read(self) -> pd.DataFrame:
        """Every row, sorted by future and option order, as one table."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        return pd.read_parquet(self.path) if self.path.exists() else pd.DataFrame()

    def close(self) -> None:
        """Delete the temporary file."""
        if self.writer is not None:
            self.writer.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _run_points(ex: Executor, job: Job, points: np.ndarray, what: str, progress: bool) -> pd.DataFrame:
    stream = _ParquetStream()
    try:
        fn = functools.partial(run_futures, job)
        for rows in _progressing(ex.map_chunks(fn, _chunks(points, ex.workers)), len(points), what, progress,
                                 len(job.ids)):
            stream.add(rows)
        table = stream.read()
    finally:
        stream.close()
    order = {vid: i for i, vid in enumerate(job.ids)}
    table = table.sort_values(["future", "option"], key=lambda c: c.map(order) if c.name == "option" else c,
                              ignore_index=True)
    return table


@dataclass
class Exploration:
    """The futures x options table and its robustness, discovery, sensitivity and signposts."""

    table: pd.DataFrame                 # future, option, inputs..., outcomes..., fill_rate_day_<d>...
    inputs: list[Input]
    options: list[str]
    labels: dict[str, str]
    focus: tuple[str, str]
    metric: str
    threshold: Threshold | None
    seed: int
    replications: int
    robustness: pd.DataFrame
    regret: pd.DataFrame
    box: pd.DataFrame
    box_words: str
    signposts: pd.DataFrame
    sensitivity: pd.DataFrame | None
    manifest: dict = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)

    @property
    def best(self) -> str:
        """The best-ranked option (highest satisficing share, then lowest mean regret)."""
        return str(self.robustness["option"].iloc[0])

    def __repr__(self) -> str:
        return (f"<Exploration: {self.table['future'].nunique()} futures x {len(self.options)} options, "
                f"{len(self.inputs)} inputs, focus {self.focus[0]}:{self.focus[1]}, best {self.best}>")

    def with_threshold(self, threshold: str | Threshold) -> Exploration:
        """The same futures judged against another threshold (``METRIC@NODE>=X`` at the
        focus row): robustness, PRIM box and signposts recomputed, nothing run again. The
        sensitivity is kept only while the best-ranked option stays the same."""
        thr = parse_threshold(threshold) if isinstance(threshold, str) else threshold
        if (thr.node, thr.product or self.focus[1]) != self.focus:
            raise ChipsimUserError(f"--threshold {thr.text}: the table holds {self.focus[0]}:{self.focus[1]} only")
        job = Job(tuple(self.options), (), tuple(self.inputs), (), self.replications, self.seed, self.focus[0],
                  self.focus[1], tuple(self.manifest.get("checkpoint_days", ())))
        rob = robustness(self.table, thr.metric, thr, self.options)
        sens = self.sensitivity if str(rob["option"].iloc[0]) == self.best else None
        return _gather(self.table, job, self.scenarios, thr, thr.metric, rob, sens, float(self.manifest.get("wall_time_s", 0)),
                       str(self.manifest.get("executor", "processes")), int(self.manifest.get("workers", 1)))

    def save(self, out: str | os.PathLike, force: bool = False, report: bool = True, pdf: bool = True) -> Path:
        """Write the exploration folder atomically (tables, manifest, charts, briefing)."""
        from .exploresave import save_exploration

        return save_exploration(self, Path(out), force=force, report=report, pdf=pdf)


def _load(items: Sequence[Scenario | str | os.PathLike], search_paths: Sequence) -> tuple[list[Scenario], list[str]]:
    loaded: list[Scenario] = []
    ids: list[str] = []
    for item in items:
        sc = item if isinstance(item, Scenario) else load_scenario(Path(item), search_paths=search_paths)
        ids.append(variant_id(item if not isinstance(item, Scenario) else sc.name, set(ids)))
        loaded.append(sc)
    return loaded, ids


def _focus(loaded: list[Scenario], ids: list[str], focus: str | None, threshold: Threshold | None) -> tuple[str, str]:
    """The demand row every option is judged on: ``--focus``, else the threshold's row."""
    text = focus or (f"{threshold.node}:{threshold.product}" if threshold else None)
    if not text:
        raise ChipsimUserError("explore needs a demand row to judge the options on: give --focus NODE[:PRODUCT] or "
                               "--threshold METRIC@NODE>=X")
    node, _, product = text.partition(":")
    rows = [demand_rows(sc) for sc in loaded]
    nodes = list(dict.fromkeys(n for n, _ in rows[0]))
    if node not in nodes:
        raise ChipsimUserError(f"'{node}' is not a demand node of the base '{ids[0]}'{did_you_mean(node, nodes)}; "
                               f"demand nodes: {', '.join(nodes)}")
    product = product or next(p for n, p in rows[0] if n == node)
    for vid, option_rows in zip(ids, rows, strict=True):
        if (node, product) not in option_rows:
            raise ChipsimUserError(f"option '{vid}' has no demand for {product} at {node}")
    return node, product


def _inputs(given: Sequence[Input | str], base_doc: dict) -> list[Input]:
    inputs = [g if isinstance(g, Input) else parse_input(g, base_doc) for g in given]
    if not given:
        inputs = scenario_inputs(base_doc)
        if not inputs:
            raise ChipsimUserError("the base scenario gives no distributions; name the uncertain inputs with --vary PATH=DIST")
    names = [i.path for i in inputs]
    if len(set(names)) != len(names):
        raise ChipsimUserError(f"--vary: each path once (repeated: {sorted({n for n in names if names.count(n) > 1})})")
    return inputs


def plan(scenarios: Sequence[Scenario | str | os.PathLike], inputs: Sequence[Input | str] = (),
         threshold: str | Threshold | None = None, focus: str | None = None, metric: str | None = None,
         replications: int | None = None, seed: int | None = None,
         search_paths: Sequence = ()) -> tuple[Job, list[Scenario], Threshold | None, str]:
    """Check an exploration before anything runs: load the scenarios, parse the inputs
    and the threshold, find the focus row and which inputs reach which option, and build
    future 0 of every option. Returns the job, the scenarios, the threshold and the metric."""
    if len(scenarios) < 2:
        raise ChipsimUserError("explore needs a base scenario and at least one option")
    loaded, ids = _load(scenarios, search_paths)
    thr = parse_threshold(threshold) if isinstance(threshold, str) else threshold
    metric = metric or (thr.metric if thr else "shortfall")
    if metric not in rankable():
        raise ChipsimUserError(f"--metric {metric}: not a metric with a better direction{did_you_mean(metric, rankable())}")
    if {sc.horizon for sc in loaded} != {loaded[0].horizon} or {sc.start_date for sc in loaded} != {loaded[0].start_date}:
        raise ChipsimUserError("the base and the options must share start_date and horizon")
    docs = [sc.to_document() for sc in loaded]
    parsed = _inputs(inputs, docs[0])
    use = tuple(tuple(applies(doc, inp) for inp in parsed) for doc in docs)
    for i, inp in enumerate(parsed):
        if not any(u[i] for u in use):
            set_value(copy.deepcopy(docs[0]), inp.path, 0.0)  # raises the message naming what is wrong
            raise ChipsimUserError(f"--vary {inp.path}: no option has a number there")
    node, product = _focus(loaded, ids, focus, thr)
    reps = loaded[0].replications if replications is None else int(replications)
    seed = loaded[0].seed if seed is None else int(seed)
    check_options(reps, seed, 1)
    horizon = loaded[0].horizon
    job = Job(tuple(ids), tuple(docs), tuple(parsed), use, reps, seed, node, product,
              (horizon // 4 - 1, horizon // 2 - 1))
    for q in (0.5, 0.001, 0.999):  # the centre and near-extremes of every input: a bad value fails before any run
        point = [float(inp.ppf(np.array([q]))[0]) for inp in parsed]
        for j in range(len(ids)):
            _scenario(job, j, point, -1)
    return job, loaded, thr, metric


def explore(scenarios: Sequence[Scenario | str | os.PathLike], inputs: Sequence[Input | str] = (),
            futures: int = 100, threshold: str | Threshold | None = None, focus: str | None = None,
            metric: str | None = None, replications: int | None = None, seed: int | None = None,
            workers: int = 1, executor: str = "processes", scheduler: str | None = None, sobol: int = 0,
            progress: bool = False, search_paths: Sequence = ()) -> Exploration:
    """Run the base (first) and every option in ``futures`` sampled futures; return an
    ``Exploration`` with the table, robustness, regret, the PRIM box where the best
    option fails, signposts, and (``sobol``: base samples, a power of two; 0 for none)
    Sobol indices of the best option's ``metric`` over the same inputs.

    ``inputs`` are ``Input`` objects or ``--vary`` texts (default: every distribution of
    the base file); ``threshold`` is ``METRIC@NODE>=X``; ``metric`` the outcome ranked
    (default: the threshold's, else shortfall); ``focus`` the demand row (default: the
    threshold's). One executor serves every run."""
    if not 1 <= futures <= MAX_FUTURES:
        raise ChipsimUserError(f"--futures must be from 1 to {MAX_FUTURES:,}, got {futures}")
    job, loaded, thr, metric = plan(scenarios, inputs, threshold, focus, metric, replications, seed, search_paths)
    check_options(job.replications, job.seed, workers, executor)
    points = values_of(job.inputs, design(job.inputs, futures, job.seed))
    started = time.perf_counter()
    with make_executor(executor, workers, scheduler) as ex:
        table = _run_points(ex, job, points, "Exploring", progress)
        rob = robustness(table, metric, thr, job.ids)
        best = str(rob["option"].iloc[0])
        sens = None
        if sobol:
            sens = sensitivity_on(ex, job, best, metric, sobol, progress)
    wall = time.perf_counter() - started
    return _gather(table, job, loaded, thr, metric, rob, sens, wall, executor, workers)


def _gather(table: pd.DataFrame, job: Job, loaded: list[Scenario], thr: Threshold | None, metric: str,
            rob: pd.DataFrame, sens: pd.DataFrame | None, wall: float, executor: str, workers: int) -> Exploration:
    best = str(rob["option"].iloc[0])
    names = [inp.name for inp in job.inputs]
    early = [c for c in table.columns if c.startswith("fill_rate_day_")]
    box, words, posts = pd.DataFrame(), "No threshold was given, so no future counts as failing.", pd.DataFrame()
    labels = {vid: sc.name for vid, sc in zip(job.ids, loaded, strict=True)}
    if thr is not None:
        mine = table[table["option"] == best].sort_values("future")
        failing = ~thr.met(mine[thr.metric])
        box = prim_box(mine[names].reset_index(drop=True), failing)
        words = box_in_words(box, f"'{labels[best]}'", lambda c, v: value_text(job.inputs, c, v)) if failing.any() else \
            f"'{labels[best]}' meets the threshold in every future explored."
        posts = signposts(table, best, names + early, thr)
    manifest = build_manifest(loaded[0], job.seed, job.replications, workers, wall)
    manifest.update({"kind": "explore", "executor": executor, "futures": int(table["future"].nunique()),
                     "options": [{"id": v, "label": labels[v]} for v in job.ids], "metric": metric,
                     "threshold": thr.text if thr else None, "focus": [job.node, job.product],
                     "inputs": [{"path": i.path, "distribution": i.dist.model_dump(), "date": i.date, "suffix": i.suffix}
                                for i in job.inputs],
                     "checkpoint_days": list(job.checkpoints),
                     "checkpoints": [(loaded[0].start_date + _dt.timedelta(days=d)).isoformat() for d in job.checkpoints]})
    return Exploration(table, list(job.inputs), list(job.ids), labels, (job.node, job.product), metric, thr, job.seed,
                       job.replications, rob, regret(table, metric), box, words, posts, sens, manifest, loaded)


def sensitivity_on(ex: Executor, job: Job, option: str, metric: str, base_samples: int,
                   progress: bool = False) -> pd.DataFrame:
    """Sobol indices of ``option``'s ``metric`` at the job's focus row over its inputs, run
    on the entered executor ``ex`` (``base_samples * (inputs + 2)`` futures)."""
    names = [inp.name for inp in job.inputs]
    unit = sobol_design(names, base_samples, job.seed)
    j = job.ids.index(option)
    one = Job((option,), (job.docs[j],), job.inputs, (job.use[j],), job.replications, job.seed, job.node, job.product, ())
    table = _run_points(ex, one, values_of(job.inputs, unit), "Sensitivity", progress)
    return sobol_table(names, table.sort_values("future")[metric].to_numpy(float), job.seed)


def sensitivity(scenario: Scenario | str | os.PathLike, inputs: Sequence[Input | str], metric: str, focus: str,
                base_samples: int = 64, replications: int | None = None, seed: int | None = None, workers: int = 1,
                executor: str = "processes", scheduler: str | None = None, progress: bool = False,
                search_paths: Sequence = ()) -> pd.DataFrame:
    """Sobol indices (S1, ST with 95% half-widths) of ``metric`` at ``focus``
    (``NODE[:PRODUCT]``) of one scenario over ``inputs`` (``--vary`` texts or ``Input``;
    empty: the scenario's own distributions): the reusable form of explore's sensitivity."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(Path(scenario), search_paths=search_paths)
    job, _, _, metric = plan([sc, sc], inputs, None, focus, metric, replications, seed)
    with make_executor(executor, workers, scheduler) as ex:
        return sensitivity_on(ex, job, job.ids[0], metric, base_samples, progress)

