"""The benchmark chains and trees in SupplyNetPy, timed; run by bench/supplynetpy_bench.py.

    <python with SupplyNetPy> bench/supplynetpy_model.py --topology tree --nodes 50 --days 3650

Runs in the interpreter that has SupplyNetPy (normally a throwaway virtualenv), so it
imports nothing from chipsim: the network comes from ``make_network.supply_spec``
(standard library only), the same description chipsim's side is built from. Prints one
JSON object: build and simulation times (best of the repeats) and a few totals to check
that both simulators moved the same goods.

Mapping of the description onto SupplyNetPy 0.5:

* source -> ``Supplier`` (node_type ``supplier``) whose ``RawMaterial`` is extracted at
  the source's capacity every day (``extraction_quantity`` = capacity,
  ``extraction_time`` = 1), with an inventory capacity far above anything it can
  reach, so that, like a chipsim source, it makes its full capacity every day;
* distributor / warehouse / retailer -> ``InventoryNode`` with ``SSReplenishment``
  reviewed once a day (``period`` 1) with ``S`` = the base-stock level and ``s`` = S - 1:
  with whole-unit demand, "position <= S - 1" is "position < S", so it orders
  ``S - position`` whenever that is positive: the base-stock rule chipsim applies every
  day. Opening stock = S; storage capacity = 2 S (never binding). With
  ``--policy sS`` instead (not equivalent; a sensitivity check): ``s`` = S // 2,
  reviewed at every inventory drop (SupplyNetPy's default), so nodes order every few
  days rather than every day, which is less work for SupplyNetPy;
* retailer demand -> ``Demand`` placing one order a day (``order_arrival_model`` 1) of a
  Poisson(rate) quantity (pre-drawn with numpy, like chipsim's demand; a draw of 0,
  which SupplyNetPy rejects and which has probability below 1e-8 at these rates, is
  raised to 1), ``consume_available=True`` and no tolerance: what the shelf lacks is
  lost, as in chipsim without backlog;
* lane -> ``Link`` with the same fixed lead time; one supplier per node, so the default
  ``SelectFirst`` supplier selection is the only choice.

Logging is off: every node is built with ``logging=False`` and the run uses
``simulate_sc_net(..., logging=False)``; Python warnings are silenced.
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_network  # noqa: E402  (standard library only)

BIG = 1e15  # storage capacity of the source: never reached


def build(spec: dict, days: int, seed: int, policy: str = "base_stock"):
    """The SupplyNetPy network for ``spec`` (create_sc_net's dictionary)."""
    import numpy as np
    import simpy
    import SupplyNetPy.Components as scm

    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    objects, links, demands = {}, [], []
    for n in spec["nodes"]:
        nid = n["id"]
        if n["role"] == "source":
            rm = scm.RawMaterial(ID="rm", name="raw material", extraction_quantity=n["capacity"],
                                 extraction_time=1, mining_cost=0, cost=1)
            objects[nid] = scm.Supplier(env=env, ID=nid, name=nid, node_type="supplier", capacity=BIG,
                                        initial_level=0, inventory_holding_cost=0, raw_material=rm, logging=False)
            continue
        level = n["level"]
        if policy == "base_stock":
            params = {"s": level - 1, "S": level, "period": 1}
        else:
            params = {"s": level // 2, "S": level}
        node_type = "retailer" if n["role"] == "retailer" else "distributor"
        objects[nid] = scm.InventoryNode(
            env=env, ID=nid, name=nid, node_type=node_type, capacity=2 * level, initial_level=level,
            inventory_holding_cost=0, replenishment_policy=scm.SSReplenishment,
            policy_param=params,
            product_sell_price=10, product_buy_price=10, logging=False)
        if n["role"] == "retailer":
            # days + a few: the constructor calls the model once to check it
            draws = np.maximum(rng.poisson(n["rate"], days + 8), 1).tolist()
            demands.append(scm.Demand(env=env, ID=f"cust_{nid}", name=f"customers of {nid}",
                                      order_arrival_model=1, order_quantity_model=iter(draws).__next__,
                                      demand_node=objects[nid], consume_available=True, logging=False))
    for k, lane in enumerate(spec["lanes"]):
        lead = float(lane["lead"])
        links.append(scm.Link(env=env, ID=f"l{k}", source=objects[lane["from"]], sink=objects[lane["to"]],
                              cost=0, lead_time=lead))
    return scm.create_sc_net(nodes=list(objects.values()), links=links, demands=demands, env=env)


def totals(net: dict) -> dict:
    """Final-demand units asked for and delivered, and units shipped by the source."""
    asked = sum(d.stats.demand_placed[1] for d in net["demands"].values())
    lost = sum(n.stats.lost_sales[1] for n in net["nodes"].values() if n.node_type != "supplier")
    sources = [n for n in net["nodes"].values() if n.node_type == "supplier"]
    return {"demand": asked, "delivered": asked - lost,
            "source_shipped": sum(n.stats.demand_fulfilled[1] for n in sources)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", choices=("chain", "tree"), required=True)
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--fanout", type=int, default=6)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", choices=("base_stock", "sS"), default="base_stock")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu: CPU time of this process; wall: wall-clock time")
    parser.add_argument("--budget", type=float, default=3.0, help="repeat while the total stays under this many seconds")
    parser.add_argument("--max-repeats", type=int, default=5)
    args = parser.parse_args()

    warnings.simplefilter("ignore")
    import simpy
    import SupplyNetPy.Components as scm
    from importlib.metadata import version

    scm.global_logger.disable_logging()
    logging.getLogger("sim_trace").disabled = True

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    spec = make_network.supply_spec(args.topology, args.nodes, args.fanout)
    best_build = best_sim = float("inf")
    spent, runs, result = 0.0, 0, None
    while runs < args.max_repeats and (runs == 0 or spent + best_build + best_sim < args.budget):
        started = clock()
        net = build(spec, args.days, args.seed + runs, args.policy)
        built = clock()
        scm.simulate_sc_net(net, sim_time=args.days, logging=False)
        done = clock()
        best_build, best_sim = min(best_build, built - started), min(best_sim, done - built)
        spent += done - started
        runs += 1
        if result is None:
            result = totals(net)
    print(json.dumps({
        "supplynetpy": version("supplynetpy"), "simpy": simpy.__version__, "python": platform.python_version(),
        "nodes": len(spec["nodes"]), "demand_objects": sum(n["role"] == "retailer" for n in spec["nodes"]),
        "links": len(spec["lanes"]), "days": args.days, "runs": runs, "policy": args.policy, "clock": args.clock,
        "build_s": best_build, "simulate_s": best_sim, **result,
    }))


if __name__ == "__main__":
    main()
