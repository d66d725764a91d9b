"""The price replays of docs/validation.md section 4: runs them and prints every measure
against the band stated (before the runs) on that page, for the shelves-only replays
(``before``), for their copies with the market extensions of docs/markets.md sections 7-8
(``*-signals.yaml``: signal: orders, thrift, and hoarding Japanese users in 2010), and for
the 2010-11 copy with speculative traders (``rare-earths-2010-traders.yaml``, section 9;
the 2025 and 2023 rows of that column are the signals copies, which have no trader), and
for that copy with Japan's dysprosium as a product of its own (``rare-earths-2010-dy.yaml``:
its price and peak month are read on the dysprosium chain, its exports on the aggregate),
and for the shelves-only 2010-11 copy with China's 2011 export price as an input
(``rare-earths-2010-cnprice.yaml``, the fifth step: only its 2011 exports are scored), and
that copy with the buyers' covers counted at price (``rare-earths-2010-cnprice-cover.yaml``,
the sixth step).

    .venv/bin/python scenarios/history/prices/price_replays.py          # the table
    .venv/bin/python scenarios/history/prices/price_replays.py --grid   # the exponent's fit grid
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import sim
from sim.schema import Scenario

HERE = Path(__file__).resolve().parent
TRADERS = HERE / "rare-earths-2010-traders.yaml"
DYSPROSIUM = HERE / "rare-earths-2010-dy.yaml"
CHINA_PRICE = HERE / "rare-earths-2010-cnprice.yaml"
CHINA_PRICE_COVER = HERE / "rare-earths-2010-cnprice-cover.yaml"
# the fit of the traders' exponent k: the grid, stated before the runs, and the one measure
# it is fitted on (the peak multiplier); the rule: the k whose peak is nearest the band
# (13 to 52), the smallest such k on a tie
GRID = (1, 2, 4, 8, 12, 16, 24, 32, 64)


def _daily(res, metric: str, node: str) -> pd.Series:
    """Mean over replications of a daily metric at a node, indexed by date."""
    ts = res.timeseries
    rows = ts[(ts["metric"] == metric) & (ts["node"] == node)]
    return rows.groupby("date", observed=True)["value"].mean()


def rare_earth_measures(scenario, market: str = "jp_ree_users") -> list[tuple[str, float, float, float]]:
    """The three 2010-11 measures (name, value, band low, band high) of a rare-earth replay
    (a path or a ``Scenario``): the peak and its month read on the price at ``market`` (base
    $91,000/t, Dy oxide in January 2009), the exports on China's aggregate exporters."""
    ree = sim.run(scenario)
    price = _daily(ree, "price", market)
    peak_day = price.idxmax()
    out = [("REE 2010-11: peak multiplier (Japan)", price.max() / 91000, 13, 52),
           ("REE 2010-11: month of the peak, months after Aug 2011",
            (peak_day.year - 2011) * 12 + peak_day.month - 8, -3, 3)]
    ts = ree.timeseries
    shipped = ts[(ts["metric"] == "shipped") & (ts["node"] == "cn_ree_exporters")]
    exports = shipped[shipped["date"].dt.year == 2011]["value"].sum() / ree.replications
    out.append(("REE 2011: exports / quota (30,000 t)", exports / 30000, 0.46, 0.66))
    return out


def measures(variant: str = "") -> list[tuple[str, float, float, float]]:
    """(measure, simulated value, band low, band high) of every price replay; ``variant``
    is the file-name suffix of the replays to run ("", "-signals", "-traders", "-dy" or
    "-cnprice", "-cnprice-cover"; the last four exist for 2010-11 only: the other replays of the traders and
    Dy columns are the signals copies, those of the China-price column the shelves-only ones)."""
    out = []
    other = {"-traders": "-signals", "-dy": "-signals", "-cnprice": "", "-cnprice-cover": ""}.get(variant, variant)
    dy = sim.run(HERE / f"dy-oxide-2025{other}.yaml")
    eu, cn = _daily(dy, "price_multiplier", "eu_dy_buyers"), _daily(dy, "price_multiplier", "cn_dy_buyers")
    out.append(("Dy 2025: Europe multiplier, July mean", eu["2025-07"].mean(), 2.3, 3.6))
    out.append(("Dy 2025: Europe multiplier, 6 May", float(eu.loc["2025-05-06"]), 2.26, 4.0))
    out.append(("Dy 2025: China multiplier, highest day", cn.max(), 0.0, 1.05))
    ga = sim.run(HERE / f"gallium-2023{other}.yaml")
    m = _daily(ga, "price_multiplier", "foreign_gallium_users")
    out.append(("Ga 2023: multiplier, December mean", m["2023-12"].mean(), 1.89, 2.40))
    demand = _daily(ga, "demand", "foreign_gallium_users")["2023-08":"2023-12"].sum()
    short = _daily(ga, "shortfall", "foreign_gallium_users")["2023-08":"2023-12"].sum()
    out.append(("Ga 2023: fill rate Aug-Dec", 1 - short / demand, 0.90, 1.0))
    market = "jp_dy_users" if variant == "-dy" else "jp_ree_users"
    out += rare_earth_measures(HERE / f"rare-earths-2010{variant}.yaml", market)
    return out


def with_exponent(k: float) -> Scenario:
    """The traders copy with the speculation's exponent set to ``k``."""
    doc = sim.load_scenario(TRADERS).to_document()
    doc["nodes"]["jp_ree_traders"]["reorder"]["speculation"]["exponent"] = k
    return Scenario.model_validate(doc)


def fit_grid() -> list[tuple[float, list[tuple[str, float, float, float]]]]:
    """The three 2010-11 measures of the traders copy for every exponent of ``GRID``."""
    return [(k, rare_earth_measures(with_exponent(k))) for k in GRID]


def fitted(grid: list[tuple[float, list[tuple[str, float, float, float]]]]) -> float:
    """The fit rule: the exponent whose peak multiplier is nearest its band, the smallest on a tie."""
    def distance(row: tuple[str, float, float, float]) -> float:
        _, value, low, high = row
        return max(low - value, value - high, 0.0)
    return min(grid, key=lambda item: (round(distance(item[1][0]), 9), item[0]))[0]


if __name__ == "__main__":
    if "--grid" in sys.argv:
        grid = fit_grid()
        print(f"{'k':>4s} {'peak':>8s} {'month':>6s} {'exports':>8s}")
        for k, rows in grid:
            print(f"{k:4g} {rows[0][1]:8.3f} {rows[1][1]:6.0f} {rows[2][1]:8.3f}")
        print(f"fitted on the peak multiplier: k = {fitted(grid):g}")
    else:
        columns = ("before", "signals", "traders", "Dy chain", "CN price", "+ cover")
        print(f"{'measure':58s} " + " ".join(f"{c:>8s}" for c in columns) + "   band")
        for (name, old, low, high), (_, new, _, _), (_, tr, _, _), (_, dy, _, _), (_, cn, _, _), (_, cc, _, _) in zip(
                measures(), measures("-signals"), measures("-traders"), measures("-dy"), measures("-cnprice"),
                measures("-cnprice-cover"), strict=True):
            verdict = "inside" if low <= dy <= high else "MISS"
            print(f"{name:58s} {old:8.3f} {new:8.3f} {tr:8.3f} {dy:8.3f} {cn:8.3f} {cc:8.3f}   {low:g} to {high:g}   "
                  f"{verdict} (Dy chain)")
