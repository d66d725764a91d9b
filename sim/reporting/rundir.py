"""Run directories: written atomically, read back for ``chipsim report``.

Layout (``run`` and ``compare`` alike): ``timeseries.parquet`` (a ``variant`` column
when several scenarios were compared), ``kpis.csv``, ``manifest.json``, the resolved
scenario(s) (``scenario.yaml`` for a run; ``scenarios/<variant>.yaml`` for a
comparison), ``per_replication.csv``, for comparisons ``comparison.csv`` and
``ranking.csv``, then ``charts/``, ``briefing.html`` and ``briefing.pdf``, which
``chipsim report`` rebuilds from the files alone.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pandas as pd

from ..errors import ChipsimUserError, ScenarioError


@dataclass
class VariantData:
    id: str
    label: str
    scenario: object          # sim.schema.Scenario
    inputs: list = field(default_factory=list)


@dataclass
class RunData:
    """Everything a report needs, from memory or from a saved directory."""

    kind: str                           # "run" or "compare"
    variants: list[VariantData]
    timeseries: pd.DataFrame            # with a categorical ``variant`` column
    table: pd.DataFrame                 # per replication outcomes, with ``variant``
    differences: pd.DataFrame
    ranking: pd.DataFrame
    notes: list[str]
    focus: Optional[tuple[str, str]]
    rank_by: str
    manifest: dict

    @property
    def base(self) -> VariantData:
        return self.variants[0]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(out: Path, force: bool, writer: Callable[[Path], None]) -> Path:
    """Build the directory in a temporary folder beside ``out``, then rename it into place."""
    if out.exists() and not force:
        raise ChipsimUserError(f"{out} already exists; choose another --out or pass --force to replace it")
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    except OSError as exc:
        raise ChipsimUserError(f"cannot create the run directory in {parent}: {exc.strerror or exc}") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        writer(tmp)
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            os.rename(out, trash / out.name)
            os.rename(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ChipsimUserError(f"cannot write the run directory {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def run_data_from_results(results) -> RunData:
    """RunData of a single run held in memory."""
    from ..compare import outcomes

    inputs = results.manifest.get("inputs", [])
    vid = Path(inputs[0]["path"]).stem if inputs else "scenario"
    ts = results.timeseries.assign(variant=pd.Categorical([vid] * len(results.timeseries), categories=[vid]))
    if results.per_replication is not None:  # summary mode: the daily table no longer has replications
        table = results.per_replication.assign(variant=vid)
    else:
        table = outcomes(ts, results.scenario).assign(variant=vid)
    return RunData("run", [VariantData(vid, results.scenario.name, results.scenario, inputs)], ts, table,
                   pd.DataFrame(), pd.DataFrame(), [], None, "shortfall", results.manifest)


def run_data_from_comparison(comp) -> RunData:
    variants = [VariantData(v.id, v.label, v.results.scenario, v.results.manifest.get("inputs", [])) for v in comp.variants]
    return RunData("compare", variants, comp.timeseries(), comp.table, comp.differences, comp.ranking, comp.notes,
                   comp.focus, comp.rank_by, comp.manifest)


def save_run(results, out: Path, force: bool = False, report: bool = True) -> Path:
    """Write a ``chipsim run`` directory."""
    from ..results import scenario_yaml

    data = run_data_from_results(results)
    manifest = dict(results.manifest, kind="run",
                    variants=[{"id": data.base.id, "label": data.base.label, "scenario": "scenario.yaml",
                               "inputs": data.base.inputs}])

    def write(folder: Path) -> None:
        results.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
        results.kpis.to_csv(folder / "kpis.csv", index=False)
        data.table.to_csv(folder / "per_replication.csv", index=False)
        (folder / "scenario.yaml").write_text(scenario_yaml(results.scenario), encoding="utf-8")
        _json(folder / "manifest.json", manifest)
        data.manifest = manifest
        if report:
            build_report(data, folder)
        else:
            (folder / "charts").mkdir()

    return write_atomically(out, force, write)


def save_comparison(comp, out: Path, force: bool = False, report: bool = True) -> Path:
    """Write a ``chipsim compare`` directory."""
    from ..results import scenario_yaml

    data = run_data_from_comparison(comp)
    manifest = dict(comp.manifest)
    manifest["variants"] = [dict(v, scenario=f"scenarios/{v['id']}.yaml") for v in comp.manifest["variants"]]

    def write(folder: Path) -> None:
        data.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
        comp.kpis().to_csv(folder / "kpis.csv", index=False)
        comp.table.to_csv(folder / "per_replication.csv", index=False)
        comp.differences.to_csv(folder / "comparison.csv", index=False)
        comp.ranking.to_csv(folder / "ranking.csv", index=False)
        (folder / "scenarios").mkdir()
        for v in comp.variants:
            (folder / "scenarios" / f"{v.id}.yaml").write_text(scenario_yaml(v.results.scenario), encoding="utf-8")
        _json(folder / "manifest.json", manifest)
        data.manifest = manifest
        if report:
            build_report(data, folder)

    return write_atomically(out, force, write)


def load_run(folder: Path) -> RunData:
    """Read a saved run or comparison directory back (no simulation)."""
    from ..compare import differences, outcomes, ranking
    from ..loader import load_scenario

    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        ts = pd.read_parquet(folder / "timeseries.parquet")
    except FileNotFoundError as exc:
        raise ChipsimUserError(f"{folder} is not a chipsim run directory (missing {Path(exc.filename).name})") from None
    except (OSError, ValueError) as exc:
        raise ChipsimUserError(f"cannot read the run directory {folder}: {exc}") from None
    entries = manifest.get("variants") or [{"id": "scenario", "label": manifest.get("scenario", ""), "scenario": "scenario.yaml"}]
    variants = []
    for entry in entries:
        try:
            sc = load_scenario(folder / entry["scenario"])
        except ScenarioError as exc:
            raise ChipsimUserError(f"the saved scenario {entry['scenario']} no longer loads: {exc.problems[0]}") from None
        variants.append(VariantData(entry["id"], entry.get("label", sc.name), sc, entry.get("inputs", [])))
    ids = [v.id for v in variants]
    if "variant" not in ts.columns:
        ts = ts.assign(variant=ids[0])
    ts["variant"] = pd.Categorical(ts["variant"], categories=ids)
    for col in ("node", "product", "metric"):
        ts[col] = ts[col].astype("category")
    if manifest.get("keep") == "summary":
        table = pd.read_csv(folder / "per_replication.csv")
        if "variant" not in table.columns:
            table = table.assign(variant=ids[0])
    else:
        table = pd.concat([outcomes(ts[ts["variant"] == v.id], v.scenario).assign(variant=v.id) for v in variants],
                          ignore_index=True)
    kind = manifest.get("kind", "run")
    diffs, ranked, notes, focus = pd.DataFrame(), pd.DataFrame(), [], None
    rank_by = manifest.get("rank_by", "shortfall")
    if kind == "compare" and len(variants) > 1:
        focus = tuple(manifest.get("focus") or ())
        diffs = differences(table, ids[0])
        ranked, notes = ranking(table, ids, focus[0], focus[1], rank_by, {v.id: v.label for v in variants})
    return RunData(kind, variants, ts, table, diffs, ranked, notes, focus, rank_by, manifest)


def build_report(data: RunData, folder: Path) -> list[Path]:
    """Charts (PNG, SVG, CSV) and the briefing (HTML, PDF) into ``folder``."""
    from .briefing import write_briefing
    from .charts import save_charts

    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    made = save_charts(data, charts)
    return made + write_briefing(data, folder, made)
