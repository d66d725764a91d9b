"""Replications with common random numbers, serially or in a local process pool.

Replication ``r`` draws from ``SeedSequence(seed).spawn(...)[r]`` and its named child
streams, so its numbers do not depend on how many workers run or in which order, and a
policy variant of a scenario sees the same draws as its base.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from .engine import run_replication
from .errors import ChipsimUserError
from .loader import load_scenario
from .network import Network, build_network
from .results import Results, build_manifest
from .schema import Scenario

ProgressHook = Callable[[int], None]


def _run_chunk(scenario: Scenario, seed: int, reps: Sequence[int]) -> list[tuple[int, np.ndarray]]:
    net = build_network(scenario)
    return [(r, run_replication(net, seed, r).values) for r in reps]


def _chunks(reps: Sequence[int], workers: int) -> list[list[int]]:
    # several chunks per worker keeps the pool busy when replications differ in cost
    size = max(1, len(reps) // (workers * 4))
    return [list(reps[i:i + size]) for i in range(0, len(reps), size)]


def run_cube(net: Network, seed: int, replications: int, workers: int = 1,
             on_done: Optional[ProgressHook] = None) -> np.ndarray:
    """Daily values of every reported series, shape (replications, horizon, series)."""
    reps = list(range(replications))
    cube = np.empty((replications, net.horizon, len(net.series)))
    if workers <= 1 or replications == 1:
        for r in reps:
            cube[r] = run_replication(net, seed, r).values
            if on_done:
                on_done(1)
        return cube
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(_run_chunk, net.scenario, seed, chunk) for chunk in _chunks(reps, workers)]
        for future in as_completed(futures):
            done = future.result()
            for r, values in done:
                cube[r] = values
            if on_done:
                on_done(len(done))
    return cube


def run(scenario: Union[Scenario, str, os.PathLike], replications: Optional[int] = None,
        seed: Optional[int] = None, workers: int = 1, progress: bool = False) -> Results:
    """Run a scenario (object or path) and return its ``Results``.

    ``replications`` and ``seed`` override the scenario's own; ``workers`` > 1 uses a
    local process pool (same numbers as a serial run); ``progress`` shows a progress bar.
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
    workers = min(workers, reps)
    if (reps, seed) != (scenario.replications, scenario.seed):
        # the resolved scenario saved with the run records what was actually run
        scenario = scenario.model_copy(update={"replications": reps, "seed": seed})
    net = build_network(scenario)
    started = time.perf_counter()
    if progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        columns = (TextColumn("Simulating"), BarColumn(bar_width=30), MofNCompleteColumn(),
                   TextColumn("replications"), TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=False, console=Console(stderr=True)) as bar:
            task = bar.add_task("run", total=reps)
            cube = run_cube(net, seed, reps, workers, lambda k: bar.advance(task, k))
    else:
        cube = run_cube(net, seed, reps, workers)
    wall = time.perf_counter() - started
    manifest = build_manifest(scenario, seed, reps, workers, wall)
    return Results.from_cube(net, cube, seed, manifest)
