"""chipsim speed on this machine, in one run: the goals of issue 17 (by default), core
figures, scaling, SupplyNetPy, profile, parallel efficiency and memory of many
replications (parts 5 and 6: bench/many_runs.py).

    python bench/run_bench.py                                  # the goals of issue 17, 10,000 replications run (8 to 12 minutes)
    python bench/run_bench.py --quick                          # ... scaling 1,000 replications to 10,000 instead
    python bench/run_bench.py --parts all                      # every part
    python bench/run_bench.py --parts core,scaling             # choose parts
    python bench/run_bench.py --parts supplynetpy --no-install # skip if SupplyNetPy is missing

Parts (every figure is printed with its target):

0. goals: every goal of issue 17 with its target, measured value and verdict, closed by
   one table (bench/goals.py): engine speed against the figures before round 2 and
   against bare SimPy, 10,000 reference replications end to end (measured; 1,000
   scaled with --quick), peak memory of the 1,000-replication run and of the README's
   comparison at 50 replications, writing against simulating for the README's commands,
   the exponent of cost in nodes x days up to 5,000 nodes, and start-up times.

1. core: bare SimPy timeouts per second (100 processes each yielding timeout(1)),
   chipsim node-days per second on the bundled 40-node, 3-year network (engine only:
   one replication's simulation; end to end: sim.run with tidy tables and KPIs), and
   the engine / bare SimPy ratio against the target of 20%.
2. scaling: synthetic trees and chains of 10, 100 and 1,000 nodes over 1, 3 and 10
   years (bench/scaling.py); exponents of run time in nodes and in days (target ~1.0).
3. supplynetpy: the same 50-node tree and 3-node chain in SupplyNetPy and chipsim
   (bench/supplynetpy_bench.py); speed-ups against targets of 10x and 3x. SupplyNetPy
   runs in a throwaway virtualenv that this part creates on first use (bench/.venv-supplynetpy).
4. profile: where the engine spends its time on the 40-node network (bench/profile_engine.py).

See docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import simpy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _timing  # noqa: E402
import profile_engine  # noqa: E402
from _timing import Targets  # noqa: E402

import sim  # noqa: E402
from sim.engine import run_replication  # noqa: E402
from sim.network import build_network  # noqa: E402

TARGET_RATIO = 0.20
PARTS = ("goals", "core", "scaling", "supplynetpy", "profile", "parallel", "memory")


def bare_simpy_timeouts_per_s(processes: int = 100, days: int = 10_000, repeats: int = 3) -> float:
    """Best-of-``repeats`` rate of plain SimPy timeouts (events/s)."""

    def ticker(env):
        while True:
            yield env.timeout(1)

    best = float("inf")
    for _ in range(repeats):
        env = simpy.Environment()
        for _ in range(processes):
            env.process(ticker(env))
        started = _timing.now()
        env.run(until=days)
        best = min(best, _timing.now() - started)
    return processes * days / best


def chipsim_node_days_per_s(path: Path, repeats: int) -> tuple[float, float, int]:
    """(engine-only, end-to-end) node-days/s, and the node count."""
    scenario = sim.load_scenario(path)
    net = build_network(scenario)
    node_days = len(scenario.nodes) * scenario.horizon
    run_replication(net, scenario.seed, 0)  # warm caches and imports
    best = float("inf")
    for r in range(repeats):
        started = _timing.now()
        run_replication(net, scenario.seed, r)
        best = min(best, _timing.now() - started)
    started = _timing.now()
    sim.run(scenario, replications=repeats)
    end_to_end = node_days * repeats / (_timing.now() - started)
    return node_days / best, end_to_end, len(scenario.nodes)


def core(targets: Targets, scenario: Path, repeats: int) -> dict:
    print(f"\n1. Core: bare SimPy against chipsim on {scenario.name} (best of {repeats})")
    bare = bare_simpy_timeouts_per_s()
    engine, e2e, nodes = chipsim_node_days_per_s(scenario, repeats)
    ratio = engine / bare
    verdict = targets.add("engine / bare SimPy", f"{ratio:.1%}", f">= {TARGET_RATIO:.0%}", ratio >= TARGET_RATIO)
    print(f"   bare SimPy timeouts/s                : {bare:12,.0f}")
    print(f"   chipsim node-days/s, engine only     : {engine:12,.0f}   ({nodes} nodes, {scenario.name})")
    print(f"   chipsim node-days/s, end to end      : {e2e:12,.0f}   (sim.run, tables and KPIs included)")
    print(f"   ratio engine / bare SimPy            : {ratio:12.1%}   target >= {TARGET_RATIO:.0%}  {verdict}")
    print(f"   ratio end to end / bare SimPy        : {e2e / bare:12.1%}   (no target)")
    return {"bare": bare, "engine": engine, "e2e": e2e}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--parts", default="goals", help=f"comma-separated: {','.join(PARTS)}, or all (default: goals)")
    parser.add_argument("--quick", action="store_true",
                        help="goals: scale the 1,000-replication run's wall time to 10,000 instead of running them")
    parser.add_argument("--full", action="store_true", help="goals: run the 10,000 replications (the default; kept for "
                                                            "old command lines)")
    parser.add_argument("--clock", choices=tuple(_timing.CLOCKS), default="cpu",
                        help="cpu: CPU time of the process (default; robust to other load); wall: wall-clock time")
    parser.add_argument("--scenario", type=Path, default=HERE / "scenarios" / "forty_nodes.yaml",
                        help="network of the core and profile parts")
    parser.add_argument("--repeats", type=int, default=5, help="core: repeats")
    parser.add_argument("--sizes", default="10,100,1000", help="scaling: node counts")
    parser.add_argument("--years", default="1,3,10", help="scaling: horizons in years")
    parser.add_argument("--budget", type=float, default=3.0,
                        help="scaling: seconds per case for repeats (best of up to 5; one run if slower)")
    parser.add_argument("--snp-python", help="supplynetpy: interpreter that can import SupplyNetPy")
    parser.add_argument("--snp-venv", type=Path, default=HERE / ".venv-supplynetpy",
                        help="supplynetpy: throwaway virtualenv to use or create")
    parser.add_argument("--no-install", action="store_true", help="supplynetpy: never pip-install; skip if missing")
    args = parser.parse_args()
    parts = PARTS if args.parts == "all" else tuple(p.strip() for p in args.parts.split(",") if p.strip())
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")

    _timing.set_clock(args.clock)
    started = time.perf_counter()
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(f"chipsim {sim.__version__} on Python {platform.python_version()}, simpy {simpy.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs{load}")
    print(f"parts: {', '.join(parts)}; clock: {_timing.clock_name} "
          f"({'CPU time of each process' if args.clock == 'cpu' else 'wall-clock time'})")
    targets = Targets()
    goal_table = None
    if "goals" in parts:
        import goals

        goal_table = goals.Goals()
        goals.run(goal_table, bare_simpy_timeouts_per_s(), full=not args.quick)
    if "core" in parts:
        core(targets, args.scenario, args.repeats)
    if "scaling" in parts:
        import scaling

        scaling.run(targets, sizes=tuple(int(x) for x in args.sizes.split(",")),
                    years=tuple(float(x) for x in args.years.split(",")), budget=args.budget)
    if "supplynetpy" in parts:
        import supplynetpy_bench

        supplynetpy_bench.run(targets, args.snp_python, args.snp_venv, install=not args.no_install)
    if "profile" in parts:
        profile_engine.run(targets, args.scenario)
    if "parallel" in parts:
        import many_runs

        many_runs.parallel(targets, args.scenario)
    if "memory" in parts:
        import many_runs

        many_runs.memory(targets, HERE.parent / "scenarios" / "reference.yaml")

    if targets.rows:
        print("\nSummary of targets")
        width = max(len(r[0]) for r in targets.rows)
        for figure, value, target, verdict in targets.rows:
            print(f"   {figure:{width}}  {value:>8}  target {target:22} {verdict}")
    if goal_table is not None:
        goal_table.print()
    print(f"\ntotal {time.perf_counter() - started:.0f} s wall")


if __name__ == "__main__":
    main()
