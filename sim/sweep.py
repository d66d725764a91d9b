"""Sweeps over shock and policy levers: sample, run, tabulate, rank sensitivities.

``--vary PATH=LOW:HIGH`` names any numeric field of the resolved scenario by its dotted
path (``shocks.0.leakage``, ``nodes.jp_magnets.capacity``, ``policies.1.rate``).
Samples come from a Latin hypercube (scipy.stats.qmc) or a full grid; every sample runs
on the same seed, so differences between samples are not replication noise.
"""
from __future__ import annotations

import copy
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy.stats import qmc

from .errors import ChipsimUserError, did_you_mean
from .experiment import run as run_scenario
from .schema import Scenario

_VARY = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Lever:
    """One varied parameter: a dotted path into the scenario document and its range."""

    path: str
    low: float
    high: float


def parse_vary(text: str) -> Lever:
    """``PATH=LOW:HIGH`` -> Lever."""
    match = _VARY.match(text)
    if not match:
        raise ChipsimUserError(f"--vary {text!r}: write PATH=LOW:HIGH, e.g. shocks.0.leakage=0:0.2")
    low, high = float(match.group(2)), float(match.group(3))
    if not low < high:
        raise ChipsimUserError(f"--vary {text!r}: LOW must be below HIGH")
    return Lever(match.group(1), low, high)


def _set(doc: dict, path: str, value: float) -> None:
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
    return low + unit * (high - low)


def sweep(scenario: Scenario, levers: Sequence[Lever], n: int = 20, design: str = "lhs",
          replications: Optional[int] = None, seed: Optional[int] = None, workers: int = 1,
          progress=None) -> pd.DataFrame:
    """Run every sample; return one tidy table: sample, each lever's value, node, product,
    metric, value (mean over replications) for every demand row's KPIs."""
    if not levers:
        raise ChipsimUserError("sweep needs at least one --vary PATH=LOW:HIGH")
    reps = replications or scenario.replications
    seed = scenario.seed if seed is None else seed
    points = samples(levers, n, design, seed)
    base = scenario.to_document()
    rows = []
    for k, values in enumerate(points):
        doc = copy.deepcopy(base)
        for lever, value in zip(levers, values):
            _set(doc, lever.path, float(value))
        try:
            variant = Scenario.model_validate(doc)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ChipsimUserError(f"sample {k}: {'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')} "
                                   f"(check the --vary ranges)") from None
        results = run_scenario(variant, replications=reps, seed=seed, workers=workers)
        for _, row in results.kpis.iterrows():
            for metric in ("shortfall", "fill_rate", "time_to_survive_days", "time_to_recover_days", "delivered"):
                rows.append({"sample": k, **{lv.path: float(v) for lv, v in zip(levers, values)},
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
    x = rows[[lv.path for lv in levers]].to_numpy(float)
    y = rows["value"].to_numpy(float)
    if len(y) <= len(levers):
        raise ChipsimUserError(f"{len(y)} samples cannot fit {len(levers)} levers; use more --samples")
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    mid = np.array([(lv.low + lv.high) / 2 for lv in levers])
    centre = float(coef[0] + coef[1:] @ mid)
    out = []
    for i, lv in enumerate(levers):
        at_low = centre + coef[1 + i] * (lv.low - mid[i])
        at_high = centre + coef[1 + i] * (lv.high - mid[i])
        out.append({"lever": lv.path, "low": lv.low, "high": lv.high, "kpi_at_low": at_low, "kpi_at_high": at_high,
                    "effect": at_high - at_low})
    result = pd.DataFrame(out)
    result["centre"] = centre
    return result.reindex(result["effect"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def tornado_chart(sens: pd.DataFrame, node: str, unit: str, metric: str, source: str):
    """Bars from the KPI at each lever's LOW to its HIGH, largest effect on top."""
    import matplotlib.pyplot as plt

    from .reporting.style import PALETTE, use_style

    use_style()
    fig, ax = plt.subplots(figsize=(10, 1.6 + 0.55 * len(sens)))
    centre = float(sens["centre"].iloc[0]) if len(sens) else 0.0
    for i, row in sens.iterrows():
        lo, hi = row["kpi_at_low"], row["kpi_at_high"]
        ax.barh(i, hi - lo, left=lo, color=PALETTE[1] if hi > lo else PALETTE[2], height=0.6)
        ax.annotate(f"{row['low']:g}", (lo, i), xytext=(-4, 0), textcoords="offset points", ha="right" if hi >= lo else "left", va="center", fontsize=8)
        ax.annotate(f"{row['high']:g}", (hi, i), xytext=(4, 0), textcoords="offset points", ha="left" if hi >= lo else "right", va="center", fontsize=8)
    ax.axvline(centre, color="#333333", lw=1)
    ax.set_yticks(range(len(sens)), sens["lever"])
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"{metric.replace('_', ' ')} at {node} ({unit}); bar from the lever's low to its high value")
    top = sens.iloc[0] if len(sens) else None
    title = (f"{top['lever']} moves {metric.replace('_', ' ')} at {node} most: {top['effect']:+,.4g} {unit} across its range"
             if top is not None else "No levers")
    import textwrap
    ax.set_title(textwrap.fill(title, 95))
    fig.text(0.01, 0.01, source, fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.28, right=0.95, bottom=0.22 if len(sens) < 4 else 0.12, top=0.85)
    return fig
