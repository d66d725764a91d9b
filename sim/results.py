"""Results of a run as tidy tables: built from the engine's daily cube, saved to and
loaded from a run directory. No simulation and no drawing happen here."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ChipsimUserError
from .metrics import KPI_COLUMNS, MARKET_KPIS, ShockWindow, kpi_table, summarise
from .network import Network
from .rundir import (
    ReportWriter,
    RunData,
    read_manifest_and_timeseries,
    read_table,
    read_triggers,
    read_variants,
    save_run,
)
from .schema import Scenario
from .statistics import headline_values_of, product_units, scenario_window, summarise_headline_values
from .triggers import TRIGGER_COLUMNS

TIMESERIES_COLUMNS = ["replication", "day", "date", "node", "product", "metric", "value"]
# keys save_run adds to the manifest on disk; Results.load drops them again
_SAVED_ONLY = ("kind", "variants")


def tidy_timeseries(net: Network, cube: np.ndarray, replications: Sequence[int]) -> pd.DataFrame:
    """Long table from a (replication, day, series) cube of daily values."""
    n_rep, horizon, n_series = cube.shape
    sc = net.scenario
    series_node = [net.slots[s][0] for s, _ in net.series]
    series_product = [net.slots[s][1] for s, _ in net.series]
    series_metric = [m for _, m in net.series]

    def categorical(labels: list[str]) -> pd.Categorical:
        cats = list(dict.fromkeys(labels))
        codes = np.array([cats.index(x) for x in labels], dtype=np.int32) if labels else np.zeros(0, np.int32)
        return pd.Categorical.from_codes(np.tile(codes, n_rep * horizon), categories=cats)

    days = np.arange(horizon, dtype=np.int32)
    dates = pd.Timestamp(sc.start_date).to_datetime64().astype("datetime64[D]") + days
    return pd.DataFrame({
        "replication": np.repeat(np.asarray(replications, dtype=np.int32), horizon * n_series),
        "day": np.tile(np.repeat(days, n_series), n_rep),
        "date": np.tile(np.repeat(dates.astype("datetime64[s]"), n_series), n_rep),
        "node": categorical(series_node),
        "product": categorical(series_product),
        "metric": categorical(series_metric),
        "value": cube.reshape(-1),
    }, columns=TIMESERIES_COLUMNS)


def stacked_column(parts: list[pd.Series]) -> np.ndarray | pd.Categorical:
    """One column of several tables, end to end. Categorical columns stay categorical:
    with the shared categories when every part has the same ones, else with the sorted
    union (what concatenating and converting to ``category`` gives), recoded without
    passing through Python strings."""
    if not all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
        return np.concatenate([p.to_numpy() for p in parts])
    first = list(parts[0].cat.categories)
    if all(list(p.cat.categories) == first for p in parts[1:]):
        cats = parts[0].cat.categories
        ordered = bool(parts[0].cat.ordered)
    else:
        cats = pd.Index(sorted(set().union(*(set(p.cat.categories) for p in parts))))
        ordered = False
    codes = [cats.get_indexer(p.cat.categories)[p.cat.codes.to_numpy()] if len(p) else np.zeros(0, np.int64)
             for p in parts]
    return pd.Categorical.from_codes(np.concatenate(codes), categories=cats, ordered=ordered)


def stack_tables(frames: Sequence[pd.DataFrame], ids: Sequence[str]) -> pd.DataFrame:
    """``frames`` (one per variant, the same columns) end to end, with a leading
    categorical ``variant`` column of ``ids``; built column by column (the constant
    variant as codes), so memory stays near the size of the result."""
    lengths = [len(f) for f in frames]
    columns = {"variant": pd.Categorical.from_codes(np.repeat(np.arange(len(ids), dtype=np.int8), lengths),
                                                   categories=list(ids))}
    for col in frames[0].columns:
        columns[col] = stacked_column([f[col] for f in frames])
    return pd.DataFrame(columns)


def _shape(frame: pd.DataFrame | None) -> str:
    return "None" if frame is None else f"{frame.shape[0]}x{frame.shape[1]}"


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


@dataclass(repr=False)
class Results:
    """What a run produced: the tidy daily table, the KPIs and the provenance.

    ``timeseries`` columns: replication, day, date, node, product, metric, value (in
    each product's unit per day). ``kpis``: one row per demand (node, product); see
    ``sim.metrics``. ``keep="summary"`` runs hold per-day quantiles instead of every
    replication, and every replication's outcomes in ``per_replication``.
    """

    scenario: Scenario
    timeseries: pd.DataFrame
    kpis: pd.DataFrame
    seed: int
    replications: int
    shock_window: ShockWindow
    manifest: dict = field(default_factory=dict)
    keep: str = "all"
    per_replication: pd.DataFrame | None = None  # outcomes per replication (summary mode keeps them)
    headlines: pd.DataFrame | None = None        # the scenario's headlines summarised (see headlines.py)
    headline_values: pd.DataFrame | None = None  # ... and their values per replication
    # per triggered policy and replication: the day its trigger fired and its start day (see sim.triggers)
    triggers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TRIGGER_COLUMNS))

    def __repr__(self) -> str:
        return (f"Results(scenario={self.scenario.name!r}, replications={self.replications}, seed={self.seed}, "
                f"keep={self.keep!r}, timeseries={_shape(self.timeseries)}, kpis={_shape(self.kpis)}, "
                f"per_replication={_shape(self.per_replication)})")

    @classmethod
    def from_cube(cls, net: Network, cube: np.ndarray, seed: int, manifest: dict) -> Results:
        """Results of a ``keep="all"`` run from its (replication, day, series) cube."""
        sc = net.scenario
        ts = tidy_timeseries(net, cube, range(cube.shape[0]))
        window = scenario_window(sc)
        per_rep = headline_values_of(sc, ts)
        return cls(sc, ts, kpi_table(ts, window, product_units(sc)), seed, cube.shape[0], window, manifest,
                   headlines=summarise_headline_values(per_rep), headline_values=per_rep)

    @classmethod
    def from_summary(cls, net: Network, summary: pd.DataFrame, per_rep: pd.DataFrame, seed: int,
                     replications: int, manifest: dict, headline_values: pd.DataFrame | None = None) -> Results:
        """Results of a ``keep="summary"`` run: ``timeseries`` holds, per day and series,
        the mean and 5/50/95% quantiles over replications (a ``stat`` column instead of
        ``replication``); the KPIs come from every replication."""
        sc = net.scenario
        kpi_rows = per_rep[per_rep["metric"].isin(list(KPI_COLUMNS + MARKET_KPIS))]
        return cls(sc, summary, summarise(kpi_rows), seed, replications, scenario_window(sc), manifest, keep="summary",
                   per_replication=per_rep, headlines=summarise_headline_values(headline_values),
                   headline_values=headline_values)

    def save(self, out: str | os.PathLike, force: bool = False, report: bool = True, pdf: bool = True,
             progress: bool = False, svg: bool = False) -> Path:
        """Write the run directory atomically (a temporary folder beside ``out``, then a
        rename): tables, resolved scenario, manifest, and unless ``report`` is false the
        charts (PNG and CSV; SVG too when ``svg``) and the briefing (its PDF unless ``pdf``
        is false). ``progress`` shows the steps on stderr."""
        return save_folder(save_run, self, out, force, report, pdf, progress, svg)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Results:
        """The ``Results`` of a run directory written by ``save`` (no simulation)."""
        folder = Path(folder)
        manifest, ts = read_manifest_and_timeseries(folder)
        if manifest.get("kind", "run") != "run":
            raise ChipsimUserError(f"{folder} holds a {manifest['kind']}, not a single run")
        scenario = read_variants(folder, manifest)[0].scenario
        for col in ("node", "product", "metric"):
            ts[col] = ts[col].astype("category")
        ts["date"] = ts["date"].astype("datetime64[s]")  # parquet stores whole seconds as milliseconds
        kpis = read_table(folder, "kpis.csv", ("node", "product"))
        keep = manifest.get("keep", "all")
        per_rep = None
        if keep == "summary":
            per_rep = (read_table(folder, "per_replication.csv", ("replication", "variant")).drop(columns="variant")
                       .astype({"replication": np.int32}))  # as tidy_timeseries numbers them
        manifest = {k: v for k, v in manifest.items() if k not in _SAVED_ONLY}
        headlines = read_table(folder, "headlines.csv") if os.path.lexists(folder / "headlines.csv") else None
        return cls(scenario, ts, kpis, int(manifest["seed"]), int(manifest["replications"]), scenario_window(scenario),
                   manifest, keep=keep, per_replication=per_rep, headlines=headlines,
                   triggers=_saved_triggers(folder))


def _saved_triggers(folder: Path) -> pd.DataFrame:
    saved = read_triggers(folder)
    return pd.DataFrame(columns=TRIGGER_COLUMNS) if saved is None else saved


def save_folder(save: Any, what: Any, out: str | os.PathLike, force: bool, report: bool, pdf: bool, progress: bool,
                svg: bool, process: Any = None) -> Path:
    """Write the folder of a run or a comparison with ``save`` (``save_run`` or
    ``save_comparison``), its steps shown when ``progress``; the report (unless ``report``
    is false) drawn by ``process`` (a ``sim.reporting.background.ReportProcess``) beside the
    tables when there is one, else here after them."""
    with Steps(1 + ((3 if pdf else 2) if report else 0), progress) as steps:
        writer = None
        if report:
            writer = process.writer(pdf, svg, steps) if process is not None else report_writer(pdf, steps, svg)
        return save(what, Path(out), force=force, report=writer, steps=steps)


def report_writer(pdf: bool = True, steps: Steps | None = None, svg: bool = False) -> ReportWriter:
    """Charts (SVG too when ``svg``), then the briefing (HTML, and PDF unless ``pdf`` is
    false; the PDF places the PNGs already drawn), as a run directory's report writer;
    each part is a step of ``steps``."""
    def write(data: RunData, folder: Path) -> list[Path]:
        from .reporting.briefing import build_report

        return build_report(data, folder, svg=svg, pdf=pdf, step=None if steps is None else steps.step)
    return write

