"""How sensitive are the rare-earth headlines to single assumptions? One input at a time.

    .venv/bin/python scenarios/probe_rare_earths.py               # 01, 01b, 00, 01c, 07a-d
    .venv/bin/python scenarios/probe_rare_earths.py 01 --rigid    # the same files, without
                                                                  # the adaptive behaviour

For each file it reports the total magnet shortfall of the EU magnet users (tonnes, mean
over the file's replications and seed) as written, with the sea freight into the EU
5 days shorter, and with the EU users holding 120 instead of 90 days of cover (stock and
re-order level). ``--rigid`` first strips the behaviour keys of contract 10 (adaptive
sourcing, precaution, make-to-stock) from every node, which reproduces the version-1
world. The table is printed and written to ``reports/scenarios/probes.csv`` (``probes-rigid.csv``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import sim

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "reports" / "scenarios"
FILES = ["01-ree-licensing-2025", "01b-ree-october-2025", "00-as-it-happened-2025-26", "01c-ree-october-2025-no-pause",
         "07a-policy-eu-stockpile",
         "07b-policy-separation-ramp", "07c-policy-magnet-recycling", "07d-policy-licence-fast-track"]
BUYER, PRODUCT = "eu_magnet_users", "ndfeb_magnet"


def rigid(sc):
    """The scenario with every node's contract-10 behaviour keys removed."""
    nodes = {}
    for nid, node in sc.nodes.items():
        update = {}
        if node.reorder is not None:
            update["reorder"] = node.reorder.model_copy(update={"sourcing": "fixed", "precaution": None})
        if getattr(node, "make_to_stock", None) is not None:
            update["make_to_stock"] = None
        nodes[nid] = node.model_copy(update=update)
    return sc.model_copy(update={"nodes": nodes})


def faster_freight(sc, days: int = 5):
    """Every lane into the EU magnet users ``days`` shorter."""
    lanes = [lane.model_copy(update={"lead_time": max(1, lane.lead_time - days)})
             if lane.to == BUYER and isinstance(lane.lead_time, (int, float)) else lane for lane in sc.lanes]
    return sc.model_copy(update={"lanes": lanes})


def more_cover(sc, days: float = 120, normal: float = 90):
    """The EU magnet users hold ``days`` of cover instead of ``normal`` (stock and level)."""
    node = sc.nodes[BUYER]
    stock = {pid: qty * days / normal if pid == PRODUCT else qty for pid, qty in node.inventory.items()}
    node = node.model_copy(update={"inventory": stock,
                                   "reorder": node.reorder.model_copy(update={"days_of_cover": days})})
    return sc.model_copy(update={"nodes": {**sc.nodes, BUYER: node}})


def eu_shortfall(sc) -> float:
    """Mean total shortfall of the EU magnet users over the run (t)."""
    kpis = sim.run(sc).kpis
    row = kpis[(kpis["node"] == BUYER) & (kpis["product"] == PRODUCT)]
    return float(row["shortfall"].iloc[0])


def main(argv: list[str]) -> None:
    strip = "--rigid" in argv
    prefixes = [a for a in argv if not a.startswith("--")]
    rows = []
    for name in FILES:
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        sc = sim.load_scenario(HERE / f"{name}.yaml")
        if strip:
            sc = rigid(sc)
        row = {"scenario": name, "as_written_t": eu_shortfall(sc), "freight_minus_5d_t": eu_shortfall(faster_freight(sc)),
               "cover_120d_t": eu_shortfall(more_cover(sc))}
        rows.append(row)
        print(f"{name:36s} {row['as_written_t']:10,.0f} {row['freight_minus_5d_t']:10,.0f} {row['cover_120d_t']:10,.0f}",
              flush=True)
    table = pd.DataFrame(rows).round(1)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / ("probes-rigid.csv" if strip else "probes.csv")
    tmp = out.with_name(out.name + ".tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)


if __name__ == "__main__":
    main(sys.argv[1:])
