"""Part 2 of run_bench.py: how chipsim's run time grows with nodes and with the horizon.

Builds the synthetic ``tree`` and ``chain`` networks of make_network.py in memory
(``Scenario.model_validate`` on the plain scenario data), times the engine alone
(``run_replication(build_network(scenario), seed, 0)``) for every size and horizon,
and ``sim.run`` end to end for the smaller networks, then fits

    log(run time) = a + b log(nodes) + c log(days)

by least squares, per topology: ``b`` and ``c`` are the exponents of run time in node
count and in horizon (1.0 = linear).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_network  # noqa: E402
from _timing import Targets, best_of  # noqa: E402

SIZES = (10, 100, 1000)
YEARS = (1, 3, 10)
TOPOLOGIES = ("tree", "chain")
E2E_MAX_NODES = 100
EXPONENT_TOLERANCE = 0.1  # |exponent - 1| within this counts as linear


def _busy_share(net, values: np.ndarray) -> float:
    """Share of node-days on which the node received or shipped goods."""
    cols = [i for i, (_, metric) in enumerate(net.series) if metric in ("received", "shipped")]
    node_of = [net.slots[s][0] if isinstance(net.slots[s], tuple) else s for s, _ in net.series]
    busy: dict = {}
    for i in cols:
        moving = values[:, i] > 0
        node = node_of[i]
        busy[node] = moving if node not in busy else (busy[node] | moving)
    total = len(net.scenario.nodes) * values.shape[0]
    return sum(int(b.sum()) for b in busy.values()) / total if total else 0.0


def fit_exponents(nodes, days, seconds) -> tuple[float, float, float]:
    """(b, c, r2) of log t = a + b log nodes + c log days."""
    x = np.column_stack([np.ones(len(nodes)), np.log(nodes), np.log(days)])
    y = np.log(seconds)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    ss = float(((y - y.mean()) ** 2).sum())
    return float(coef[1]), float(coef[2]), 1.0 - float((resid ** 2).sum()) / ss if ss else 1.0


def run(targets: Targets, sizes=SIZES, years=YEARS, topologies=TOPOLOGIES, budget: float = 3.0,
        e2e_max_nodes: int = E2E_MAX_NODES) -> dict:
    import sim
    from sim.engine import run_replication
    from sim.network import build_network
    from sim.schema import Scenario

    print(f"\n2. Scaling: synthetic trees and chains (bench/make_network.py), {', '.join(map(str, sizes))} nodes x "
          f"{', '.join(f'{y:g}' for y in years)} years")
    print(f"   engine = run_replication(build_network(scenario), seed, 0); e2e = sim.run(scenario, replications=1) "
          f"for <= {e2e_max_nodes} nodes;")
    print(f"   best of up to 5 runs within {budget:g} s (one run when a run takes longer); busy = share of node-days "
          f"with goods moving in or out")
    header = (f"   {'topology':8} {'nodes':>5} {'years':>5} {'days':>5} {'node-days':>10} {'build s':>8} {'engine s':>9} "
              f"{'node-days/s':>12} {'e2e s':>7} {'e2e nd/s':>10} {'busy':>5}")
    print(header)
    rows = []
    for topo in topologies:
        for n in sizes:
            spec = make_network.supply_spec(topo, n)
            for y in years:
                days = int(round(365 * y))
                data = make_network.scenario_data(spec, days)
                build_s, _, (scenario, net) = best_of(
                    lambda: (lambda sc: (sc, build_network(sc)))(Scenario.model_validate(data)), budget=0.2)
                engine_s, runs, out = best_of(lambda: run_replication(net, scenario.seed, 0), budget=budget)
                busy = _busy_share(net, out.values)
                del out
                e2e_s = None
                if n <= e2e_max_nodes:
                    e2e_s, _, _ = best_of(lambda: sim.run(scenario, replications=1), budget=budget)
                nd = n * days
                rows.append({"topology": topo, "nodes": n, "days": days, "engine_s": engine_s, "e2e_s": e2e_s,
                             "build_s": build_s, "busy": busy, "runs": runs})
                e2e_txt = f"{e2e_s:7.3f} {nd / e2e_s:10,.0f}" if e2e_s else f"{'-':>7} {'-':>10}"
                print(f"   {topo:8} {n:5d} {y:5g} {days:5d} {nd:10,d} {build_s:8.3f} {engine_s:9.3f} "
                      f"{nd / engine_s:12,.0f} {e2e_txt} {busy:5.0%}", flush=True)
            del net, scenario

    if "chain" in topologies:
        print("   note: in a chain the demand signal climbs one node a day, so long chains are partly idle in short runs")
        print("   (busy < 100%); idle node-days are cheaper, which raises the chains' exponent in days")
    print("   fitted exponents of run time, log t = a + b log(nodes) + c log(days), least squares:")
    print(f"   {'case':44} {'points':>6} {'b nodes':>8} {'c days':>7} {'R2':>5}   target")
    fits = {}

    def show(label, sel, key, target=True):
        pts = [r for r in rows if sel(r) and r[key]]
        if len(pts) < 3 or len({r["nodes"] for r in pts}) < 2 or len({r["days"] for r in pts}) < 2:
            return
        b, c, r2 = fit_exponents([r["nodes"] for r in pts], [r["days"] for r in pts], [r[key] for r in pts])
        fits[label] = (b, c, r2, len(pts))
        if target:
            ok_b, ok_c = abs(b - 1) <= EXPONENT_TOLERANCE, abs(c - 1) <= EXPONENT_TOLERANCE
            targets.add(f"scaling exponents nodes / days, {label}", f"{b:.2f} / {c:.2f}", "about 1.0 each (0.9-1.1)",
                        ok_b and ok_c)
            note = (f"about 1.0 (0.9-1.1): nodes {'PASS' if ok_b else 'FAIL'}, days {'PASS' if ok_c else 'FAIL'}")
        else:
            note = "no target (fixed per-run and per-demand-node costs dominate)"
        print(f"   {label:44} {len(pts):6d} {b:8.2f} {c:7.2f} {r2:5.2f}   {note}")

    for topo in topologies:
        show(f"{topo}, engine, all sizes", lambda r, t=topo: r["topology"] == t, "engine_s")
        show(f"{topo}, engine, >= 100 nodes", lambda r, t=topo: r["topology"] == t and r["nodes"] >= 100, "engine_s")
    if len(topologies) > 1:
        show("trees and chains together, engine, all sizes", lambda r: True, "engine_s")
    for topo in topologies:
        show(f"{topo}, sim.run end to end, <= {e2e_max_nodes} nodes", lambda r, t=topo: r["topology"] == t, "e2e_s",
             target=False)
    return {"rows": rows, "fits": fits}


def kernel_scaling(sizes=(1000, 5000), years=(1, 2), topologies=("tree",), engines=("reference", "kernel"),
                   budget: float = 2.0) -> dict:
    """Engine time of each engine, side by side, on trees (or chains) of ``sizes`` nodes over
    ``years``; returns the rows and, per engine, the fitted exponents (b nodes, c days, R2)."""
    from sim.engine import run_replication
    from sim.network import build_network
    from sim.schema import Scenario

    rows = []
    for topo in topologies:
        for n in sizes:
            spec = make_network.supply_spec(topo, n)
            for y in years:
                days = int(round(365 * y))
                scenario = Scenario.model_validate(make_network.scenario_data(spec, days))
                net = build_network(scenario)
                row = {"topology": topo, "nodes": n, "days": days}
                if not rows:
                    run_replication(net, scenario.seed, 0, engines[-1])  # load the compiled kernel first
                for engine in engines:
                    row[engine], _, _ = best_of(lambda e=engine, nt=net, sd=scenario.seed: run_replication(nt, sd, 0, e),
                                                budget=budget)
                rows.append(row)
                print(f"   {topo:6} {n:6d} nodes {days:5d} days: " + "  ".join(
                    f"{e} {row[e]:7.3f} s ({n * days / row[e]:11,.0f} node-days/s)" for e in engines), flush=True)
    fits = {e: fit_exponents([r["nodes"] for r in rows], [r["days"] for r in rows], [r[e] for r in rows])
            for e in engines if len(rows) >= 3}
    for e, (b, c, r2) in fits.items():
        print(f"   {e:9} exponents: nodes {b:.2f}, days {c:.2f} (R2 {r2:.2f})")
    return {"rows": rows, "fits": fits}


if __name__ == "__main__":  # python bench/scaling.py kernel: the kernel against the readable engine, 1,000 and 5,000 nodes
    if sys.argv[1:] == ["kernel"]:
        kernel_scaling()
