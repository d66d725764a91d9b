"""Replications with common random numbers, gathered into ``Results``.

Replication ``r`` draws from ``SeedSequence(seed).spawn(...)[r]`` and its named child
streams, so its numbers do not depend on how many workers run, on which machine, or in
which order, and a policy variant sees the same draws as its base.

An executor (``sim.executors``) yields ``(replication, daily values)`` as they finish; a
sink keeps them: ``keep="all"`` holds every replication (the tidy ``timeseries``);
``keep="summary"`` streams them to files on disk and keeps only per-day mean and
5/50/95% quantiles plus every replication's KPIs, so memory stays bounded for thousands
of runs: the workers reduce their chunks to outcomes (``_reduce_summary``), write the
daily values to the files themselves when they share this disk (the process pool), and
take the files' statistics at the end, with the bytes of a serial run.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from .errors import ChipsimUserError
from .executors import CHUNK_BYTES, EXECUTORS, Batch, Executor, make_executor
from .leftovers import sweep_killed
from .loader import load_scenario
from .metrics import OUTCOME_SERIES
from .network import Network, build_network
from .provenance import build_manifest, owner_tag
from .results import Results, stacked_column, tidy_timeseries
from .safefs import reason
from .schema import Scenario
from .statistics import OutcomePlan, headline_values_of
from .triggers import trigger_table

KEEP = ("all", "summary")
# Peak memory of `chipsim run` (simulate, tables, files, charts), fitted on the reference
# network (678 series x 730 days) and the 40-node bench network (361 x 1,095) at 10 to 60
# replications, one worker; the estimate is within 12% of every measured peak. keep="all"
# refitted after issue 17 (the run's variant column as codes, no SVGs): 40-node network
# at 12 and 40 replications, 554 and 1,306 MiB measured, 576 and 1,338 estimated:
_BASE_BYTES = 250 * 2**20          # interpreter, libraries, network
_ALL_BYTES_PER_ROW = 72            # keep="all": the tidy table, its copies while saved and drawn
# keep="summary" (refitted when the workers took over the outcomes and the temporary files,
# round 2 of issue 17): statistics per day and series, drawn; what grows with replications
# is bounded: the chunk of replications held (twice, while stacked), one block file read
# back with its quantile and running-total copies (three), and the outcomes (a row per
# replication, demand row and metric). Measured with one worker: 40-node network at 12 and
# 40 replications 315 and 405 MiB (estimated 349 and 403), reference at 12, 60 and 1,000
# replications 374, 434 and 534 MiB (371, 423 and 690; with two workers, which then take
# the blocks' statistics, the parent's peak is 361 MiB at 1,000):
_SUMMARY_BYTES_PER_DAY_SERIES = 200
_SUMMARY_BYTES_PER_OUTCOME = 150    # per replication and outcome (a demand's 11 metrics) in the tables
# a sweep's sample keeps every replication but is neither saved nor drawn; fitted on the
# same two networks (10 to 200 replications), within 20% of every measured peak:
_HELD_BYTES_PER_ROW = 90
MAX_REPLICATIONS = 100_000  # the scenario schema's limit, for -n and replications= too


class _CubeSink:
    """Keeps every replication in memory: (replications, horizon, series)."""

    def __init__(self, net: Network, replications: int):
        self.cube = np.empty((replications, net.horizon, len(net.series)))

    def add(self, r: int, values: np.ndarray) -> None:
        """Keep replication ``r``'s (day, series) values."""
        self.cube[r] = values

    def close(self) -> None:
        """Nothing to release: the cube is the result."""


def _kpi_view(net: Network) -> tuple[list[int], Network]:
    """The series the outcomes read (outcome series of demand nodes), and the network of
    only those series."""
    demand_nodes = {net.slots[d.slot][0] for d in net.demands}
    cols = [i for i, (slot, m) in enumerate(net.series) if m in OUTCOME_SERIES and net.slots[slot][0] in demand_nodes]
    return cols, Network(net.scenario, net.slots, net.slot_of, net.lanes, net.producers, net.demands,
                         net.order_lines, [net.series[i] for i in cols])


@dataclass
class _Reduced:
    """A chunk of replications as a summary run keeps it, made in the worker: the daily
    values (for the exact quantiles), every replication's outcomes as one array
    (``OutcomePlan.entries`` columns), its triggers and headline values."""

    reps: list[int]
    values: np.ndarray | None            # (replications, day, series); None: the worker wrote them
    outcomes: np.ndarray                 # (replications, outcome entries)
    triggers: list[tuple]
    headlines: list[pd.DataFrame] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.reps)


class _SpoolError(OSError):
    """A worker could not write its replications to the run's temporary files."""


# where a worker writes its chunk's daily values itself: (folder, blocks of series)
Spool = tuple[str, list[tuple[int, int]]]


def _runs(reps: list[int], values: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(first replication, values) of each run of consecutive replications of a chunk."""
    out: list[tuple[int, np.ndarray]] = []
    begin = 0
    for k in range(1, len(reps) + 1):
        if k == len(reps) or reps[k] != reps[k - 1] + 1:
            out.append((reps[begin], values[begin:k]))
            begin = k
    return out


def _spool(spool: Spool, reps: list[int], values: np.ndarray) -> None:
    """Write a chunk's (replication, day, series) values into the block files of
    ``spool``, where the parent's reads expect them (replication r of a block of w series
    at byte r x horizon x w x 8): one write per block and run of consecutive replications."""
    folder, blocks = spool
    horizon = values.shape[1]
    try:
        for k, (start, stop) in enumerate(blocks):
            fd = os.open(os.path.join(folder, f"block{k}.bin"), os.O_WRONLY)
            try:
                for first, run in _runs(reps, values):
                    part = np.ascontiguousarray(run[:, :, start:stop], dtype=np.float64)
                    offset, view = first * horizon * (stop - start) * 8, part.data.cast("B")
                    while view:  # a write may take less than asked
                        done = os.pwrite(fd, view, offset)
                        offset, view = offset + done, view[done:]
            finally:
                os.close(fd)
    except OSError as exc:
        raise _SpoolError(exc.errno, exc.strerror or str(exc)) from None


def _reduce_summary(net: Network, batch: Batch, spool: Spool | None = None) -> _Reduced:
    """A batch of replications reduced to what a summary run keeps (``sim.executors``
    runs this in the worker, so the parent gets numbers, not tables to build); with
    ``spool``, the worker writes the daily values to the run's temporary files itself and
    ships none."""
    batch = sorted(batch, key=lambda item: item[0])
    values = np.stack([v for _, v, _ in batch]) if batch else np.empty((0, net.horizon, len(net.series)))
    reps = [r for r, _, _ in batch]
    cols, kpi_net = _kpi_view(net)
    outcomes = OutcomePlan(kpi_net).values(values[:, :, cols])
    headlines = []
    if getattr(net.scenario, "headlines", None):  # from each replication's whole day table
        for k, r in enumerate(reps):
            frame = headline_values_of(net.scenario, tidy_timeseries(net, values[k:k + 1], [r]))
            if frame is not None:
                headlines.append(frame)
    if spool is not None:
        _spool(spool, reps, values)
    return _Reduced(reps, None if spool is not None else values, outcomes, [t for _, _, t in batch], headlines)


class _SummarySink:
    """Streams replications to disk, a file per block of series, with plain writes (no
    memory map, so resident memory stays small), a chunk of consecutive replications in
    one write per file; keeps every replication's outcomes as one array; quantiles are
    taken block by block at the end."""

    BLOCK = 16    # series per file at most: the largest read is replications x horizon x 16 values ...
    BLOCK_BYTES = 128 * 2**20  # ... or fewer series, so that no read exceeds this (10,000 replications)

    def __init__(self, net: Network, replications: int, folder: Path | None = None):
        self.net = net
        self.reps = replications
        self.n_series = len(net.series)
        self.parent = Path(folder or tempfile.gettempdir())
        self.files: list[BinaryIO] = []
        sweep_killed(self.parent, "chipsim-reps-", "reps")  # of killed runs
        try:
            self.dir = Path(tempfile.mkdtemp(prefix=f"chipsim-reps-{owner_tag()}", dir=self.parent))
        except OSError as exc:
            raise self._cannot_write(exc) from None
        width = max(1, min(self.BLOCK, self.BLOCK_BYTES // max(1, replications * net.horizon * 8)))
        self.blocks = [(start, min(start + width, self.n_series)) for start in range(0, self.n_series, width)]
        try:
            for k in range(len(self.blocks)):
                self.files.append(open(self.dir / f"block{k}.bin", "w+b"))
        except OSError as exc:
            self.close()
            raise self._cannot_write(exc) from None
        self.kpi_cols, self.kpi_net = _kpi_view(net)
        self.plan = OutcomePlan(self.kpi_net)
        self.outcomes = np.full((replications, len(self.plan.entries)), np.nan)
        self.headline_frames: list[pd.DataFrame] = []

    def add(self, r: int, values: np.ndarray) -> None:
        """Keep replication ``r``'s (day, series) values: on disk, and its outcomes."""
        self.add_reduced(_reduce_summary(self.net, [(r, values, ())]))

    def add_reduced(self, chunk: _Reduced) -> None:
        """Keep a chunk of replications (``_reduce_summary``): values on disk, outcomes."""
        if chunk.values is not None:
            try:
                for first, values in _runs(chunk.reps, chunk.values):
                    for (start, stop), handle in zip(self.blocks, self.files, strict=False):
                        part = np.ascontiguousarray(values[:, :, start:stop], dtype=np.float64)
                        handle.seek(first * self.net.horizon * (stop - start) * 8)
                        handle.write(part.data)
            except OSError as exc:
                raise self._cannot_write(exc) from None
        self.outcomes[chunk.reps] = chunk.outcomes
        self.headline_frames.extend(chunk.headlines)

    def spool(self) -> Spool:
        """Where a worker on this machine writes its chunks itself (``_spool``)."""
        return str(self.dir), list(self.blocks)

    def kpis(self) -> pd.DataFrame:
        """Every replication's outcomes, long, sorted by node, product, metric, replication."""
        return self.plan.frame(self.outcomes, np.arange(self.reps))

    def headline_values(self) -> pd.DataFrame | None:
        """Every replication's headline values (None when the scenario declares none), in
        replication order whatever order the workers finished in (as a serial run)."""
        if not self.headline_frames:
            return None
        return pd.concat(self.headline_frames, ignore_index=True).sort_values("replication", kind="stable",
                                                                              ignore_index=True)

    def summary(self, executor: Executor | None = None) -> pd.DataFrame:
        """Per day and series: mean and 5/50/95% quantiles over replications; for the
        outcome series of demand nodes also those of the running total since day 0
        (quantiles of sums cannot be rebuilt from daily quantiles). An ``executor``
        whose workers share this disk takes the blocks' statistics in its workers."""
        horizon = self.net.horizon
        stats = np.empty((4, horizon, self.n_series))
        running = np.empty((4, horizon, len(self.kpi_cols)))
        where = {col: i for i, col in enumerate(self.kpi_cols)}
        try:
            for handle in self.files:  # what is still buffered reaches the disk (or finds it full) now
                handle.flush()
        except OSError as exc:
            raise self._cannot_write(exc) from None
        jobs = [(str(self.dir / f"block{k}.bin"), self.reps, horizon, start, stop,
                 [col - start for col in range(start, stop) if col in where]) for k, (start, stop) in enumerate(self.blocks)]
        if executor is not None and executor.shares_disk and len(jobs) > 1:
            done = executor.map_chunks(_block_statistics, jobs)
        else:
            done = map(_block_statistics, jobs)
        for start, stop, mine, block_stats, block_running in done:
            stats[:, :, start:stop] = block_stats
            targets = [where[start + c] for c in mine]
            for k in range(4):
                running[k][:, targets] = block_running[k]
        daily, cumulative = summary_frame(self.net, stats), summary_frame(self.kpi_net, running, CUMULATIVE_STATS)
        del stats, running
        # end to end column by column: categories as concatenating and converting gives
        # them, the stat as codes of every statistic, without an intermediate copy
        parts = [daily, cumulative]
        out = {col: stacked_column([p[col] for p in parts]) for col in ("day", "date", "node", "product", "metric")}
        names = DAILY_STATS + CUMULATIVE_STATS
        out["stat"] = pd.Categorical.from_codes(np.concatenate([p["stat"].cat.codes.to_numpy() + names.index(
            p["stat"].cat.categories[0]) for p in parts]), categories=names)
        out["value"] = np.concatenate([p["value"].to_numpy() for p in parts])
        return pd.DataFrame(out)

    def _cannot_write(self, exc: OSError) -> ChipsimUserError:
        """A full (or unwritable) temporary folder as one line naming it and the room needed."""
        need = self.reps * self.net.horizon * self.n_series * 8
        return ChipsimUserError(
            f"cannot write the replications' temporary files in {self.parent}: {reason(exc)}; keep=summary "
            f"streams every replication there (about {need / 2**20:,.1f} MB for this run); free space or set TMPDIR "
            "to a folder on a larger disk")

    def close(self) -> None:
        """Close and delete the temporary files, even when the disk is full (a close that
        cannot write its buffer still releases the file)."""
        for handle in self.files:
            with contextlib.suppress(OSError):
                handle.close()
        if hasattr(self, "dir"):
            shutil.rmtree(self.dir, ignore_errors=True)


def _block_statistics(job: tuple[str, int, int, int, int, list[int]]) -> tuple[int, int, list[int], np.ndarray, np.ndarray]:
    """Statistics of one temporary block file of series ``start .. stop - 1``: (start,
    stop, mine, daily, running), daily of shape (4, horizon, series of the block): mean
    and 5/50/95% quantiles over replications; running the same of the running totals of
    the block's series ``mine`` (offsets in the block), shape (4, horizon, len(mine))."""
    path, reps, horizon, start, stop, mine = job
    block = np.fromfile(path, dtype=np.float64).reshape(reps, horizon, stop - start)
    daily = np.empty((4, horizon, stop - start))
    daily[0] = block.mean(axis=0)
    daily[1:] = np.quantile(block, [0.05, 0.5, 0.95], axis=0)
    running = np.empty((4, horizon, len(mine)))
    if mine:
        totals = np.cumsum(block[:, :, mine], axis=1)
        running[0] = totals.mean(axis=0)
        running[1:] = np.quantile(totals, [0.05, 0.5, 0.95], axis=0)  # (3, horizon, len(mine))
        del totals
    del block
    return start, stop, mine, daily, running


DAILY_STATS = ["mean", "p05", "p50", "p95"]
CUMULATIVE_STATS = ["cumulative_mean", "cumulative_p05", "cumulative_p50", "cumulative_p95"]


def summary_frame(net: Network, stats: np.ndarray, names: list[str] = DAILY_STATS) -> pd.DataFrame:
    """Long table of per-day statistics: ``stats`` has shape (4, horizon, series), the
    statistics named by ``names`` (mean, p05, p50 and p95 by default); the rows of each
    statistic in turn, each as ``tidy_timeseries`` orders a replication's (day, series)."""
    one = tidy_timeseries(net, stats[0][None, :, :], [0])  # the layout of one statistic
    k = len(names)
    out = {col: np.tile(one[col].to_numpy(), k) for col in ("day", "date")}
    for col in ("node", "product", "metric"):
        out[col] = pd.Categorical.from_codes(np.tile(one[col].cat.codes.to_numpy(), k), categories=one[col].cat.categories)
    out["stat"] = pd.Categorical.from_codes(np.repeat(np.arange(k, dtype=np.int8), len(one)), categories=names)
    out["value"] = np.ascontiguousarray(stats[:k]).reshape(-1)
    return pd.DataFrame(out, columns=["day", "date", "node", "product", "metric", "stat", "value"])


def estimated_bytes(net: Network, replications: int, keep: str = "all", variants: int = 1,
                    horizon: int | None = None, saved: bool = True) -> int:
    """Peak memory in bytes of a run (or of a comparison of ``variants`` scenarios of this
    size) that keeps ``keep``, from the fitted figures above; ``horizon`` (days) counts a
    longer or shorter run of the same network; ``saved=False`` is a ``keep="all"`` run
    held in memory only, neither saved nor drawn (each sample of a sweep)."""
    day_series = (net.horizon if horizon is None else horizon) * len(net.series)
    if keep == "all":
        per_variant = replications * day_series * (_ALL_BYTES_PER_ROW if saved else _HELD_BYTES_PER_ROW)
    else:
        per_variant = day_series * _SUMMARY_BYTES_PER_DAY_SERIES + _summary_growth(net, replications, day_series)
    return _BASE_BYTES + variants * per_variant


def _summary_growth(net: Network, replications: int, day_series: int) -> int:
    """Bytes of a summary run that grow with its replications (see the fitted figures):
    the chunk held twice, a block file read back three times, the outcomes."""
    rep_bytes = day_series * 8
    chunk = max(1, min(replications // 4, CHUNK_BYTES // max(1, rep_bytes))) * rep_bytes
    series_bytes = replications * (day_series // max(1, len(net.series))) * 8  # one series, every replication
    width = max(1, min(_SummarySink.BLOCK, _SummarySink.BLOCK_BYTES // max(1, series_bytes), len(net.series)))
    outcomes = replications * len(net.demands) * 11 * _SUMMARY_BYTES_PER_OUTCOME
    return 2 * chunk + 3 * series_bytes * width + outcomes


def _with_progress(batches: Iterator[Any], total: int) -> Iterator[Any]:
    """The same batches, advancing a progress bar on stderr as they arrive."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("Simulating"), BarColumn(bar_width=30), MofNCompleteColumn(),
               TextColumn("replications"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False, console=Console(stderr=True)) as bar:
        task = bar.add_task("run", total=total)
        for batch in batches:
            yield batch
            bar.advance(task, len(batch))


def check_options(replications: int, seed: int, workers: int, executor: str | Executor = "processes",
                  keep: str = "all") -> None:
    """Refuse, as a user error, options no run can use."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise ChipsimUserError(f"replications must be from 1 to {MAX_REPLICATIONS:,} (as in a scenario file), "
                               f"got {replications:,}")
    if seed < 0:
        raise ChipsimUserError(f"seed must be >= 0, got {seed}")
    if workers < 1:
        raise ChipsimUserError(f"workers must be at least 1, got {workers}")
    if isinstance(executor, str) and executor not in EXECUTORS:
        raise ChipsimUserError(f"unknown executor '{executor}'; use one of: {', '.join(EXECUTORS)}")
    if keep not in KEEP:
        raise ChipsimUserError(f"unknown keep mode '{keep}'; use one of: {', '.join(KEEP)}")


def _resolve(scenario: Scenario | str | os.PathLike, replications: int | None, seed: int | None,
             workers: int, executor: str | Executor, keep: str) -> tuple[Scenario, int, int]:
    """The scenario to run (with the replications and seed actually used), after checking
    every option."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(Path(scenario))
    reps = scenario.replications if replications is None else int(replications)
    seed = scenario.seed if seed is None else int(seed)
    check_options(reps, seed, workers, executor, keep)
    if (reps, seed) != (scenario.replications, scenario.seed):
        # the resolved scenario saved with the run records what was actually run
        scenario = scenario.model_copy(update={"replications": reps, "seed": seed})
    return scenario, reps, seed


def run(scenario: Scenario | str | os.PathLike, replications: int | None = None,
        seed: int | None = None, workers: int = 1, progress: bool = False,
        executor: str | Executor = "processes", scheduler: str | None = None, keep: str = "all") -> Results:
    """Run a scenario (object or path) and return its ``Results``.

    ``replications`` and ``seed`` override the scenario's own; ``workers`` > 1 runs
    replications in a local process pool, or on ``executor="dask"`` (a Dask
    ``scheduler`` address, or a LocalCluster of ``workers`` processes); results are
    identical to a serial run. ``executor`` may also be an entered ``sim.executors``
    executor, reused across runs (it is left open). ``keep="summary"`` keeps per-day
    quantiles and the KPIs only (see ``Results.keep``). ``progress`` shows a progress bar.
    """
    scenario, reps, seed = _resolve(scenario, replications, seed, workers, executor, keep)
    workers = min(workers, reps)
    if isinstance(executor, str):
        with make_executor(executor, workers, scheduler) as own:
            return _run_on(own, scenario, reps, seed, workers, progress, keep)
    return _run_on(executor, scenario, reps, seed, workers, progress, keep)


def _run_on(executor: Executor, scenario: Scenario, reps: int, seed: int, workers: int, progress: bool,
            keep: str) -> Results:
    net = build_network(scenario)
    sink = _CubeSink(net, reps) if keep == "all" else _SummarySink(net, reps)
    started = time.perf_counter()
    fired: dict[int, tuple] = {}  # replication -> its triggers (policy, fired day, start day)
    try:
        _drain(executor, net, seed, reps, sink, fired, progress)
        wall = time.perf_counter() - started
        manifest = build_manifest(scenario, seed, reps, workers, wall)
        manifest.update({"executor": executor.name, "keep": keep})
        if isinstance(sink, _CubeSink):
            results = Results.from_cube(net, sink.cube, seed, manifest)
        else:
            results = Results.from_summary(net, sink.summary(executor), sink.kpis(), seed, reps, manifest,
                                           sink.headline_values())
        results.triggers = trigger_table(scenario, fired)
        return results
    finally:
        sink.close()


def _drain(executor: Executor, net: Network, seed: int, reps: int, sink: _CubeSink | _SummarySink,
           fired: dict[int, tuple], progress: bool) -> None:
    """Run every replication on ``executor`` into ``sink``, their triggers into ``fired``.
    For a summary run the workers reduce their chunks (outcomes computed there) and, on
    this machine, write the daily values to the sink's temporary files themselves."""
    if isinstance(sink, _CubeSink):
        batches = executor.batches(net, seed, reps)
        for batch in _with_progress(batches, reps) if progress else batches:
            for r, values, triggers in batch:
                sink.add(r, values)
                fired[r] = triggers
        return
    reduce = partial(_reduce_summary, spool=sink.spool()) if executor.shares_disk else _reduce_summary
    chunks = executor.batches(net, seed, reps, reduce)
    try:
        for chunk in _with_progress(chunks, reps) if progress else chunks:
            sink.add_reduced(chunk)
            fired.update(zip(chunk.reps, chunk.triggers, strict=True))
    except _SpoolError as exc:
        raise sink._cannot_write(exc) from None
