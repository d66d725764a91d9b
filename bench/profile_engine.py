"""Part 4 of run_bench.py: where the chipsim engine spends its time; and the engine kernel's speed.

``run_replication`` on a scenario (default: the 40-node network) under pyinstrument, in
two views: the functions with the most time of their own ("self time"), and the time
spent inside each phase of the day (``Allocation.allocate``, ``Ordering.place``, ...:
the phase methods that ``World._days`` calls, one per step of the contract's day order),
including what they call (``Lane.next_lead`` counts in the phase that ships).
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _timing import Targets  # noqa: E402

# step of the day -> the phase method that performs it (sim/engine/*.py)
PHASES = {
    "set_capacity": "1. capacities of the day",
    "act": "1. daily shock and policy actions",
    "arrive": "2. arrivals",
    "install_and_repair": "3a. equipment: install, repair, gate",
    "produce": "3b. production",
    "wear": "3c. tool attrition",
    "serve": "4. demand",
    "decide_due": "5a. licence decisions",
    "place": "5b. orders",
    "allocate": "5c. allocation at suppliers",
    "remember": "5d. warehouse history",
    "record": "record the day",
}


def top_self_time(session_root, limit: int = 5):
    """[(self seconds, function, file:line)] of a pyinstrument frame tree, and its total seconds."""
    from pyinstrument.frame import SELF_TIME_FRAME_IDENTIFIER

    totals: collections.Counter = collections.Counter()
    stack = [session_root]
    while stack:
        frame = stack.pop()
        children = list(frame.children)
        own = frame.time - sum(c.time for c in children if c.identifier != SELF_TIME_FRAME_IDENTIFIER)
        if frame.identifier != SELF_TIME_FRAME_IDENTIFIER and not frame.is_synthetic:
            where = f"{frame.file_path_short}:{frame.line_no}"
            totals[(frame.function, where)] += own
        stack.extend(c for c in children if c.identifier != SELF_TIME_FRAME_IDENTIFIER)
    return [(t, fn, where) for (fn, where), t in totals.most_common(limit)], session_root.time


def phase_time(session_root) -> collections.Counter:
    """Seconds inside each phase method of sim/engine (with its callees), by step label."""
    totals: collections.Counter = collections.Counter()
    stack = [session_root]
    while stack:
        frame = stack.pop()
        label = PHASES.get(frame.function)
        if label is not None and "engine" in (frame.file_path or ""):
            totals[label] += frame.time
            continue  # a phase's callees are its own time
        stack.extend(frame.children)
    return totals


def run(targets: Targets, scenario_path: Path, replications: int = 10) -> dict:
    """Profile ``replications`` replications of the scenario and print both views."""
    import sim
    from sim.engine import run_replication
    from sim.network import build_network

    print(f"\n4. Profile: run_replication on {scenario_path.name}, {replications} replications (no targets; "
          f"informational)")
    scenario = sim.load_scenario(scenario_path)
    net = build_network(scenario)
    run_replication(net, scenario.seed, 0, "reference")
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("   pyinstrument is not installed (pip install pyinstrument): profile skipped")
        return {}
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for r in range(replications):
        run_replication(net, scenario.seed, r, "reference")  # the readable engine: one method per phase
    profiler.stop()
    root = profiler.last_session.root_frame()
    top, total = top_self_time(root, 5)
    print(f"   pyinstrument, top 5 functions by own time (of {total:.2f} s):")
    for i, (t, fn, where) in enumerate(top, 1):
        print(f"   {i}. {t / total:6.1%}  {fn:28} {where}")
    steps = phase_time(root)
    print("   time inside each phase of the day (share of run_replication time; the rest is set-up, output, SimPy):")
    for label, t in sorted(steps.items()):
        print(f"      {t / total:6.1%}  {label}")
    return {"top": top, "steps": {k: v / total for k, v in steps.items()}}


def engine_speeds(paths, repeats: int = 5, bare: float | None = None) -> list[dict]:
    """Node-days/s of the readable engine and of the kernel on each scenario, measured
    side by side (replications alternate between the two; best of ``repeats`` each), and
    their ratio to ``bare`` SimPy timeouts/s if given. A node-day is one node for one day."""
    import _timing

    import sim
    from sim.engine import run_replication
    from sim.network import build_network

    rows = []
    for path in paths:
        scenario = sim.load_scenario(path)
        net = build_network(scenario)
        node_days = len(scenario.nodes) * scenario.horizon
        best = {"reference": float("inf"), "kernel": float("inf")}
        for engine in best:  # warm caches, imports and the kernel's compiled code
            run_replication(net, scenario.seed, 0, engine)
        for r in range(repeats):
            for engine in best:
                started = _timing.now()
                run_replication(net, scenario.seed, r, engine)
                best[engine] = min(best[engine], _timing.now() - started)
        row = {"scenario": Path(path).name, "nodes": len(scenario.nodes), "days": scenario.horizon,
               "reference": node_days / best["reference"], "kernel": node_days / best["kernel"]}
        row["speedup"] = row["kernel"] / row["reference"]
        if bare:
            row["reference_vs_bare"] = row["reference"] / bare
            row["kernel_vs_bare"] = row["kernel"] / bare
        rows.append(row)
    return rows


def kernel_compile_seconds() -> tuple[float, float]:
    """(s to import the kernel module, s for the first kernel replication of a tiny network):
    what the kernel adds to a command's start, with its compiled code cached on disk."""
    import time

    started = time.perf_counter()
    from sim.engine import (
        kernel,  # noqa: F401
        run_replication,
    )
    from sim.network import build_network
    from sim.schema import Scenario
    imported = time.perf_counter() - started
    doc = {"name": "tiny", "horizon": 5, "products": {"p": {}},
           "nodes": {"a": {"produces": "p", "capacity": 5},
                     "b": {"demand": {"product": "p", "rate": 4}, "reorder": {"days_of_cover": 5}}},
           "lanes": [{"from": "a", "to": "b", "product": "p", "lead_time": 2}]}
    net = build_network(Scenario.model_validate(doc))
    started = time.perf_counter()
    run_replication(net, 1, 0, "kernel")
    return imported, time.perf_counter() - started
