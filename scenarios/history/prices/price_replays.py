"""The price replays of docs/validation.md section 4: runs them and prints every measure
against the band stated (before the runs) on that page, for the shelves-only replays
(``before``) and for their copies with the market extensions of docs/markets.md sections
7-8 (``*-signals.yaml``: signal: orders, thrift, and hoarding Japanese users in 2010).

    .venv/bin/python scenarios/history/prices/price_replays.py
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim

HERE = Path(__file__).resolve().parent


def _daily(res, metric: str, node: str) -> pd.Series:
    """Mean over replications of a daily metric at a node, indexed by date."""
    ts = res.timeseries
    rows = ts[(ts["metric"] == metric) & (ts["node"] == node)]
    return rows.groupby("date", observed=True)["value"].mean()


def measures(variant: str = "") -> list[tuple[str, float, float, float]]:
    """(measure, simulated value, band low, band high) of every price replay; ``variant``
    is the file-name suffix of the replays to run ("" or "-signals")."""
    out = []
    dy = sim.run(HERE / f"dy-oxide-2025{variant}.yaml")
    eu, cn = _daily(dy, "price_multiplier", "eu_dy_buyers"), _daily(dy, "price_multiplier", "cn_dy_buyers")
    out.append(("Dy 2025: Europe multiplier, July mean", eu["2025-07"].mean(), 2.3, 3.6))
    out.append(("Dy 2025: Europe multiplier, 6 May", float(eu.loc["2025-05-06"]), 2.26, 4.0))
    out.append(("Dy 2025: China multiplier, highest day", cn.max(), 0.0, 1.05))
    ga = sim.run(HERE / f"gallium-2023{variant}.yaml")
    m = _daily(ga, "price_multiplier", "foreign_gallium_users")
    out.append(("Ga 2023: multiplier, December mean", m["2023-12"].mean(), 1.89, 2.40))
    demand = _daily(ga, "demand", "foreign_gallium_users")["2023-08":"2023-12"].sum()
    short = _daily(ga, "shortfall", "foreign_gallium_users")["2023-08":"2023-12"].sum()
    out.append(("Ga 2023: fill rate Aug-Dec", 1 - short / demand, 0.90, 1.0))
    ree = sim.run(HERE / f"rare-earths-2010{variant}.yaml")
    price = _daily(ree, "price", "jp_ree_users")
    peak_day = price.idxmax()
    out.append(("REE 2010-11: peak multiplier (Japan)", price.max() / 91000, 13, 52))
    out.append(("REE 2010-11: month of the peak, months after Aug 2011",
                (peak_day.year - 2011) * 12 + peak_day.month - 8, -3, 3))
    ts = ree.timeseries
    shipped = ts[(ts["metric"] == "shipped") & (ts["node"] == "cn_ree_exporters")]
    exports = shipped[shipped["date"].dt.year == 2011]["value"].sum() / ree.replications
    out.append(("REE 2011: exports / quota (30,000 t)", exports / 30000, 0.46, 0.66))
    return out


if __name__ == "__main__":
    print(f"{'measure':58s} {'before':>8s} {'after':>8s}   band")
    for (name, old, low, high), (_, new, _, _) in zip(measures(), measures("-signals"), strict=True):
        verdict = "inside" if low <= new <= high else "MISS"
        print(f"{name:58s} {old:8.3f} {new:8.3f}   {low:g} to {high:g}   {verdict}")
