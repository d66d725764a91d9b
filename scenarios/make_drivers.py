"""What drives each headline of the library scenarios (``chipsim drivers`` over the library).

    .venv/bin/python scenarios/make_drivers.py                 # every file below
    .venv/bin/python scenarios/make_drivers.py 02 04           # only files starting so
    .venv/bin/python scenarios/make_drivers.py --trajectories 8 --samples 24 --workers 2

For each file: a Morris screening over every distribution of the resolved file (its own
and those inherited from reference.yaml), a Latin hypercube for each headline's 5-95%
interval over those inputs, and the top three inputs of each headline run at their 5%
and 95% quantiles with the others at their median (``sim.drivers``). One replication per
evaluation, on the file's seed (common random numbers). The headlines are the file's
``headlines:`` named below, plus the quantities its section of scenarios/README.md quotes
when the file does not declare them (defined here in the scenario language's headline
form). Rows go to ``reports/scenarios/drivers.csv`` (each file's rows replace its old ones as
soon as it is done); the sentences for the README are printed. Re-run it after the reference
network changes: the numbers are computed on today's network.

Cost with the defaults (10 trajectories, 32 samples, 2 workers): about 10,500 evaluations
over the 30 files, roughly an hour of CPU. The 11 rare-earth files (00, 01*, 07*) took 4,449
evaluations and 28 minutes on two cores (125-208 s a file, the three-year world of 00);
the chip files 10-84 s a file.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

import sim.drivers
from sim.reporting.driversbriefing import driver_sentences
from sim.rundir import write_csv

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "reports" / "scenarios" / "drivers.csv"
Y = {2025: ("2025-01-01", "2026-01-01"), 2026: ("2026-01-01", "2027-01-01"), 2027: ("2027-01-01", "2028-01-01")}


def h(name: str, label: str, metric: str, node: str | None = None, product: str | None = None, year: int | None = None,
      lane: str | None = None, stat: str = "sum", since: str | None = None) -> dict:
    """A headline in the scenario language's form (``year``: that calendar year only;
    ``since``: from that date to the end of the run)."""
    out: dict = {"name": name, "label": label, "metric": metric, "stat": stat}
    if node:
        out["node"] = node
    if lane:
        out["lane"] = lane
    if product:
        out["product"] = product
    if year:
        out["from"], out["to"] = Y[year]
    if since:
        out["from"] = since
    return out


def magnets(years: str) -> list[dict]:
    """The EU and US magnet users' shortfall over the whole run (the 1a/1b/7 sections)."""
    return [h("eu_magnet_shortfall_run", f"EU magnet shortfall over {years}", "shortfall", "eu_magnet_users",
              "ndfeb_magnet"),
            h("us_magnet_shortfall_run", f"US magnet shortfall over {years}", "shortfall", "us_magnet_users",
              "ndfeb_magnet")]


CN_COMPUTE = {y: h(f"cn_compute_{y}", f"China (private DCs) compute delivered in {y}, TFLOPS", "compute_delivered",
                   "cn_datacenters", year=y) for y in (2025, 2026)}
H20 = {y: h(f"h20_shipped_{y}", f"H20s shipped to China in {y}", "shipped", "tw_cowos_h20", "accel_h20", y)
       for y in (2025, 2026)}
ASCEND_910C = {y: h(f"ascend_910c_made_{y}", f"Ascend 910C chips made in {y}", "produced", "cn_ascend_910c",
                    "accel_ascend910c", y) for y in (2026, 2027)}
H200_2026 = h("h200_delivered_2026", "H200s delivered to China's commercial DCs in 2026", "delivered", "cn_datacenters",
              "accel_h200_cn", 2026)
ASCEND_DIES = {y: h(f"smic_ascend_dies_{y}", f"Ascend dies made at SMIC N+2 in {y}", "produced", "cn_smic_n7_ascend",
                    "die_ascend", y) for y in (2026, 2027)}
YIELD_FILE = [ASCEND_DIES[2026], ASCEND_910C[2026], ASCEND_910C[2027]]
ASCEND_FAB_END_2027 = h("ascend_fab_capacity_dec_2027", "SMIC South's Ascend N+2 line, wafer starts a day in December 2027",
                        "capacity", "cn_smic_n7_ascend", stat="mean", since="2027-12-01")

FILES: dict[str, list] = {
    "00-as-it-happened-2025-26": ["h20_to_china_2025", "h20_to_china_2026", "h200_reaching_china_2026",
                                  "ascend_910c_made_2026", "ascend_910b_made_2026", "eu_magnet_shortfall_2025",
                                  "us_germanium_shortfall"],
    "01-ree-licensing-2025": [*magnets("2025-26"),
                              h("jp_magnets_2025", "Japanese magnet output in 2025, t", "produced", "jp_magnets",
                                year=2025)],
    "01b-ree-october-2025": ["eu_magnet_shortfall_2026", "eu_magnet_worst_day_2026", *magnets("2025-27")],
    "01c-ree-october-2025-no-pause": magnets("2025-27"),
    "02a-h20-licence-2025": [CN_COMPUTE[2025], CN_COMPUTE[2026], H20[2025], H20[2026], ASCEND_910C[2026]],
    "02b-h200-conditional-exports": ["h200_reaching_china_2026", "h200_fee_revenue_2026", CN_COMPUTE[2026]],
    "02c-h200-no-fee-without-customs-block": [H200_2026, CN_COMPUTE[2026]],
    "02c-h200-fee-without-customs-block": [H200_2026, CN_COMPUTE[2026], "h200_fee_revenue_2026"],
    "03-tool-controls-servicing": [ASCEND_FAB_END_2027, ASCEND_910C[2027]],
    "03b-entity-list-affiliates": [ASCEND_FAB_END_2027, ASCEND_910C[2027]],
    "04-smic-yield-vs-ascend": YIELD_FILE,
    "04b-smic-eda-cutoff": YIELD_FILE,
    "04c-smic-yield-stall": YIELD_FILE,
    "05-china-state-dc-mandate": [
        h("mandated_compute_2026", "Mandated state DCs' compute delivered in 2026, TFLOPS", "compute_delivered",
          "cn_state_dc_mandated", year=2026),
        h("mandated_shortfall_2026", "Mandated state DCs' compute shortfall in 2026, TFLOPS", "compute_shortfall",
          "cn_state_dc_mandated", year=2026),
        CN_COMPUTE[2026]],
    "06b-gallium-germanium-transshipment-closed": [  # a delta of 00 since 2 December 2026: three years
        h("us_gallium_shortfall", "US gallium shortfall over 2025-27, t", "shortfall", "us_gallium_users", "gallium"),
        h("us_germanium_shortfall_06b", "US germanium shortfall over 2025-27, t", "shortfall", "us_germanium_users",
          "germanium")],
    "07a-policy-eu-stockpile": magnets("2025-27"),
    "07b-policy-separation-ramp": magnets("2025-27"),
    "07c-policy-magnet-recycling": magnets("2025-27"),
    "07d-policy-licence-fast-track": magnets("2025-27"),
    "07e-policy-triggered-separation": magnets("2025-27"),
    "07f-eu-magnet-plant": magnets("2025-27"),
    "07g-policy-eu-raw-stockpile": magnets("2025-27"),
    "08-tungsten-export-controls": ["wf6_made_2026", "blackwell_dies_2026"],
    # added on 2 December 2026 so that every library file with uncertain inputs has its drivers
    "reference": [CN_COMPUTE[2026], ASCEND_910C[2026]],
    "controls-us-chips-2024": [CN_COMPUTE[2026], ASCEND_910C[2026]],
    "02c-h200-without-customs-block": [H200_2026, CN_COMPUTE[2026]],
    "04d-ascend-assembly-yield": [ASCEND_910C[2026], CN_COMPUTE[2026]],
    "04e-ascend-quad-stacking": ["stack4_made_2026", ASCEND_910C[2026], CN_COMPUTE[2026]],
    "quickstart": [h("us_motor_shortfall", "US motor makers' magnet shortfall over 2025-26, t", "shortfall",
                     "us_motor_makers", "ndfeb_magnet")],
    "06-gallium-germanium-us-ban": [
        h("us_gallium_shortfall", "US gallium shortfall over 2025-26, t", "shortfall", "us_gallium_users", "gallium"),
        h("us_germanium_shortfall_06", "US germanium shortfall over 2025-26, t", "shortfall", "us_germanium_users",
          "germanium")],
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only the files whose names start so")
    parser.add_argument("--trajectories", type=int, default=10)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    names = [n for n in FILES if not args.prefixes or any(n.startswith(p) for p in args.prefixes)]
    started = time.time()
    for name in names:
        t = time.time()
        drv = sim.drivers.drivers(HERE / f"{name}.yaml", FILES[name], trajectories=args.trajectories,
                                  samples=args.samples, workers=args.workers, progress=sys.stderr.isatty())
        table = drv.table()
        print(f"## {name}: {len(drv.inputs)} inputs, {len(drv.evaluations)} evaluations, {time.time() - t:.0f} s")
        for text in driver_sentences(table):
            print("- " + text)
        sys.stdout.flush()
        old = pd.read_csv(OUT) if OUT.exists() else pd.DataFrame(columns=table.columns)
        write_csv(OUT, pd.concat([old[old["scenario"] != name], table], ignore_index=True))  # kept file by file
    print(f"{len(names)} files in {time.time() - started:.0f} s; rows in {OUT.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
