"""Small helpers shared by the benchmark parts (standard library only)."""
from __future__ import annotations

import time
from typing import Any, Callable

CLOCKS = {
    # CPU time of this process: what a run costs, nearly independent of other work on the
    # machine (the default; benchmarks here are single-threaded)
    "cpu": time.process_time,
    # wall-clock time: what a user waits for; inflated when other processes compete
    "wall": time.perf_counter,
}
clock_name = "cpu"
clock = CLOCKS[clock_name]


def set_clock(name: str) -> None:
    global clock, clock_name
    clock, clock_name = CLOCKS[name], name


def now() -> float:
    return clock()


def best_of(fn: Callable[[], Any], budget: float = 1.5, max_runs: int = 5) -> tuple[float, int, Any]:
    """(best wall time in s, runs, first result) of ``fn()``.

    Runs once, then again while the time spent plus one more run (at the best time so
    far) stays within ``budget`` seconds, up to ``max_runs``. A case that takes longer
    than the budget therefore runs exactly once.
    """
    best, spent, runs, first = float("inf"), 0.0, 0, None
    while runs < max_runs:
        started = clock()
        out = fn()
        took = clock() - started
        if runs == 0:
            first = out
        runs += 1
        best, spent = min(best, took), spent + took
        if spent + best > budget:
            break
    return best, runs, first


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


class Targets:
    """Collects (figure, value, target, PASS/FAIL) for the summary at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, figure: str, value: str, target: str, ok: bool) -> str:
        self.rows.append((figure, value, target, verdict(ok)))
        return verdict(ok)
