"""Write synthetic layered supply networks as scenario files (for benchmarks).

    python bench/make_network.py --layers 4,6,8,10,12 --years 3 > bench/scenarios/forty_nodes.yaml

Layer 0 are sources; every node of layer k>0 buys its input from two suppliers of layer
k-1 (base-stock, 20 days of cover) and turns it into its own product; the last layer
has Poisson final demand. One export ban hits a source for six months.
"""
from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="4,6,8,10,12", help="nodes per layer, comma-separated")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(network_yaml([int(x) for x in args.layers.split(",")], args.years, args.seed), end="")


if __name__ == "__main__":
    main()
