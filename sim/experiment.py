"""Replications with common random numbers, on one core, a process pool, or Dask.

Replication ``r`` draws from ``SeedSequence(seed).spawn(...)[r]`` and its named child
streams, so its numbers do not depend on how many workers run, on which machine, or in
which order, and a policy variant sees the same draws as its base.

Executors yield ``(replication, daily values)`` as they finish; a sink keeps them:
``keep="all"`` holds every replication (the tidy ``timeseries``); ``keep="summary"``
streams them to files on disk and keeps only per-day mean and 5/50/95%
quantiles plus every replication's KPIs, so memory stays bounded for thousands of runs.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
import itertools
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .engine import run_replication
from .errors import ChipsimUserError
from .loader import load_scenario
from .network import Network, build_network
from .results import Results, build_manifest, tidy_timeseries
from .schema import Scenario

ProgressHook = Callable[[int], None]
EXECUTORS = ("processes", "dask")
KEEP = ("all", "summary")
_BYTES_PER_ROW = 40  # tidy long table in memory (pandas, categoricals)


def _run_chunk(scenario: Scenario, seed: int, reps: Sequence[int]) -> list[tuple[int, np.ndarray]]:
    net = build_network(scenario)
    return [(r, run_replication(net, seed, r).values) for r in reps]


def _chunks(reps: Sequence[int], workers: int) -> list[list[int]]:
    # several chunks per worker keeps the pool busy when replications differ in cost
    size = max(1, len(reps) // (workers * 4))
    return [list(reps[i:i + size]) for i in range(0, len(reps), size)]


def iter_replications(net: Network, seed: int, replications: int, workers: int = 1,
                      executor: str = "processes", scheduler: Optional[str] = None) -> Iterator[list[tuple[int, np.ndarray]]]:
    """Batches of finished replications, in completion order."""
    reps = list(range(replications))
    if executor == "dask":
        yield from _dask_batches(net.scenario, seed, reps, workers, scheduler)
        return
    if workers <= 1 or replications == 1:
        for r in reps:
            yield [(r, run_replication(net, seed, r).values)]
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_quiet_worker)
    try:
        yield from _bounded(lambda chunk: pool.submit(_run_chunk, net.scenario, seed, chunk),
                            _chunks(reps, workers), 2 * workers,
                            lambda pending: futures_wait(pending, return_when=FIRST_COMPLETED))
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM) or failed: stop the workers now, not after their chunks
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _quiet_worker() -> None:
    """Workers leave interrupts to the parent, which stops them and reports once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _bounded(submit, chunks: list, in_flight: int, wait_first) -> Iterator:
    """Results of ``submit(chunk)`` as they finish, with at most ``in_flight`` chunks
    submitted and unread, so finished replications are not all held in memory at once."""
    todo = iter(chunks)
    pending = set()
    for chunk in itertools.islice(todo, in_flight):
        pending.add(submit(chunk))
    while pending:
        done, pending = wait_first(pending)
        for future in done:
            result = future.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.add(submit(nxt))
            yield result
        del done


def _dask_batches(scenario: Scenario, seed: int, reps: list[int], workers: int, scheduler: Optional[str]):
    try:
        from distributed import Client, LocalCluster
        from distributed import wait as distributed_wait
    except ImportError:
        raise ChipsimUserError("the dask executor needs dask.distributed: pip install 'chipsim[dask]'") from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="20s")
        else:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            client = Client(cluster)
    except OSError as exc:
        raise ChipsimUserError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
        remote = client.scatter(scenario, broadcast=True)

        def wait_dask(pending):
            result = distributed_wait(list(pending), return_when="FIRST_COMPLETED")
            return set(result.done), set(result.not_done)

        yield from _bounded(lambda chunk: client.submit(_run_chunk, remote, seed, chunk, pure=False),
                            _chunks(reps, n_workers), 2 * n_workers, wait_dask)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _CubeSink:
    """Keeps every replication in memory: (replications, horizon, series)."""

    def __init__(self, net: Network, replications: int):
        self.cube = np.empty((replications, net.horizon, len(net.series)))

    def add(self, r: int, values: np.ndarray) -> None:
        self.cube[r] = values


class _SummarySink:
    """Streams replications to disk, a file per block of series, with plain writes (no
    memory map, so resident memory stays small); per-replication KPIs are computed from
    small buffered chunks as replications arrive; quantiles are taken block by block."""

    BLOCK = 16    # series per file: the largest read is replications x horizon x 16 values
    CHUNK = 50    # replications buffered before their KPIs are computed

    def __init__(self, net: Network, replications: int, folder: Optional[Path] = None):
        self.net = net
        self.reps = replications
        self.dir = Path(tempfile.mkdtemp(prefix="chipsim-reps-", dir=folder))
        self.n_series = len(net.series)
        self.blocks = [(start, min(start + self.BLOCK, self.n_series)) for start in range(0, self.n_series, self.BLOCK)]
        self.files = [open(self.dir / f"block{k}.bin", "w+b") for k in range(len(self.blocks))]
        wanted = {"demand", "delivered", "shortfall", "compute_demand", "compute_delivered", "compute_shortfall",
                  "cost", "energy_mwh"}
        demand_nodes = {net.slots[d.slot][0] for d in net.demands}
        self.kpi_cols = [i for i, (slot, m) in enumerate(net.series) if m in wanted and net.slots[slot][0] in demand_nodes]
        self.kpi_net = Network(net.scenario, net.slots, net.slot_of, net.lanes, net.producers, net.demands,
                               net.order_lines, [net.series[i] for i in self.kpi_cols])
        self.buffer: list[tuple[int, np.ndarray]] = []
        self.kpi_frames: list[pd.DataFrame] = []

    def add(self, r: int, values: np.ndarray) -> None:
        horizon = values.shape[0]
        for (start, stop), handle in zip(self.blocks, self.files):
            part = np.ascontiguousarray(values[:, start:stop], dtype=np.float64)
            handle.seek(r * horizon * (stop - start) * 8)
            handle.write(part.tobytes())
        self.buffer.append((r, values[:, self.kpi_cols].copy()))
        if len(self.buffer) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        from .compare import outcomes

        if not self.buffer:
            return
        reps = [r for r, _ in self.buffer]
        cube = np.stack([v for _, v in self.buffer])
        self.kpi_frames.append(outcomes(tidy_timeseries(self.kpi_net, cube, reps), self.net.scenario))
        self.buffer = []

    def kpis(self) -> pd.DataFrame:
        self._flush()
        if not self.kpi_frames:
            return pd.DataFrame()
        return pd.concat(self.kpi_frames, ignore_index=True).sort_values(["node", "product", "metric", "replication"],
                                                                          ignore_index=True)

    def summary(self) -> pd.DataFrame:
        horizon = self.net.horizon
        stats = np.empty((4, horizon, self.n_series))
        for (start, stop), handle in zip(self.blocks, self.files):
            handle.flush()
            handle.seek(0)
            block = np.fromfile(handle, dtype=np.float64).reshape(self.reps, horizon, stop - start)
            stats[0, :, start:stop] = block.mean(axis=0)
            stats[1:, :, start:stop] = np.quantile(block, [0.05, 0.5, 0.95], axis=0)
            del block
        return summary_frame(self.net, stats)

    def close(self) -> None:
        for handle in self.files:
            handle.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def summary_frame(net: Network, stats: np.ndarray) -> pd.DataFrame:
    """Long table of per-day statistics: stats has shape (4, horizon, series) for mean,
    p05, p50 and p95."""
    frames = []
    for k, stat in enumerate(("mean", "p05", "p50", "p95")):
        frame = tidy_timeseries(net, stats[k][None, :, :], [0]).drop(columns="replication")
        frames.append(frame.assign(stat=stat))
    out = pd.concat(frames, ignore_index=True)
    out["stat"] = pd.Categorical(out["stat"], categories=["mean", "p05", "p50", "p95"])
    for col in ("node", "product", "metric"):
        out[col] = out[col].astype("category")
    return out[["day", "date", "node", "product", "metric", "stat", "value"]]


def estimated_bytes(net: Network, replications: int) -> int:
    """Memory a keep-all run needs for its tidy table, roughly."""
    return replications * net.horizon * len(net.series) * _BYTES_PER_ROW


def run(scenario: Union[Scenario, str, os.PathLike], replications: Optional[int] = None,
        seed: Optional[int] = None, workers: int = 1, progress: bool = False, executor: str = "processes",
        scheduler: Optional[str] = None, keep: str = "all") -> Results:
    """Run a scenario (object or path) and return its ``Results``.

    ``replications`` and ``seed`` override the scenario's own; ``workers`` > 1 runs
    replications in a local process pool, or on ``executor="dask"`` (a Dask
    ``scheduler`` address, or a LocalCluster of ``workers`` processes); results are
    identical to a serial run. ``keep="summary"`` keeps per-day quantiles and the KPIs
    only (see ``Results.keep``). ``progress`` shows a progress bar.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(Path(scenario))
    reps = scenario.replications if replications is None else int(replications)
    seed = scenario.seed if seed is None else int(seed)
    if reps < 1:
        raise ChipsimUserError(f"replications must be at least 1, got {reps}")
    if seed < 0:
        raise ChipsimUserError(f"seed must be >= 0, got {seed}")
    if workers < 1:
        raise ChipsimUserError(f"workers must be at least 1, got {workers}")
    if executor not in EXECUTORS:
        raise ChipsimUserError(f"unknown executor '{executor}'; use one of: {', '.join(EXECUTORS)}")
    if keep not in KEEP:
        raise ChipsimUserError(f"unknown keep mode '{keep}'; use one of: {', '.join(KEEP)}")
    workers = min(workers, reps)
    if (reps, seed) != (scenario.replications, scenario.seed):
        # the resolved scenario saved with the run records what was actually run
        scenario = scenario.model_copy(update={"replications": reps, "seed": seed})
    net = build_network(scenario)
    sink = _CubeSink(net, reps) if keep == "all" else _SummarySink(net, reps)
    started = time.perf_counter()
    try:
        batches = iter_replications(net, seed, reps, workers, executor, scheduler)
        if progress:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            columns = (TextColumn("Simulating"), BarColumn(bar_width=30), MofNCompleteColumn(),
                       TextColumn("replications"), TimeElapsedColumn(), TimeRemainingColumn())
            with Progress(*columns, transient=False, console=Console(stderr=True)) as bar:
                task = bar.add_task("run", total=reps)
                for batch in batches:
                    for r, values in batch:
                        sink.add(r, values)
                    bar.advance(task, len(batch))
        else:
            for batch in batches:
                for r, values in batch:
                    sink.add(r, values)
        wall = time.perf_counter() - started
        manifest = build_manifest(scenario, seed, reps, workers, wall)
        manifest.update({"executor": executor if workers > 1 or executor == "dask" else "serial", "keep": keep})
        if keep == "all":
            return Results.from_cube(net, sink.cube, seed, manifest)
        return Results.from_summary(net, sink.summary(), sink.kpis(), seed, reps, manifest)
    finally:
        if isinstance(sink, _SummarySink):
            sink.close()
