"""Run directories: written atomically, read back for ``Results.load`` and ``chipsim report``.

Layout (``run`` and ``compare`` alike): ``timeseries.parquet`` (a ``variant`` column
when several scenarios were compared; every replication with ``keep="all"``, per-day
``stat`` rows mean/p05/p50/p95 with ``keep="summary"``), ``kpis.csv``,
``manifest.json``, the resolved scenario(s) (``scenario.yaml`` for a run;
``scenarios/<variant>.yaml`` for a comparison), ``per_replication.csv``,
``notes.json`` (the ASSUMPTION and source comments of the input files),
``headlines.csv`` when the scenarios declare headlines, for comparisons
``comparison.csv``, ``ranking.csv`` and ``headline_differences.csv``, then
``charts/``, ``briefing.html`` and ``briefing.pdf``, which ``chipsim report`` rebuilds
from the files alone.

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
from .provenance import scenario_yaml, source_notes
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
    ranking_notes: list[str]            # neighbours of the ranking that cannot be told apart
    focus: tuple[str, str] | None
    rank_by: str
    manifest: dict
    # headline, label, unit, mean, p05, p95, replications (compare: a ``variant`` column
    # first); None when the scenarios declare no headlines
    headlines: pd.DataFrame | None = None
    # paired headline differences option - base (compare only): variant, headline, label,
    # unit, base_mean, option_mean, difference, difference_low, difference_high, pairs
    headline_differences: pd.DataFrame | None = None
    # ASSUMPTION and source comments of the input files: dicts of file, line, kind
    # ("assumption" or "source"), text; saved in notes.json
    notes: list[dict] = field(default_factory=list)

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


class Steps:
    """Progress of writing a run directory, on stderr (as the simulation's): one line per
    step; silent when ``show`` is false."""

    def __init__(self, total: int, show: bool = True):
        self.total, self.show, self.started = total, show, False
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Steps:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description:<22}"), BarColumn(bar_width=30), MofNCompleteColumn(),
                                TextColumn("steps"), TimeElapsedColumn(), console=Console(stderr=True))
            self.bar.__enter__()
            self.task = self.bar.add_task("Writing", total=self.total)
        return self

    def step(self, text: str) -> None:
        """Finish the step under way (if any) and start ``text``."""
        if self.bar is not None and self.task is not None:
            if self.started:
                self.bar.advance(self.task)
            self.bar.update(self.task, description=text)
        self.started = True

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None and self.task is not None:
            if exc[0] is None:
                self.bar.update(self.task, completed=self.total, description="Written")
            self.bar.__exit__(*exc)


def _step(steps: Steps | None, text: str) -> None:
    if steps is not None:
        steps.step(text)


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
                   pd.DataFrame(), pd.DataFrame(), [], None, "shortfall", results.manifest,
                   headlines=getattr(results, "headlines", None), notes=source_notes(results.scenario))


def run_data_from_comparison(comp: Comparison) -> RunData:
    """RunData of a comparison held in memory."""
    variants = [VariantData(v.id, v.label, v.results.scenario, v.results.manifest.get("inputs", [])) for v in comp.variants]
    notes = [note for v in comp.variants for note in source_notes(v.results.scenario)]
    unique = list({(n["file"], n["line"]): n for n in notes}.values())
    return RunData("compare", variants, comp.timeseries(), comp.table, comp.differences, comp.ranking, comp.notes,
                   comp.focus, comp.rank_by, comp.manifest, headlines=comp.headlines,
                   headline_differences=comp.headline_differences, notes=unique)


def _write_common(folder: Path, data: RunData, manifest: dict) -> None:
    """Tables every directory has besides the daily table: outcomes, headlines, notes, manifest."""
    data.table.to_csv(folder / "per_replication.csv", index=False)
    if data.headlines is not None:
        data.headlines.to_csv(folder / "headlines.csv", index=False)
    if data.headline_differences is not None:
        data.headline_differences.to_csv(folder / "headline_differences.csv", index=False)
    write_json(folder / "notes.json", {"notes": data.notes})
    write_json(folder / "manifest.json", manifest)
    data.manifest = manifest


def save_run(results: Results, out: Path, force: bool = False, report: ReportWriter | None = None,
             steps: Steps | None = None) -> Path:
    """Write a ``chipsim run`` directory; ``report(data, folder)`` adds charts and briefing."""
    data = run_data_from_results(results)
    manifest = dict(results.manifest, kind="run",
                    variants=[{"id": data.base.id, "label": data.base.label, "scenario": "scenario.yaml",
                               "inputs": data.base.inputs}])

    def write(folder: Path) -> None:
        _step(steps, "Writing tables")
        results.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
        results.kpis.to_csv(folder / "kpis.csv", index=False)
        (folder / "scenario.yaml").write_text(scenario_yaml(results.scenario), encoding="utf-8")
        _write_common(folder, data, manifest)
        if report is not None:
            report(data, folder)
        else:
            (folder / "charts").mkdir()

    return write_atomically(out, force, write)


def save_comparison(comp: Comparison, out: Path, force: bool = False, report: ReportWriter | None = None,
                    steps: Steps | None = None) -> Path:
    """Write a ``chipsim compare`` directory; ``report(data, folder)`` adds charts and briefing."""
    data = run_data_from_comparison(comp)
    manifest = dict(comp.manifest)
    manifest["variants"] = [dict(v, scenario=f"scenarios/{v['id']}.yaml") for v in comp.manifest["variants"]]

    def write(folder: Path) -> None:
        _step(steps, "Writing tables")
        data.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
        comp.kpis().to_csv(folder / "kpis.csv", index=False)
        comp.differences.to_csv(folder / "comparison.csv", index=False)
        comp.ranking.to_csv(folder / "ranking.csv", index=False)
        (folder / "scenarios").mkdir()
        for v in comp.variants:
            (folder / "scenarios" / f"{v.id}.yaml").write_text(scenario_yaml(v.results.scenario), encoding="utf-8")
        _write_common(folder, data, manifest)
        if report is not None:
            report(data, folder)
        else:
            (folder / "charts").mkdir()

    return write_atomically(out, force, write)


def _read_manifest(folder: Path) -> dict:
    """The manifest of a saved directory, refusing folders ``report`` cannot rebuild."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChipsimUserError(f"{folder} is not a chipsim run directory (missing manifest.json)") from None
    except (OSError, ValueError) as exc:
        raise ChipsimUserError(f"cannot read the run directory {folder}: {exc}") from None
    if not isinstance(manifest, dict):
        raise ChipsimUserError(f"{folder}/manifest.json is not a chipsim manifest")
    if manifest.get("kind") == "sweep":
        raise ChipsimUserError(f"{folder} is a sweep folder (sweep.csv, sensitivity.csv, charts/tornado.*); `chipsim "
                               "report` rebuilds run and compare folders only; rerun `chipsim sweep` to redraw its chart")
    missing = [name for name in ("timeseries.parquet",) if not (folder / name).exists()]
    entries = manifest.get("variants") or [{"scenario": "scenario.yaml"}]
    missing += [str(e.get("scenario")) for e in entries
                if not isinstance(e, dict) or not e.get("scenario") or not (folder / str(e["scenario"])).exists()]
    if missing:
        raise ChipsimUserError(f"{folder} lacks {', '.join(dict.fromkeys(missing))}, which `chipsim report` rebuilds "
                               "from (a published sample keeps only its briefing and tables); rerun the command "
                               "that made it to get a full run directory")
    return manifest


def read_manifest_and_timeseries(folder: Path) -> tuple[dict, pd.DataFrame]:
    """The manifest and the daily table of a saved directory, as written."""
    manifest = _read_manifest(folder)
    try:
        ts = pd.read_parquet(folder / "timeseries.parquet")
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


def _optional_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None


def _saved_notes(folder: Path) -> list[dict]:
    path = folder / "notes.json"
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("notes", []))
    except (OSError, ValueError, AttributeError):
        return []


def load_run(folder: Path) -> RunData:
    """Read a saved run or comparison directory back (no simulation); the daily table may
    be either form (every replication, or per-day ``stat`` rows of a summary run)."""
    folder = Path(folder)
    manifest, ts = read_manifest_and_timeseries(folder)
    variants = read_variants(folder, manifest)
    ids = [v.id for v in variants]
    if "variant" not in ts.columns:
        ts = ts.assign(variant=ids[0])
    ts["variant"] = pd.Categorical(ts["variant"], categories=ids)
    for col in ("node", "product", "metric"):
        ts[col] = ts[col].astype("category")
    if manifest.get("keep") == "summary" or "replication" not in ts.columns:
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
    return RunData(kind, variants, ts, table, diffs, ranked, notes, focus, rank_by, manifest,
                   headlines=_optional_csv(folder / "headlines.csv"),
                   headline_differences=_optional_csv(folder / "headline_differences.csv"), notes=_saved_notes(folder))
