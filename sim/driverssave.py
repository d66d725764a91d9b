"""A drivers run's table and folder (``chipsim drivers --out DIR``).

``drivers.csv`` holds, per headline, its 5-95% interval over the uncertain inputs and
its top inputs with their Morris index (mu*, in the headline's unit, with its 95%
half-width), whether the index is separated from the next input's, and the headline at
the input's 5% and 95% quantiles with every other input at its median. A ``compare
--drivers`` table adds ``option``: the option whose difference from the base a row is.
``indices.csv`` has every input's indices, ``evaluations.csv`` every evaluation and
``manifest.json`` the inputs, design and timing; ``drivers.html`` (with
``charts/drivers.png``) is the briefing section. The folder is written atomically, every
file through ``sim.safefs``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .rundir import write_atomically, write_csv, write_json

DRIVERS_COLUMNS = ["scenario", "headline", "label", "unit", "p05", "p50", "p95", "at_median", "samples", "rank", "input",
                   "input_label", "mu_star", "mu_star_conf", "sigma", "ranked", "input_low", "input_high",
                   "headline_at_low", "headline_at_high"]
NEGLIGIBLE = 1e-9   # an index below this share of the headline's size is rounding, not an effect


def separated(mu_star: list[float], conf: list[float], i: int) -> str:
    """Whether input ``i``'s index is told apart from the next one's: "yes" when their 95%
    intervals do not overlap, "no" when they do, "last" for the last input, "flat" for
    an input with no effect."""
    if mu_star[i] <= 0:
        return "flat"
    if i + 1 >= len(mu_star):
        return "last"
    return "yes" if mu_star[i] - conf[i] > mu_star[i + 1] + conf[i + 1] else "no"


def drivers_table(drv: Any) -> pd.DataFrame:
    """The ``drivers.csv`` rows (``DRIVERS_COLUMNS``): per headline its ``top`` inputs with
    a non-zero index (a headline no input moves gets one row without an input)."""
    rows = []
    name = str(drv.scenario.name)
    source = str(drv.manifest.get("scenario_file") or name)
    for _, h in drv.headlines.iterrows():
        base = {"scenario": source, "headline": h["headline"], "label": h["label"], "unit": h["unit"],
                "p05": h["p05"], "p50": h["p50"], "p95": h["p95"], "at_median": h["at_median"], "samples": h["samples"]}
        if "option" in h.index:  # compare --drivers: the option whose difference from the base this is
            base["option"] = h["option"]
        idx = drv.indices[drv.indices["headline"] == h["headline"]].reset_index(drop=True)
        scale = max(1.0, abs(float(h["p05"])), abs(float(h["p95"])))
        idx.loc[idx["mu_star"] <= NEGLIGIBLE * scale, "mu_star"] = 0.0  # rounding in the last bits, not an effect
        mu, conf = idx["mu_star"].tolist(), idx["mu_star_conf"].tolist()
        eff = drv.effects[drv.effects["headline"] == h["headline"]].set_index("input")
        shown = 0
        for i, r in idx.iterrows():
            if shown >= drv.top or r["mu_star"] <= 0:
                break
            e = eff.loc[r["input"]] if r["input"] in eff.index else None
            rows.append({**base, "rank": int(r["rank"]), "input": r["input"], "input_label": r["input_label"],
                         "mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"], "sigma": r["sigma"],
                         "ranked": separated(mu, conf, int(i)),
                         "input_low": None if e is None else e["input_low"],
                         "input_high": None if e is None else e["input_high"],
                         "headline_at_low": math.nan if e is None else e["headline_at_low"],
                         "headline_at_high": math.nan if e is None else e["headline_at_high"]})
            shown += 1
        if not shown:
            rows.append({**base, "rank": 0, "input": "", "input_label": "no input moves it", "ranked": "flat"})
    return pd.DataFrame(rows, columns=DRIVERS_COLUMNS + (["option"] if "option" in drv.headlines.columns else []))


def save_drivers(drv: Any, out: Path, force: bool = False, report: bool = True) -> Path:
    """Write ``drv``'s folder at ``out`` (refused if it exists, unless ``force``)."""
    def write(folder: Path) -> None:
        write_csv(folder / "drivers.csv", drv.table())
        write_csv(folder / "indices.csv", drv.indices)
        write_csv(folder / "headlines.csv", drv.headlines)
        write_csv(folder / "evaluations.csv", drv.evaluations)
        write_json(folder / "manifest.json", drv.manifest)
        if report:
            from .reporting.driversbriefing import write_drivers_briefing

            source = (f"Source: chipsim {__version__}; Morris screening, {drv.manifest.get('trajectories')} trajectories, "
                      f"{drv.manifest.get('evaluations')} evaluations of {drv.manifest.get('replications')} "
                      f"replication(s), seed {drv.manifest.get('seed')}.")
            write_drivers_briefing(drv.table(), folder, source, str(drv.scenario.name), drv.differences)

    return write_atomically(out, force, write)
