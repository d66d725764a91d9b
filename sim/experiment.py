"""Replications with common random numbers, on one core, a process pool, or Dask.

Replication ``r`` draws from ``SeedSequence(seed).spawn(...)[r]`` and its named child
streams, so its numbers do not depend on how many workers run, on which machine, or in
which order, and a policy variant sees the same draws as its base.

Executors yield ``(replication, daily values)`` as they finish; a sink keeps them:
``keep="all"`` holds every replication (the tidy ``timeseries``); ``keep="summary"``
streams them to a memory map on disk and keeps only per-day mean and 5/50/95%
quantiles plus every replication's KPIs, so memory stays bounded for thousands of runs.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
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
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(_run_chunk, net.scenario, seed, chunk) for chunk in _chunks(reps, workers)]
        for future in as_completed(futures):
            yield future.result()


def _dask_batches(scenario: Scenario, seed: int, reps: list[int], workers: int, scheduler: Optional[str]):
    try:
        from distributed import Client, LocalCluster, as_completed as dask_completed
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
        futures = [client.submit(_run_chunk, remote, seed, chunk, pure=False) for chunk in _chunks(reps, n_workers)]
        for future in dask_completed(futures):
            yield future.result()
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
    """Streams replications to a memory map on disk; reduces at the end."""

    def __init__(self, net: Network, replications: int, folder: Optional[Path] = None):
        self.net = net
        self.dir = Path(tempfile.mkdtemp(prefix="chipsim-reps-", dir=folder))
        shape = (replications, net.horizon, len(net.series))
        # float64 on disk so KPIs match a keep-all run exactly; memory use stays small
        self.map = np.lib.format.open_memmap(self.dir / "cube.npy", mode="w+", dtype=np.float64, shape=shape)

    def add(self, r: int, values: np.ndarray) -> None:
        self.map[r] = values

    def close(self) -> None:
        del self.map
        shutil.rmtree(self.dir, ignore_errors=True)


def summary_table(net: Network, cube: np.ndarray, block: int = 32) -> pd.DataFrame:
    """Per day and series: mean and 5/50/95% quantiles over replications, long (stat column)."""
    horizon, n_series = cube.shape[1], cube.shape[2]
    stats = np.empty((4, horizon, n_series))
    for start in range(0, n_series, block):
        chunk = np.asarray(cube[:, :, start:start + block], dtype=np.float64)
        stats[0, :, start:start + block] = chunk.mean(axis=0)
        stats[1:, :, start:start + block] = np.quantile(chunk, [0.05, 0.5, 0.95], axis=0)
    frames = []
    for k, stat in enumerate(("mean", "p05", "p50", "p95")):
        frame = tidy_timeseries(net, stats[k][None, :, :], [0]).drop(columns="replication")
        frames.append(frame.assign(stat=stat))
    out = pd.concat(frames, ignore_index=True)
    out["stat"] = pd.Categorical(out["stat"], categories=["mean", "p05", "p50", "p95"])
    for col in ("node", "product", "metric"):
        out[col] = out[col].astype("category")
    return out[["day", "date", "node", "product", "metric", "stat", "value"]]


def replication_kpis(net: Network, cube: np.ndarray, chunk: int = 50) -> pd.DataFrame:
    """Per-replication outcomes (as ``sim.compare.outcomes``), read a chunk of replications at a time."""
    from .compare import outcomes

    wanted = {"demand", "delivered", "shortfall", "compute_demand", "compute_delivered", "compute_shortfall",
              "cost", "energy_mwh"}
    demand_nodes = {net.slots[d.slot][0] for d in net.demands}
    cols = [i for i, (s, m) in enumerate(net.series) if m in wanted and net.slots[s][0] in demand_nodes]
    sub_net = Network(net.scenario, net.slots, net.slot_of, net.lanes, net.producers, net.demands,
                      net.order_lines, [net.series[i] for i in cols])
    frames = []
    for start in range(0, cube.shape[0], chunk):
        part = np.asarray(cube[start:start + chunk][:, :, cols], dtype=np.float64)
        ts = tidy_timeseries(sub_net, part, range(start, start + part.shape[0]))
        frames.append(outcomes(ts, net.scenario))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
        return Results.from_summary(net, summary_table(net, sink.map), replication_kpis(net, sink.map), seed, reps, manifest)
    finally:
        if isinstance(sink, _SummarySink):
            sink.close()
