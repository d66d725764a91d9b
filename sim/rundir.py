"""Run directories: written atomically, read back for ``Results.load`` and ``chipsim report``.

Layout (``run`` and ``compare`` alike): ``timeseries.parquet`` (a ``variant`` column
when several scenarios were compared), ``kpis.csv``, ``manifest.json``, the resolved
scenario(s) (``scenario.yaml`` for a run; ``scenarios/<variant>.yaml`` for a
comparison), ``per_replication.csv``, for comparisons ``comparison.csv`` and
``ranking.csv``, then ``charts/``, ``briefing.html`` and ``briefing.pdf``, which
``chipsim report`` rebuilds from the files alone.

Data only: the report (charts, briefing) is passed in as a writer, so this module never
draws, and it never runs a simulation.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import ChipsimUserError, ScenarioError
from .loader import load_scenario
from .provenance import scenario_yaml
from .statistics import differences, outcomes, ranking

if TYPE_CHECKING:
    from .compare import Comparison
    from .results import Results
    from .schema import Scenario

ReportWriter = Callable[["RunData", Path], Any]


@dataclass
class VariantData:
    """One scenario of a saved run: its id, label, resolved scenario and input files."""

    id: str
    label: str
    scenario: Scenario
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
    focus: tuple[str, str] | None
    rank_by: str
    manifest: dict

    @property
    def base(self) -> VariantData:
        """The first variant, which the others are compared against."""
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


def write_json(path: Path, data: dict) -> None:
    """``data`` as indented JSON (dates and paths as strings)."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def run_data_from_results(results: Results) -> RunData:
    """RunData of a single run held in memory."""
    inputs = results.manifest.get("inputs", [])
    vid = Path(inputs[0]["path"]).stem if inputs else "scenario"
    ts = results.timeseries.assign(variant=pd.Categorical([vid] * len(results.timeseries), categories=[vid]))
    if results.per_replication is not None:  # summary mode: the daily table no longer has replications
        table = results.per_replication.assign(variant=vid)
    else:
        table = outcomes(ts, results.scenario).assign(variant=vid)
    return RunData("run", [VariantData(vid, results.scenario.name, results.scenario, inputs)], ts, table,
                   pd.DataFrame(), pd.DataFrame(), [], None, "shortfall", results.manifest)


def run_data_from_comparison(comp: Comparison) -> RunData:
    """RunData of a comparison held in memory."""
    variants = [VariantData(v.id, v.label, v.results.scenario, v.results.manifest.get("inputs", [])) for v in comp.variants]
    return RunData("compare", variants, comp.timeseries(), comp.table, comp.differences, comp.ranking, comp.notes,
                   comp.focus, comp.rank_by, comp.manifest)


def save_run(results: Results, out: Path, force: bool = False, report: ReportWriter | None = None) -> Path:
    """Write a ``chipsim run`` directory; ``report(data, folder)`` adds charts and briefing."""
    data = run_data_from_results(results)
    manifest = dict(results.manifest, kind="run",
                    variants=[{"id": data.base.id, "label": data.base.label, "scenario": "scenario.yaml",
                               "inputs": data.base.inputs}])

    def write(folder: Path) -> None:
        results.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
        results.kpis.to_csv(folder / "kpis.csv", index=False)
        data.table.to_csv(folder / "per_replication.csv", index=False)
        (folder / "scenario.yaml").write_text(scenario_yaml(results.scenario), encoding="utf-8")
        write_json(folder / "manifest.json", manifest)
        data.manifest = manifest
        if report is not None:
            report(data, folder)
        else:
            (folder / "charts").mkdir()

    return write_atomically(out, force, write)


def save_comparison(comp: Comparison, out: Path, force: bool = False, report: ReportWriter | None = None) -> Path:
    """Write a ``chipsim compare`` directory; ``report(data, folder)`` adds charts and briefing."""
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
        write_json(folder / "manifest.json", manifest)
        data.manifest = manifest
        if report is not None:
            report(data, folder)

    return write_atomically(out, force, write)


def read_manifest_and_timeseries(folder: Path) -> tuple[dict, pd.DataFrame]:
    """The manifest and the daily table of a saved directory, as written."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        ts = pd.read_parquet(folder / "timeseries.parquet")
    except FileNotFoundError as exc:
        raise ChipsimUserError(f"{folder} is not a chipsim run directory (missing {Path(exc.filename).name})") from None
    except (OSError, ValueError) as exc:
        raise ChipsimUserError(f"cannot read the run directory {folder}: {exc}") from None
    return manifest, ts


def read_variants(folder: Path, manifest: dict) -> list[VariantData]:
    """The saved scenarios of a directory, loaded again (no simulation)."""
    entries = manifest.get("variants") or [{"id": "scenario", "label": manifest.get("scenario", ""), "scenario": "scenario.yaml"}]
    variants = []
    for entry in entries:
        try:
            sc = load_scenario(folder / entry["scenario"])
        except ScenarioError as exc:
            raise ChipsimUserError(f"the saved scenario {entry['scenario']} no longer loads: {exc.problems[0]}") from None
        variants.append(VariantData(entry["id"], entry.get("label", sc.name), sc, entry.get("inputs", [])))
    return variants


def load_run(folder: Path) -> RunData:
    """Read a saved run or comparison directory back (no simulation)."""
    folder = Path(folder)
    manifest, ts = read_manifest_and_timeseries(folder)
    variants = read_variants(folder, manifest)
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
    diffs, ranked = pd.DataFrame(), pd.DataFrame()
    notes: list[str] = []
    focus: tuple[str, str] | None = None
    rank_by = manifest.get("rank_by", "shortfall")
    if kind == "compare" and len(variants) > 1:
        node, product = manifest.get("focus") or ("", "")
        focus = (node, product)
        diffs = differences(table, ids[0])
        ranked, notes = ranking(table, ids, node, product, rank_by, {v.id: v.label for v in variants})
    return RunData(kind, variants, ts, table, diffs, ranked, notes, focus, rank_by, manifest)
