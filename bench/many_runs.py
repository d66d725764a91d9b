"""Parts 5 and 6 of the bench: parallel efficiency and memory of many replications.

Parallel efficiency = T(1 worker) / (2 x T(2 workers)) in wall-clock time for 100
replications of the core network. Memory = the peak resident set of `chipsim run` with
1,000 replications of the reference scenario in --keep summary mode: the largest
resident set of a single process, sampled (``peak.measure``), with the sum over the
command and its workers beside it.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import sim
from sim.executors import make_executor
from sim.network import build_network

ROOT = Path(__file__).resolve().parents[1]
TARGET_EFFICIENCY = 0.85
TARGET_MEMORY_GB = 2.0


def parallel(targets, scenario: Path, replications: int = 100) -> None:
    print(f"\n5. Parallel efficiency: {replications} replications of {scenario.name}, wall clock")
    net = build_network(sim.load_scenario(scenario))
    times = {}
    for workers in (1, 2):
        started = time.perf_counter()  # pool start-up counts, as it did when each run made its own pool
        with make_executor("processes", workers) as executor:
            done = sum(len(batch) for batch in executor.batches(net, 1, replications))
        times[workers] = time.perf_counter() - started
        print(f"   {workers} worker(s): {times[workers]:7.2f} s for {done} replications")
    efficiency = times[1] / (2 * times[2])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    verdict = targets.add("parallel efficiency on 2 cores, 100 replications", f"{efficiency:.1%}",
                          f">= {TARGET_EFFICIENCY:.0%}", efficiency >= TARGET_EFFICIENCY)
    print(f"   efficiency T1 / (2 T2): {efficiency:.1%}   target >= {TARGET_EFFICIENCY:.0%}  {verdict}"
          f"   (load average {load:.2f}; other load on the machine lowers it)")


def memory(targets, scenario: Path, replications: int = 1000) -> None:
    print(f"\n6. Memory: chipsim run {scenario.relative_to(ROOT)} -n {replications} --workers 2 --keep summary")
    import peak

    with tempfile.TemporaryDirectory() as tmp:
        done = peak.measure([sys.executable, "-m", "sim", "run", str(scenario), "-n", str(replications),
                             "--workers", "2", "--keep", "summary", "--out", str(Path(tmp) / "run"), "-q"])
    wall = done.wall_s
    if done.returncode != 0:
        print(f"   run failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        return
    peak_gb = done.largest_bytes / 2**30
    verdict = targets.add(f"peak memory, {replications} replications (summary)", f"{peak_gb:.2f} GB",
                          f"< {TARGET_MEMORY_GB:g} GB", peak_gb < TARGET_MEMORY_GB)
    print(f"   peak resident memory of the largest process: {peak_gb:.2f} GB   target < {TARGET_MEMORY_GB:g} GB  {verdict}")
    print(f"   summed over the command and its workers: {done.summed_bytes / 2**30:.2f} GB")
    print(f"   wall time {wall:.0f} s")
