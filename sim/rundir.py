"""Run directories: written atomically, read back for ``Results.load`` and ``chipsim report``.

Layout (``run`` and ``compare`` alike): ``timeseries.parquet`` (a ``variant`` column when several scenarios were
compared; every replication with ``keep="all"``, per-day ``stat`` rows mean/p05/p50/p95 with ``keep="summary"``),
``kpis.csv``, ``manifest.json``, the resolved scenario(s) (``scenario.yaml`` for a run; ``scenarios/<variant>.yaml``
for a comparison), ``per_replication.csv``, ``notes.json`` (the ASSUMPTION and source comments of the input files),
``headlines.csv`` when the scenarios declare headlines, ``triggers.csv`` when a run's policies wait for a trigger, for
comparisons ``comparison.csv``, ``ranking.csv`` and ``headline_differences.csv``, then ``charts/``, ``briefing.html``
and ``briefing.pdf``, which ``chipsim report`` rebuilds from the files alone.

Data only: the report (charts, briefing) is passed in as a writer, so this module never draws, and it never runs a
simulation; a writer with ``begin`` draws beside the tables (in another process: ``sim.reporting.background``).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .atomicfolder import MANIFEST_LIMIT  # bytes: manifest.json, notes.json
from .atomicfolder import check_keeps_inputs as check_keeps_inputs  # re-exported: the commands import these here
from .atomicfolder import check_replaceable as check_replaceable
from .atomicfolder import is_chipsim_folder as is_chipsim_folder
from .atomicfolder import write_atomically as write_atomically
from .errors import ChipsimUserError, ScenarioError
from .leftovers import sweep_killed
from .loader import load_scenario, scenario_sources
from .provenance import owner_tag, scenario_yaml, source_notes
from .safefs import UnsafePath, read_regular, real_folder, rename_no_replace, write_text
from .sanitize import for_csv
from .statistics import differences, outcomes, ranking
from .triggers import triggered_policies, typed_triggers

if TYPE_CHECKING:
    from .comparison import Comparison
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
    # headline, label, unit, mean, p05, p95, replications (compare: ``variant`` first); None without headlines
    headlines: pd.DataFrame | None = None
    # option - base (compare only): variant, headline, label, unit, base_mean, option_mean, difference(_low, _high), pairs
    headline_differences: pd.DataFrame | None = None
    # ASSUMPTION and source comments of the input files: {file, line, kind ("assumption"/"source"), text}; notes.json
    notes: list[dict] = field(default_factory=list)
    triggers: pd.DataFrame | None = None  # triggered policies' fired and start days (sim.triggers)
    drivers: pd.DataFrame | None = None   # drivers/drivers.csv of `chipsim run --drivers` (sim.drivers)

    @property
    def base(self) -> VariantData:
        """The first variant, which the others are compared against."""
        return self.variants[0]


SCENARIO_LIMIT = 16 * 2**20       # a saved scenario
TABLE_LIMIT = 4 * 2**30           # timeseries.parquet and the CSV tables
_VARIANT_ID = re.compile(r"[A-Za-z0-9_.-]+")


def read_bytes(folder: Path, name: str, limit: int) -> bytes:
    """The bytes of ``folder/name``, a regular file of at most ``limit`` bytes; a symlink,
    FIFO, device or folder is a user error at once (``FileNotFoundError`` passes)."""
    try:
        return read_regular(folder / name, limit)
    except FileNotFoundError:
        raise
    except UnsafePath as exc:
        raise ChipsimUserError(f"{folder / name} {exc.strerror}; refusing to read it") from None
    except OSError as exc:
        raise ChipsimUserError(f"cannot read {folder / name}: {exc.strerror or exc}") from None


def _move_into(stage: Path, folder: Path) -> None:
    """Rename what ``stage`` holds into ``folder``, each entry whole: a planted symlink is
    replaced itself (never followed), an old ``charts/`` is swapped for the new one."""
    names = sorted(os.listdir(stage), key=lambda n: (n != "charts", n == "briefing.pdf", n))
    for name in names:
        src, dst = stage / name, folder / name
        if name == "charts":
            if real_folder(dst):
                os.rename(dst, stage / ".old-charts")
            elif os.path.lexists(dst):
                os.unlink(dst)  # a symlink or a file: removed itself, never followed
            rename_no_replace(src, dst)
        else:
            os.replace(src, dst)


def rebuild_report(folder: Path, data: RunData, report: ReportWriter) -> list[Path]:
    """Write a report beside the old one in a temporary folder inside ``folder``, then
    rename each part into place, so a kill mid-report leaves the old files whole."""
    sweep_killed(folder, ".report.partial-", "run")
    stage = Path(tempfile.mkdtemp(prefix=f".report.partial-{owner_tag()}", dir=folder))
    try:
        made = report(data, stage)
        _move_into(stage, folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [folder / Path(p).relative_to(stage) for p in made]


def _csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith("'"):
        return "'" + value  # so that reading back strips exactly one apostrophe
    return for_csv(value)


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV whose text cells (and headers) a spreadsheet shows as text, never
    evaluates: one leading apostrophe before ``= + - @``, and before an apostrophe."""
    text_cols = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
                 and not pd.api.types.is_datetime64_any_dtype(frame[c])]
    safe = frame.astype({c: object for c in text_cols}) if text_cols else frame.copy()
    for col in text_cols:
        safe[col] = safe[col].map(_csv_cell)
    safe.columns = [_csv_cell(c) for c in frame.columns]
    return safe.to_csv(index=False)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """``csv_text(frame)`` written through a temporary file and renamed into place."""
    write_text(path, csv_text(frame))


def _uncsv_cell(value: object) -> object:
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def write_json(path: Path, data: dict) -> None:
    """``data`` as indented JSON (dates and paths as strings)."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def _tables_beside(report: ReportWriter | None, data: RunData, manifest: dict, folder: Path, steps: Any) -> Iterator[None]:
    """Around writing the tables: a report with ``begin`` (``sim.reporting.background``)
    starts first and is cancelled if they fail; any other is called after them."""
    data.manifest = manifest
    if steps is not None:
        steps.step("Writing tables")
    begin = getattr(report, "begin", None)
    if begin is not None:
        begin(data, folder)
    try:
        yield
    except BaseException:
        getattr(report, "cancel", lambda: None)()
        raise


def run_data_from_results(results: Results) -> RunData:
    """RunData of a single run held in memory."""
    inputs = results.manifest.get("inputs", [])
    vid = Path(inputs[0]["path"]).stem if inputs else "scenario"
    ts = results.timeseries.assign(variant=pd.Categorical.from_codes(np.zeros(len(results.timeseries), np.int8), [vid]))
    if results.per_replication is not None:  # summary mode: the daily table no longer has replications
        table = results.per_replication.assign(variant=vid)
    else:
        table = outcomes(ts, results.scenario).assign(variant=vid)
    return RunData("run", [VariantData(vid, results.scenario.name, results.scenario, inputs)], ts, table,
                   pd.DataFrame(), pd.DataFrame(), [], None, "shortfall", results.manifest,
                   headlines=getattr(results, "headlines", None), notes=source_notes(results.scenario),
                   triggers=results.triggers if triggered_policies(results.scenario) else None)


def run_data_from_comparison(comp: Comparison) -> RunData:
    """RunData of a comparison held in memory."""
    variants = [VariantData(v.id, v.label, v.results.scenario, v.results.manifest.get("inputs", [])) for v in comp.variants]
    notes = [note for v in comp.variants for note in source_notes(v.results.scenario)]
    unique = list({(n["file"], n["line"]): n for n in notes}.values())
    return RunData("compare", variants, comp.timeseries(), comp.table, comp.differences, comp.ranking, comp.notes,
                   comp.focus, comp.rank_by, comp.manifest, headlines=comp.headlines,
                   headline_differences=comp.headline_differences, notes=unique)


def _write_common(folder: Path, data: RunData, manifest: dict, report: ReportWriter | None) -> None:
    """What every directory has besides its daily table and scenarios: outcomes, headlines,
    notes, the manifest, then the report (or an empty ``charts/`` without one)."""
    write_csv(folder / "per_replication.csv", data.table)
    if data.headlines is not None:
        write_csv(folder / "headlines.csv", data.headlines)
    if data.headline_differences is not None:
        write_csv(folder / "headline_differences.csv", data.headline_differences)
    write_json(folder / "notes.json", {"notes": data.notes})
    write_json(folder / "manifest.json", manifest)
    if report is not None:
        report(data, folder)
    else:
        (folder / "charts").mkdir()


def save_run(results: Results, out: Path, force: bool = False, report: ReportWriter | None = None,
             steps: Any = None) -> Path:
    """Write a ``chipsim run`` directory; ``report(data, folder)`` adds charts and briefing."""
    data = run_data_from_results(results)
    manifest = dict(results.manifest, kind="run",
                    variants=[{"id": data.base.id, "label": data.base.label, "scenario": "scenario.yaml",
                               "inputs": data.base.inputs}])

    def write(folder: Path) -> None:
        with _tables_beside(report, data, manifest, folder, steps):
            results.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
            write_csv(folder / "kpis.csv", results.kpis)
            write_text(folder / "scenario.yaml", scenario_yaml(results.scenario))
            if data.triggers is not None:
                write_csv(folder / "triggers.csv", data.triggers)
            _write_common(folder, data, manifest, report)

    return write_atomically(out, force, write)


def save_comparison(comp: Comparison, out: Path, force: bool = False, report: ReportWriter | None = None,
                    steps: Any = None) -> Path:
    """Write a ``chipsim compare`` directory; ``report(data, folder)`` adds charts and briefing."""
    data = run_data_from_comparison(comp)
    manifest = dict(comp.manifest)
    manifest["variants"] = [dict(v, scenario=f"scenarios/{v['id']}.yaml") for v in comp.manifest["variants"]]

    def write(folder: Path) -> None:
        with _tables_beside(report, data, manifest, folder, steps):
            data.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
            write_csv(folder / "kpis.csv", comp.kpis())
            write_csv(folder / "comparison.csv", comp.differences)
            write_csv(folder / "ranking.csv", comp.ranking)
            (folder / "scenarios").mkdir()
            for v in comp.variants:
                write_text(folder / "scenarios" / f"{v.id}.yaml", scenario_yaml(v.results.scenario))
            _write_common(folder, data, manifest, report)

    return write_atomically(out, force, write)


def _bad(folder: Path, name: str, what: str) -> ChipsimUserError:
    return ChipsimUserError(f"{folder / name} {what}; `chipsim report` cannot rebuild from this folder")


def _check_variants(folder: Path, manifest: dict) -> None:
    entries = manifest.get("variants")
    if entries is None:
        return
    if not isinstance(entries, list) or not entries:
        raise _bad(folder, "manifest.json", "has no list of variants")
    for entry in entries:
        vid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(vid, str) or not _VARIANT_ID.fullmatch(vid) or vid in (".", ".."):
            raise _bad(folder, "manifest.json", "names a variant without a file-name-safe id")
        if not isinstance(entry.get("label", ""), str) or not isinstance(entry.get("inputs", []), list):
            raise _bad(folder, "manifest.json", f"has a malformed entry for the variant {vid}")


def _read_manifest(folder: Path) -> dict:
    """The manifest of a saved directory, refusing folders ``report`` cannot rebuild."""
    if not folder.is_dir():  # DIR itself may be a link the user chose; links inside it are not followed
        raise ChipsimUserError(f"{folder} is not a chipsim run directory (not a folder)")
    try:
        manifest = json.loads(read_bytes(folder, "manifest.json", MANIFEST_LIMIT))
    except FileNotFoundError:
        raise ChipsimUserError(f"{folder} is not a chipsim run directory (missing manifest.json)") from None
    except ValueError as exc:
        raise _bad(folder, "manifest.json", f"is not valid JSON ({exc})") from None
    except RecursionError:  # nested deeper than json parses: not anything chipsim wrote
        raise _bad(folder, "manifest.json", "is not a chipsim manifest (nested too deep)") from None
    if not isinstance(manifest, dict):
        raise _bad(folder, "manifest.json", "is not a chipsim manifest (not a JSON object)")
    if manifest.get("kind") == "sweep":
        raise ChipsimUserError(f"{folder} is a sweep folder (sweep.csv, sensitivity.csv, charts/tornado.*); `chipsim "
                               "report` rebuilds run and compare folders only; rerun `chipsim sweep` to redraw its chart")
    if manifest.get("kind", "run") not in ("run", "compare"):
        raise _bad(folder, "manifest.json", f"has an unknown kind {str(manifest.get('kind'))[:40]!r}")
    _check_variants(folder, manifest)
    for key, low, high in (("replications", 1, 100_000), ("seed", 0, None)):
        value = manifest.get(key)
        if value is not None and (type(value) is not int or value < low or (high is not None and value > high)):
            raise _bad(folder, "manifest.json", f"has a malformed {key} ({str(value)[:40]!r})")
    missing = [name for name in ["timeseries.parquet"] + [scenario_file(manifest, e) for e in _entries(manifest)]
               if not os.path.lexists(folder / name)]
    if missing:
        raise ChipsimUserError(f"{folder} lacks {', '.join(dict.fromkeys(missing))}, which `chipsim report` rebuilds "
                               "from (a published sample keeps only its briefing and tables); rerun the command "
                               "that made it to get a full run directory")
    return manifest


def _entries(manifest: dict) -> list[dict]:
    return manifest.get("variants") or [{"id": "scenario", "label": str(manifest.get("scenario", ""))}]


def scenario_file(manifest: dict, entry: dict) -> str:
    """The folder's own file of a variant's scenario: ``scenario.yaml`` for a run,
    ``scenarios/<id>.yaml`` for a comparison; never a path the manifest gives."""
    return f"scenarios/{entry['id']}.yaml" if manifest.get("kind") == "compare" else "scenario.yaml"


TIMESERIES_NEEDS = ("day", "date", "node", "product", "metric", "value")


# the columns of per_replication.csv that ``report`` reads (a "variant" column is added when absent)
PER_REPLICATION_NEEDS = ("replication", "node", "product", "unit", "metric", "value")


def read_table(folder: Path, name: str, needs: tuple[str, ...] = ()) -> pd.DataFrame:
    """A saved CSV or parquet table, read safely, with the columns ``needs``."""
    data = read_bytes(folder, name, TABLE_LIMIT)
    try:
        frame = pd.read_parquet(io.BytesIO(data)) if name.endswith(".parquet") else pd.read_csv(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - a tampered file fails in many ways; each is one line
        raise _bad(folder, name, f"cannot be read as a table ({type(exc).__name__})") from None
    if name.endswith(".csv"):  # undo csv_text's apostrophes
        frame.columns = [_uncsv_cell(c) for c in frame.columns]
        for col in frame.columns:
            if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
                frame[col] = frame[col].map(_uncsv_cell)
    lacking = [c for c in needs if c not in frame.columns]
    if lacking:
        raise _bad(folder, name, f"lacks the column{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}")
    return frame


def read_manifest_and_timeseries(folder: Path) -> tuple[dict, pd.DataFrame]:
    """The manifest and the daily table of a saved directory, as written."""
    manifest = _read_manifest(folder)
    ts = read_table(folder, "timeseries.parquet", TIMESERIES_NEEDS)
    if "replication" not in ts.columns and "stat" not in ts.columns:
        raise _bad(folder, "timeseries.parquet", "lacks the column replication (or stat)")
    return manifest, ts


def read_variants(folder: Path, manifest: dict) -> list[VariantData]:
    """The saved scenarios of a directory (the folder's own files), loaded again (no simulation)."""
    variants = []
    for entry in _entries(manifest):
        name = scenario_file(manifest, entry)
        sub = (folder / name).parent
        if sub != folder and not real_folder(sub):  # a planted symlink would lead the loader out of DIR
            raise _bad(folder, sub.name, "is not a folder (a symbolic link?); refusing to read it")
        read_bytes(folder, name, SCENARIO_LIMIT)  # refuses a symlink, FIFO or huge file before the loader opens it
        try:
            sc = load_scenario(folder / name)
        except ScenarioError as exc:
            raise ChipsimUserError(f"the saved scenario {folder / name} no longer loads: {exc.problems[0]}") from None
        variants.append(VariantData(str(entry["id"]), str(entry.get("label") or sc.name), sc,
                                    list(entry.get("inputs", []))))
    return variants


def read_triggers(folder: Path) -> pd.DataFrame | None:
    """``triggers.csv`` of a run directory, typed as ``Results.triggers`` (None without one)."""
    frame = _optional_csv(folder, "triggers.csv")
    return None if frame is None else typed_triggers(frame)


def _optional_csv(folder: Path, name: str) -> pd.DataFrame | None:
    return read_table(folder, name) if os.path.lexists(folder / name) else None


def read_drivers(folder: Path) -> pd.DataFrame | None:
    """``drivers/drivers.csv`` of a run directory (None without one); a ``drivers`` that is
    not a real folder (a planted symlink) is refused, not followed."""
    sub = folder / "drivers"
    if not os.path.lexists(sub):
        return None
    if not real_folder(sub):
        raise _bad(folder, "drivers", "is not a folder (a symbolic link?); refusing to read it")
    return _optional_csv(sub, "drivers.csv")


def _saved_notes(folder: Path) -> list[dict]:
    try:
        saved = json.loads(read_bytes(folder, "notes.json", MANIFEST_LIMIT))
    except FileNotFoundError:
        return []
    except (ValueError, RecursionError):
        raise _bad(folder, "notes.json", "is not valid JSON") from None
    notes = saved.get("notes", []) if isinstance(saved, dict) else None
    if not isinstance(notes, list) or not all(isinstance(n, dict) for n in notes):
        raise _bad(folder, "notes.json", "is not a list of notes")
    return notes


def load_run(folder: Path) -> RunData:
    """Read a saved run or comparison directory back (no simulation); the daily table may
    be either form (every replication, or per-day ``stat`` rows of a summary run). A
    tampered folder is a one-line ``ChipsimUserError`` naming the file."""
    folder = Path(folder)
    manifest, ts = read_manifest_and_timeseries(folder)
    if os.path.lexists(folder / "kpis.csv"):
        read_table(folder, "kpis.csv", ("node", "product"))
    try:
        return _load_run(folder, manifest, ts)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ChipsimUserError(f"the tables in {folder} do not fit its scenario(s) ({type(exc).__name__}: "
                               f"{str(exc)[:120]}); `chipsim report` cannot rebuild from this folder") from None


def _load_run(folder: Path, manifest: dict, ts: pd.DataFrame) -> RunData:
    variants = read_variants(folder, manifest)
    ids = [v.id for v in variants]
    if "variant" not in ts.columns:
        ts = ts.assign(variant=ids[0])
    ts["variant"] = pd.Categorical(ts["variant"], categories=ids)
    for col in ("node", "product", "metric"):
        ts[col] = ts[col].astype("category")
    if manifest.get("keep") == "summary" or "replication" not in ts.columns:
        try:
            table = read_table(folder, "per_replication.csv", PER_REPLICATION_NEEDS)
        except FileNotFoundError:  # not a write failure, which is what a bare FileNotFoundError would read as
            raise ChipsimUserError(f"{folder} lacks per_replication.csv, which `chipsim report` rebuilds a summary "
                                   "run from; rerun the command that made it") from None
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
                   headlines=_optional_csv(folder, "headlines.csv"),
                   headline_differences=_optional_csv(folder, "headline_differences.csv"), notes=_saved_notes(folder),
                   triggers=read_triggers(folder), drivers=read_drivers(folder))


def files_read(paths: Iterable[Path]) -> list[str]:
    """The files a command reads for these scenario files: each one and its ``extends``
    chain (just the file when it does not load; the command reports why later)."""
    out: list[str] = []
    for path in paths:
        try:
            out += [src.path for src in scenario_sources(load_scenario(path))]
        except (ScenarioError, OSError):
            out.append(str(path))
    return out
