"""chipsim speed against bare SimPy on this machine, in one run.

    python bench/run_bench.py [--scenario bench/scenarios/forty_nodes.yaml] [--repeats 5]

Prints bare SimPy timeouts per second (100 processes each yielding timeout(1)),
chipsim node-days per second on the bundled 40-node, 3-year network (engine only: one
replication's simulation; end to end: sim.run with tidy tables and KPIs), and their
ratios against the target of 20%.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import simpy

import sim
from sim.engine import run_replication
from sim.network import build_network

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 0.20


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
        started = time.perf_counter()
        env.run(until=days)
        best = min(best, time.perf_counter() - started)
    return processes * days / best


def chipsim_node_days_per_s(path: Path, repeats: int) -> tuple[float, float, int]:
    """(engine-only, end-to-end) node-days/s, and the node count."""
    scenario = sim.load_scenario(path)
    net = build_network(scenario)
    node_days = len(scenario.nodes) * scenario.horizon
    run_replication(net, scenario.seed, 0)  # warm caches and imports
    best = float("inf")
    for r in range(repeats):
        started = time.perf_counter()
        run_replication(net, scenario.seed, r)
        best = min(best, time.perf_counter() - started)
    started = time.perf_counter()
    sim.run(scenario, replications=repeats)
    end_to_end = node_days * repeats / (time.perf_counter() - started)
    return node_days / best, end_to_end, len(scenario.nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=HERE / "scenarios" / "forty_nodes.yaml")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(f"chipsim {sim.__version__} on Python {platform.python_version()}, simpy {simpy.__version__}, {platform.machine()}")
    bare = bare_simpy_timeouts_per_s()
    engine, e2e, nodes = chipsim_node_days_per_s(args.scenario, args.repeats)
    print(f"bare SimPy timeouts/s                : {bare:12,.0f}")
    print(f"chipsim node-days/s, engine only     : {engine:12,.0f}   ({nodes} nodes, {args.scenario.name})")
    print(f"chipsim node-days/s, end to end      : {e2e:12,.0f}   (sim.run, tables and KPIs included)")
    print(f"ratio engine / bare SimPy            : {engine / bare:12.1%}   target >= {TARGET_RATIO:.0%}  {'PASS' if engine / bare >= TARGET_RATIO else 'FAIL'}")
    print(f"ratio end to end / bare SimPy        : {e2e / bare:12.1%}")


if __name__ == "__main__":
    main()
