"""Sweeps over shock and policy levers: sample, run, tabulate, rank sensitivities.

``--vary PATH=LOW:HIGH`` names any numeric field of the resolved scenario by its dotted
path (``shocks.0.leakage``, ``nodes.jp_magnets.capacity``, ``policies.1.rate``).
Samples come from a Latin hypercube (scipy.stats.qmc) or a full grid; every sample runs
on the same seed, so differences between samples are not replication noise.
"""
from __future__ import annotations

import copy
import datetime as _dt
import itertools
import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy.stats import qmc

from ._version import __version__
from .errors import ChipsimUserError, did_you_mean
from .executors import Executor, make_executor
from .experiment import check_options
from .experiment import run as run_scenario
from .metrics import SWEPT
from .provenance import build_manifest
from .rundir import write_atomically, write_csv, write_json
from .schema import Scenario

_VARY = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*$")
_VARY_DATES = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*(\d{4}-\d{2}-\d{2})\s*:\s*(\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class Lever:
    """One varied parameter: a dotted path into the scenario document and its range.

    A date lever (``date``) holds its bounds as proleptic ordinals (``date.toordinal()``)
    and is sampled in whole days."""

    path: str
    low: float
    high: float
    date: bool = False

    def value(self, x: float) -> float | str:
        """The document value of a sampled point: the number, or the ISO date of the day."""
        return _dt.date.fromordinal(int(round(x))).isoformat() if self.date else float(x)

    @property
    def name(self) -> str:
        """The lever as a sensitivity row calls it (a date lever counts days after LOW)."""
        return f"{self.path} (days after {self.value(self.low)})" if self.date else self.path


def parse_vary(text: str) -> Lever:
    """``PATH=LOW:HIGH`` (numbers, or dates YYYY-MM-DD) -> Lever."""
    dates = _VARY_DATES.match(text)
    if dates:
        try:
            low_d, high_d = (_dt.date.fromisoformat(dates.group(k)) for k in (2, 3))
        except ValueError as exc:
            raise ChipsimUserError(f"--vary {text!r}: {exc}") from None
        if not low_d < high_d:
            raise ChipsimUserError(f"--vary {text!r}: LOW must be before HIGH")
        return Lever(dates.group(1), float(low_d.toordinal()), float(high_d.toordinal()), date=True)
    match = _VARY.match(text)
    if not match:
        raise ChipsimUserError(f"--vary {text!r}: write PATH=LOW:HIGH, e.g. shocks.0.leakage=0:0.2 or "
                               "shocks.0.end=2026-02-01:2026-08-01")
    low, high = float(match.group(2)), float(match.group(3))
    if not low < high:
        raise ChipsimUserError(f"--vary {text!r}: LOW must be below HIGH")
    return Lever(match.group(1), low, high)


def _set(doc: dict, path: str, value: float | str) -> None:
    parts = path.split(".")
    node = doc
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ChipsimUserError(f"--vary {path}: '{'.'.join(parts[:depth])}' has {len(node)} entries; '{part}' is not one")
            key = int(part)
        elif isinstance(node, dict):
            if part not in node and not last:
                raise ChipsimUserError(f"--vary {path}: no '{part}' under '{'.'.join(parts[:depth]) or 'the scenario'}'"
                                       f"{did_you_mean(part, [str(k) for k in node])}")
            key = part
        else:
            raise ChipsimUserError(f"--vary {path}: '{'.'.join(parts[:depth])}' is a value, not a section")
        if last:
            if isinstance(node, dict) and key not in node and not isinstance(node.get(key), (int, float)):
                pass  # a field left at its default: set it
            elif isinstance(value, str) and (node[key] is None or isinstance(node[key], (str, _dt.date, int))):
                pass  # a date lever replaces a date, a day number or an open end
            elif isinstance(node[key], (dict, list, str)) and not isinstance(node[key], bool):
                raise ChipsimUserError(f"--vary {path}: the value there is {node[key]!r}, not a number")
            node[key] = value
        else:
            node = node[key]


def samples(levers: Sequence[Lever], n: int, design: str, seed: int) -> np.ndarray:
    """Parameter values, one row per sample: a Latin hypercube of n points or an n-level grid."""
    if design == "lhs":
        unit = qmc.LatinHypercube(d=len(levers), seed=seed).random(n)
    elif design == "grid":
        axis = np.linspace(0.0, 1.0, n)
        unit = np.array(list(itertools.product(axis, repeat=len(levers))))
    else:
        raise ChipsimUserError(f"unknown design '{design}'; use lhs or grid")
    low = np.array([lv.low for lv in levers])
    high = np.array([lv.high for lv in levers])
    points = low + unit * (high - low)
    for i, lever in enumerate(levers):
        if lever.date:  # whole days, within the bounds
            points[:, i] = np.clip(np.round(points[:, i]), lever.low, lever.high)
    return points


def _sample_scenario(base: dict, levers: Sequence[Lever], values: np.ndarray, k: int) -> Scenario:
    """The scenario of sample ``k``: the base document with each lever set to its value."""
    doc = copy.deepcopy(base)
    for lever, value in zip(levers, values, strict=False):
        _set(doc, lever.path, lever.value(value))
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ChipsimUserError(f"sample {k}: {'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')} "
                               f"(check the --vary ranges)") from None


def sweep(scenario: Scenario, levers: Sequence[Lever], n: int = 20, design: str = "lhs",
          replications: int | None = None, seed: int | None = None, workers: int = 1,
          progress: Callable[[int], object] | None = None) -> pd.DataFrame:
    """Run every sample; return one tidy table: sample, each lever's value, node, product,
    metric, value (mean over replications, in the row's unit) for every demand row's KPIs.

    One process pool serves every sample; ``progress(1)`` is called after each sample.
    """
    if not levers:
        raise ChipsimUserError("sweep needs at least one --vary PATH=LOW:HIGH")
    reps = replications or scenario.replications
    seed = scenario.seed if seed is None else seed
    points = samples(levers, n, design, seed)
    base = scenario.to_document()
    rows = []
    with ExitStack() as stack:
        shared: Executor | None = None
        for k, values in enumerate(points):
            variant = _sample_scenario(base, levers, values, k)
            if shared is None:  # started after the first sample validates, as a per-sample run would be
                check_options(reps, seed, workers)
                shared = stack.enter_context(make_executor("processes", min(workers, reps)))
            results = run_scenario(variant, replications=reps, seed=seed, workers=workers, executor=shared)
            for _, row in results.kpis.iterrows():
                for metric in SWEPT:
                    rows.append({"sample": k, **{lv.path: lv.value(v) for lv, v in zip(levers, values, strict=False)},
                                 "node": row["node"], "product": row["product"], "metric": metric, "value": row[metric]})
            if progress:
                progress(1)
    return pd.DataFrame(rows)


def sensitivity(table: pd.DataFrame, levers: Sequence[Lever], node: str, product: str,
                metric: str = "shortfall") -> pd.DataFrame:
    """Linear sensitivity of one KPI to each lever: the change in the fitted KPI when the
    lever moves from LOW to HIGH with the others at their mid-points (tornado bars)."""
    rows = table[(table["node"] == node) & (table["product"] == product) & (table["metric"] == metric)]
    rows = rows[np.isfinite(rows["value"])]
    x = np.column_stack([_lever_numbers(rows[lv.path], lv) for lv in levers]) if len(rows) else np.zeros((0, len(levers)))
    y = rows["value"].to_numpy(float)
    if len(y) <= len(levers):
        raise ChipsimUserError(f"{len(y)} samples cannot fit {len(levers)} levers; use more --samples")
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    bounds = [(0.0, lv.high - lv.low) if lv.date else (lv.low, lv.high) for lv in levers]
    mid = np.array([(lo + hi) / 2 for lo, hi in bounds])
    centre = float(coef[0] + coef[1:] @ mid)
    out = []
    for i, (lv, (lo, hi)) in enumerate(zip(levers, bounds, strict=False)):
        at_low = centre + coef[1 + i] * (lo - mid[i])
        at_high = centre + coef[1 + i] * (hi - mid[i])
        out.append({"lever": lv.name, "low": lo, "high": hi, "kpi_at_low": at_low, "kpi_at_high": at_high,
                    "effect": at_high - at_low})
    result = pd.DataFrame(out)
    result["centre"] = centre
    return result.reindex(result["effect"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def _lever_numbers(column: pd.Series, lever: Lever) -> np.ndarray:
    """A lever's sampled values as numbers: a date lever's as days after its LOW."""
    if not lever.date:
        return column.to_numpy(float)
    return np.array([_dt.date.fromisoformat(str(v)).toordinal() - lever.low for v in column], dtype=float)


def sweep_focus(table: pd.DataFrame, focus: str | None = None) -> tuple[str, str]:
    """The demand row (node, product) a sweep's tornado chart is about: ``focus``
    (``NODE`` or ``NODE:PRODUCT``), else the row with the lowest mean fill rate;
    ("", "") when there is none."""
    kpi_rows = table[table["metric"] == "fill_rate"].groupby(["node", "product"], sort=False)["value"].mean() \
        if len(table) else pd.Series(dtype=float)
    if focus:
        node, _, product = focus.partition(":")
        return node, product or next((p for n, p in kpi_rows.index if n == node), "")
    if not len(kpi_rows):
        return "", ""
    node, product = kpi_rows.idxmin() if kpi_rows.notna().any() else kpi_rows.index[0]
    return str(node), str(product)


def save_sweep(out: Path, force: bool, scenario: Scenario, file: Path, table: pd.DataFrame,
               sens: pd.DataFrame | None, levers: Sequence[Lever], design: str, total: int, node: str, product: str,
               seed: int | None = None, replications: int | None = None, workers: int = 1) -> Path:
    """Write a sweep directory atomically: ``sweep.csv``, ``sensitivity.csv``, the
    manifest, and when there is a sensitivity the tornado chart (PNG, SVG, CSV)."""
    sens = pd.DataFrame() if sens is None else sens

    def write(folder: Path) -> None:
        write_csv(folder / "sweep.csv", table)
        write_csv(folder / "sensitivity.csv", sens)
        manifest = build_manifest(scenario, seed if seed is not None else scenario.seed,
                                  replications or scenario.replications, workers, 0.0)
        manifest.update({"kind": "sweep", "design": design, "samples": total,
                         "levers": [{"path": lv.path, "low": lv.value(lv.low), "high": lv.value(lv.high)}
                                    for lv in levers]})
        write_json(folder / "manifest.json", manifest)
        if len(sens):
            from .reporting.charts import save_tornado

            units = {pid: p.unit for pid, p in scenario.products.items()}
            source = f"Source: chipsim {__version__}; {file.name}; {total} samples ({design}), seed {manifest['seed']}."
            save_tornado(sens, node, units.get(product, product), source, folder / "charts")

    return write_atomically(out, force, write)

