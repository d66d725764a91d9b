"""Write synthetic supply networks as scenario files (for benchmarks).

    python bench/make_network.py --layers 4,6,8,10,12 --years 3 > bench/scenarios/forty_nodes.yaml
    python bench/make_network.py --topology tree --nodes 1000 --years 10 > /tmp/tree1000.yaml
    python bench/make_network.py --topology chain --nodes 100 --years 1 > /tmp/chain100.yaml

Three topologies:

* ``layered`` (default): layer 0 are sources; every node of layer k>0 buys its input
  from two suppliers of layer k-1 (base-stock, 20 days of cover) and turns it into its
  own product; the last layer has Poisson final demand. One export ban hits a source
  for six months.
* ``chain``: a line of ``--nodes`` nodes, each buying one product from the previous
  one: a source, warehouses, and a retailer with Poisson demand at the end.
* ``tree``: one source, distributors (warehouses) fanning out to retailers with
  Poisson demand (about ``--fanout`` retailers per distributor; two tiers).

Chains and trees carry one product, use fixed whole-day lead times and base-stock
reorders with a fixed ``level`` (opening stock = level), have no shocks, and are built
from one plain description (``supply_spec``) that the SupplyNetPy comparison
(``bench/supplynetpy_model.py``) turns into the same network in SupplyNetPy. This
module uses only the standard library so that it can be imported there too.
"""
from __future__ import annotations

import argparse
import json
import random


def network_yaml(layers: list[int], years: float, seed: int = 1) -> str:
    rnd = random.Random(seed)
    lines = [
        f"name: Synthetic {sum(layers)}-node layered network",
        "description: Benchmark network written by bench/make_network.py; not calibrated to real data.",
        f"horizon: {int(round(years * 365))}",
        "replications: 1",
        "seed: 1",
        "products:",
    ]
    for k in range(len(layers)):
        lines.append(f"  p{k}: {{unit: unit, price: {10 * (k + 1)}}}")
    lines.append("nodes:")
    names = [[f"n{k}_{i}" for i in range(n)] for k, n in enumerate(layers)]
    last = len(layers) - 1
    for k, layer in enumerate(names):
        for i, name in enumerate(layer):
            region = "CN" if i % 3 == 0 else ("US" if i % 3 == 1 else "EU")
            if k == 0:
                lines.append(f"  {name}: {{region: {region}, produces: p0, capacity: 400}}")
            elif k < last:
                lines.append(f"  {name}:")
                lines.append(f"    region: {region}")
                lines.append(f"    produces: p{k}")
                lines.append(f"    capacity: {200 + 20 * rnd.randint(0, 5)}")
                lines.append(f"    consumes: {{p{k - 1}: 1.0}}")
                lines.append(f"    inventory: {{p{k - 1}: 1500}}")
                lines.append("    reorder: {policy: base_stock, days_of_cover: 20}")
            else:
                lines.append(f"  {name}:")
                lines.append(f"    region: {region}")
                lines.append(f"    inventory: {{p{k - 1}: 1500}}")
                lines.append(f"    demand: {{product: p{k - 1}, rate: {60 + 5 * rnd.randint(0, 8)}, distribution: poisson, growth: 0.05}}")
                lines.append("    reorder: {policy: base_stock, days_of_cover: 25}")
    lines.append("lanes:")
    for k in range(1, len(layers)):
        for i, name in enumerate(names[k]):
            ups = rnd.sample(names[k - 1], 2)
            for j, up in enumerate(ups):
                lead = "{dist: triangular, low: 3, mode: 6, high: 12}" if (i + j) % 2 else str(rnd.randint(2, 9))
                lines.append(f"  - {{from: {up}, to: {name}, product: p{k - 1}, lead_time: {lead}}}")
    lines.append("shocks:")
    lines.append(f"  - {{type: export_ban, name: Source ban, start: 180, end: 360, from: {names[0][0]}, leakage: 0.1}}")
    return "\n".join(lines) + "\n"


# --- chains and trees ----------------------------------------------------------------

SOURCE_LEAD = 5        # days, source -> distributor
CHAIN_LEAD = 2         # days, between neighbours of a chain
REVIEW = 1             # days between reviews (chipsim reorders every day)
SAFETY_RETAIL = 3      # days of demand held as safety stock at a retailer
SAFETY_DIST = 4        # days of demand held as safety stock at a distributor / warehouse
SOURCE_MARGIN = 1.25   # source capacity as a multiple of the mean total final demand


def retail_rate(j: int) -> int:
    """Mean daily demand of retailer number ``j``: 20 to 60 units."""
    return 20 + 5 * (j % 9)


def supply_spec(topology: str, nodes: int, fanout: int = 6) -> dict:
    """Plain description of a chain or tree of ``nodes`` nodes carrying one product.

    Returns ``{"topology", "nodes": [...], "lanes": [...]}``; every node is a dict with
    ``id`` and ``role`` (``source``, ``warehouse``, ``distributor`` or ``retailer``);
    a source has ``capacity`` (units/day), the others ``level`` (base-stock
    order-up-to level, also the opening stock), retailers ``rate`` (mean Poisson
    demand per day); lanes are ``{"from", "to", "lead"}`` with a whole-day lead time.
    """
    if topology == "chain":
        if nodes < 2:
            raise ValueError("a chain needs at least 2 nodes (a source and a retailer)")
        rate = retail_rate(4)  # 40 a day
        specs = [{"id": "c0", "role": "source", "capacity": round(SOURCE_MARGIN * rate)}]
        for k in range(1, nodes - 1):
            specs.append({"id": f"c{k}", "role": "warehouse",
                          "level": rate * (CHAIN_LEAD + REVIEW + SAFETY_DIST)})
        specs.append({"id": f"c{nodes - 1}", "role": "retailer", "rate": rate,
                      "level": rate * (CHAIN_LEAD + REVIEW + SAFETY_RETAIL)})
        lanes = [{"from": f"c{k - 1}", "to": f"c{k}", "lead": CHAIN_LEAD} for k in range(1, nodes)]
        return {"topology": "chain", "nodes": specs, "lanes": lanes}
    if topology == "tree":
        if nodes < 3:
            raise ValueError("a tree needs at least 3 nodes (a source, a distributor and a retailer)")
        n_dist = max(1, round((nodes - 1) / (fanout + 1)))
        n_ret = nodes - 1 - n_dist
        retailers, lanes, served = [], [], [[] for _ in range(n_dist)]
        for j in range(n_ret):
            i = j % n_dist
            lead = 1 + j % 3
            rate = retail_rate(j)
            served[i].append(rate)
            retailers.append({"id": f"r{j}", "role": "retailer", "rate": rate,
                              "level": rate * (lead + REVIEW + SAFETY_RETAIL)})
            lanes.append({"from": f"d{i}", "to": f"r{j}", "lead": lead})
        dists = [{"id": f"d{i}", "role": "distributor",
                  "level": sum(served[i]) * (SOURCE_LEAD + REVIEW + SAFETY_DIST)} for i in range(n_dist)]
        total = sum(r["rate"] for r in retailers)
        source = {"id": "s0", "role": "source", "capacity": round(SOURCE_MARGIN * total)}
        lanes = [{"from": "s0", "to": f"d{i}", "lead": SOURCE_LEAD} for i in range(n_dist)] + lanes
        return {"topology": "tree", "nodes": [source] + dists + retailers, "lanes": lanes}
    raise ValueError(f"unknown topology {topology!r} (chain or tree)")


def scenario_data(spec: dict, days: int, seed: int = 1, price: float = 10.0) -> dict:
    """The chipsim scenario (plain data, as a YAML file would hold it) for a ``supply_spec``."""
    nodes = {}
    for n in spec["nodes"]:
        if n["role"] == "source":
            nodes[n["id"]] = {"region": "CN", "produces": "p", "capacity": n["capacity"]}
            continue
        node = {"region": "US", "inventory": {"p": n["level"]}, "reorder": {"policy": "base_stock", "level": n["level"]}}
        if n["role"] == "retailer":
            node["demand"] = {"product": "p", "rate": n["rate"], "distribution": "poisson"}
        nodes[n["id"]] = node
    return {
        "name": f"Synthetic {len(spec['nodes'])}-node {spec['topology']}",
        "description": "Benchmark network written by bench/make_network.py; not calibrated to real data.",
        "horizon": int(days),
        "replications": 1,
        "seed": seed,
        "products": {"p": {"unit": "unit", "price": price}},
        "nodes": nodes,
        "lanes": [{"from": l["from"], "to": l["to"], "product": "p", "lead_time": l["lead"]} for l in spec["lanes"]],
    }


def scenario_yaml(data: dict) -> str:
    """Scenario data as YAML text: block style at the top, one JSON flow mapping (valid
    YAML) per product, node and lane."""
    lines = []
    for key in ("name", "description", "horizon", "replications", "seed"):
        lines.append(f"{key}: {json.dumps(data[key])}")
    for key in ("products", "nodes"):
        lines.append(f"{key}:")
        lines += [f"  {name}: {json.dumps(value)}" for name, value in data[key].items()]
    lines.append("lanes:")
    lines += [f"  - {json.dumps(lane)}" for lane in data["lanes"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", choices=("layered", "chain", "tree"), default="layered")
    parser.add_argument("--layers", default="4,6,8,10,12", help="layered: nodes per layer, comma-separated")
    parser.add_argument("--nodes", type=int, default=100, help="chain/tree: number of nodes")
    parser.add_argument("--fanout", type=int, default=6, help="tree: retailers per distributor")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.topology == "layered":
        print(network_yaml([int(x) for x in args.layers.split(",")], args.years, args.seed), end="")
    else:
        spec = supply_spec(args.topology, args.nodes, args.fanout)
        print(scenario_yaml(scenario_data(spec, int(round(args.years * 365)), args.seed)), end="")


if __name__ == "__main__":
    main()
