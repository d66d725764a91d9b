"""What drives each headline: a Morris screening of a scenario's headlines over its
uncertain inputs (``chipsim drivers``, ``sim.drivers``).

The uncertain inputs are every distribution of the resolved scenario (its own and those
it inherits through ``extends``, e.g. from ``reference.yaml``), found by
``sim.futures.scenario_inputs``. The headlines are the file's ``headlines:`` (or the
ones a caller names or adds). Three designs run on one executor, on common random
numbers (every evaluation runs replications ``0 .. R-1`` with the file's seed, each
input fixed at the design's value for every replication):

1. Morris trajectories (``sim.sensitivity.morris_design``), each input at the 5%, 35%,
   65% or 95% quantile: ``trajectories * (inputs + 1)`` evaluations; per headline the
   indices mu* (with a 95% bootstrap half-width), mu and sigma.
2. A Latin hypercube of ``samples`` evaluations over the inputs' whole distributions:
   each headline's 5-95% interval over the uncertain inputs.
3. One at a time, for the inputs that rank in the top ``top`` of some headline: the
   headline with that input at its 5% and at its 95% quantile and every other input at
   its median ("by how much").

Morris rather than Sobol: the library files carry 20-25 inputs and an evaluation costs
about half a second, so a Sobol design with a usable base (64 or more: 64 x 27 = 1,728
evaluations per file) would take ten times the Morris screening's (10 x 26 = 260) for a
ranking, which is what the question asks.
"""
from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .engine import run_replication
from .errors import ChipsimUserError, did_you_mean
from .executors import finite_values, make_executor
from .futures import Input, design, future_document, scenario_inputs, values_of
from .inputlabels import input_label
from .labels import readable
from .loader import load_scenario
from .metrics import headline_values
from .network import build_network
from .provenance import build_manifest
from .results import tidy_timeseries
from .schema import Scenario
from .sensitivity import QUANTILES, morris_design, morris_table, quantile_of

MAX_EVALUATIONS = 200_000
FLAT = 1e-9   # a headline whose design outputs differ by less than this share of its size is constant


@dataclass(frozen=True)
class Option:
    """An option screened against the base (``chipsim compare --drivers``): its variant
    id, its label, its document (with the base's headlines) and which inputs it takes."""

    id: str
    label: str
    doc: dict
    use: tuple[bool, ...]


@dataclass(frozen=True)
class DriversJob:
    """What a worker needs: the scenario document, its inputs, the replications, the seed
    and the headline names to read. With ``options``, each point runs the base and every
    option on the same replications and reads option minus base (``columns``); ``keys``
    names each input in the tables (default: its path) and ``use`` says which inputs the
    base takes (default: all)."""

    doc: dict
    inputs: tuple[Input, ...]
    replications: int
    seed: int
    headlines: tuple[str, ...]
    keys: tuple[str, ...] = ()
    use: tuple[bool, ...] = ()
    options: tuple[Option, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            object.__setattr__(self, "keys", tuple(inp.path for inp in self.inputs))
        if not self.use:
            object.__setattr__(self, "use", (True,) * len(self.inputs))

    @property
    def columns(self) -> tuple[str, ...]:
        """The quantities screened: the headlines, or each option's difference from the base."""
        if not self.options:
            return self.headlines
        return tuple(difference_column(h, opt.id) for opt in self.options for h in self.headlines)


def difference_column(headline: str, option: str) -> str:
    """The name of an option's difference from the base in a headline (same unit)."""
    return f"{headline} ({option} - base)"


def scenario_at(doc: dict, inputs: Sequence[Input], values: Sequence[float] | np.ndarray, use: Sequence[bool],
                where: str) -> Scenario:
    """The checked scenario of ``doc`` with the inputs ``use`` marks set to ``values``;
    a value that makes it invalid is a user error naming ``where``."""
    built = future_document(doc, inputs, [float(v) for v in values], use)
    try:
        return Scenario.model_validate(built)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ChipsimUserError(f"the scenario at the inputs' {where}: {'.'.join(map(str, err['loc']))}: "
                               f"{err['msg'].removeprefix('Value error, ')}") from None


def _scenario_at(job: DriversJob, values: Sequence[float] | np.ndarray, where: str) -> Scenario:
    return scenario_at(job.doc, job.inputs, values, job.use, where)


def headline_means(scenario: Scenario, seed: int, replications: int) -> dict[str, float]:
    """Each headline of ``scenario``: its mean over replications ``0 .. replications-1``
    (in the headline's unit)."""
    net = build_network(scenario)
    frames = []
    for r in range(replications):
        values = finite_values(net, r, run_replication(net, seed, r).values)
        frames.append(headline_values(scenario, tidy_timeseries(net, values[None, :, :], [r])))
    table = pd.concat(frames, ignore_index=True)
    return {str(k): float(v) for k, v in table.groupby("headline", sort=False)["value"].mean().items()}


def evaluate(job: DriversJob, chunk: Sequence[tuple[int, Sequence[float]]]) -> list[dict]:
    """One row per (point, input values) of the chunk: the point's number and the mean of
    every headline, or of every option's difference from the base in it, both run on the
    same replications (a worker's unit of work; module level, so it pickles)."""
    rows = []
    for k, values in chunk:
        means = headline_means(_scenario_at(job, values, f"point {k}"), job.seed, job.replications)
        row: dict = {"point": int(k)}
        if not job.options:
            row.update({h: means.get(h, np.nan) for h in job.headlines})
        for opt in job.options:
            sc = scenario_at(opt.doc, job.inputs, values, opt.use, f"point {k} of '{opt.label}'")
            other = headline_means(sc, job.seed, job.replications)
            row.update({difference_column(h, opt.id): other.get(h, np.nan) - means.get(h, np.nan)
                        for h in job.headlines})
        rows.append(row)
    return rows


def select_headlines(doc: dict, chosen: Sequence[str | dict], source: str) -> None:
    """Keep the named headlines of ``doc`` (strings) and add the given ones (dicts)."""
    declared = list(doc.get("headlines") or [])
    if chosen:
        names = [str(h.get("name")) for h in declared]
        kept = []
        for item in chosen:
            if isinstance(item, dict):
                kept.append(dict(item))
            elif item in names:
                kept.append(declared[names.index(item)])
            else:
                raise ChipsimUserError(f"--headline {item}: {source} declares no such headline"
                                       f"{did_you_mean(str(item), names)}; it declares: {', '.join(names) or 'none'}")
        declared = kept
    if not declared:
        raise ChipsimUserError(f"{source} declares no headlines: add a `headlines:` section (docs/scenario-language.md) "
                               "naming the quantities to explain")
    doc["headlines"] = declared


def plan(scenario: Scenario | str | os.PathLike, headlines: Sequence[str | dict] = (), replications: int = 1,
         seed: int | None = None, search_paths: Sequence = ()) -> tuple[DriversJob, Scenario, dict[str, str]]:
    """Check a drivers run before anything runs: load the scenario, choose its headlines
    (names keep declared ones, dicts add new ones; none: all declared), find its uncertain
    inputs and build the scenario at the inputs' 5%, 50% and 95% points. Returns the job,
    the scenario (with the chosen headlines) and each input's label."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(Path(scenario), search_paths=search_paths)
    source = f"'{sc.name}'"
    if replications < 1:
        raise ChipsimUserError(f"--replications must be at least 1, got {replications}")
    doc = sc.to_document()
    select_headlines(doc, headlines, source)
    inputs = scenario_inputs(doc)
    if not inputs:
        raise ChipsimUserError(f"{source} has no uncertain inputs: no numeric value is given as a distribution "
                               "(e.g. growth: {dist: triangular, low: 0.03, mode: 0.05, high: 0.07}), so nothing can "
                               "drive its headlines")
    try:
        chosen = Scenario.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ChipsimUserError(f"--headline: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    job = DriversJob(doc, tuple(inputs), int(replications), sc.seed if seed is None else int(seed),
                     tuple(h.name for h in chosen.headlines))
    for q in (0.5, QUANTILES[0], QUANTILES[1]):
        _scenario_at(job, [float(inp.ppf(np.array([q]))[0]) for inp in inputs], f"{100 * q:.0f}% point")
    return job, chosen, {inp.path: _label(inp, doc) for inp in inputs}


def _label(inp: Input, doc: dict) -> str:
    """An input's label; a shared draw's names the draw and how many values move with it."""
    if not inp.linked:
        return input_label(inp.path, doc)
    return f"shared draw '{inp.group}' ({len(inp.linked) + 1} values, led by {input_label(inp.path, doc)})"


def _progress(chunks: Iterator[list[dict]], total: int, show: bool) -> Iterator[list[dict]]:
    """The chunks, advancing a bar of ``total`` evaluations (done, time left) on stderr."""
    if not show:
        yield from chunks
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("Drivers"), BarColumn(bar_width=30), MofNCompleteColumn(), TextColumn("evaluations"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("drivers", total=total)
        for rows in chunks:
            yield rows
            bar.advance(task, len(rows))


def run_points(job: DriversJob, points: np.ndarray, workers: int = 1, executor: str = "processes",
               progress: bool = False) -> pd.DataFrame:
    """Every point (one row of input values each) evaluated: columns point, then one per
    headline (mean over replications), in point order."""
    items = [(k, [float(v) for v in row]) for k, row in enumerate(points)]
    size = max(1, min(10, len(items) // (max(1, workers) * 8)))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    rows: list[dict] = []
    with make_executor(executor, workers) as ex:
        for got in _progress(ex.map_chunks(functools.partial(evaluate, job), chunks), len(items), progress):
            rows += got
    return pd.DataFrame(rows, columns=["point", *job.columns]).sort_values("point", ignore_index=True)


@dataclass
class Drivers:
    """A drivers run: per headline its interval over the inputs, the Morris indices of
    every input and the low/high effect of its top inputs."""

    scenario: Scenario
    inputs: list[Input]
    labels: dict[str, str]                 # input path -> reader's label
    headlines: pd.DataFrame                # headline, label, unit, p05, p50, p95, mean, samples, at_median
    indices: pd.DataFrame                  # headline, rank, input, input_label, mu_star, mu_star_conf, mu, sigma
    effects: pd.DataFrame                  # headline, input, input_low, input_high, headline_at_low, headline_at_high
    evaluations: pd.DataFrame              # design (morris, sample, oat), point, input values, headline values
    top: int
    manifest: dict = field(default_factory=dict)
    differences: bool = False              # columns are options minus the base (chipsim compare --drivers)

    def table(self) -> pd.DataFrame:
        """``drivers.csv``: per headline its interval and its ``top`` inputs, with their
        index, its half-width, whether it is separated from the next input's (``ranked``)
        and the headline at the input's 5% and 95% quantiles (others at their median)."""
        from .driverssave import drivers_table

        return drivers_table(self)

    def __repr__(self) -> str:
        return (f"<Drivers: {len(self.headlines)} headlines x {len(self.inputs)} inputs of '{self.scenario.name}', "
                f"{len(self.evaluations)} evaluations>")

    def save(self, out: str | os.PathLike, force: bool = False, report: bool = True) -> Path:
        """Write the folder atomically: drivers.csv, indices.csv, evaluations.csv,
        manifest.json and (``report``) drivers.html with its chart."""
        from .driverssave import save_drivers

        return save_drivers(self, Path(out), force, report)


def _evaluations(kind: str, names: list[str], points: np.ndarray, results: pd.DataFrame) -> pd.DataFrame:
    """One design's evaluations: design, point, each input's value, each headline's."""
    frame = pd.DataFrame({"design": kind, "point": range(len(points)), **{n: points[:, i] for i, n in enumerate(names)}})
    return frame.join(results.drop(columns="point").reset_index(drop=True))


def _oat_points(inputs: Sequence[Input], chosen: Sequence[int]) -> np.ndarray:
    """The median point, then for each chosen input the point with it at its 5% and at
    its 95% quantile and every other input at its median."""
    median = np.array([float(inp.ppf(np.array([0.5]))[0]) for inp in inputs])
    rows = [median]
    for i in chosen:
        for q in QUANTILES:
            row = median.copy()
            row[i] = float(inputs[i].ppf(np.array([q]))[0])
            rows.append(row)
    return np.array(rows)


def intervals(rows: Sequence[tuple[str, str, str]], sample: pd.DataFrame, at_median: pd.Series) -> pd.DataFrame:
    """Per screened column (its name, label and unit): its 5-95% interval over the sample."""
    out = []
    for column, label, unit in rows:
        y = sample[column].to_numpy(float)
        out.append({"headline": column, "label": label, "unit": unit, "p05": float(np.quantile(y, 0.05)),
                    "p50": float(np.quantile(y, 0.5)), "p95": float(np.quantile(y, 0.95)), "mean": float(y.mean()),
                    "samples": int(len(y)), "at_median": float(at_median[column])})
    return pd.DataFrame(out)


def _morris_indices(job: DriversJob, unit: np.ndarray, morris: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    names = list(job.keys)
    frames = []
    for h in job.columns:
        y = morris[h].to_numpy(float)
        if np.ptp(y) <= FLAT * max(1.0, float(np.abs(y).max())):  # constant but for rounding in the last bits
            t = pd.DataFrame({"input": names, "mu_star": 0.0, "mu_star_conf": 0.0, "mu": 0.0, "sigma": 0.0})
        else:
            t = morris_table(names, unit, y, job.seed)
        t.insert(0, "rank", range(1, len(t) + 1))
        t.insert(0, "headline", h)
        t.insert(3, "input_label", t["input"].map(labels))
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def _effects(job: DriversJob, chosen: list[int], oat: pd.DataFrame, points: np.ndarray) -> pd.DataFrame:
    rows = []
    for j, i in enumerate(chosen):
        inp = job.inputs[i]
        low, high = oat.iloc[1 + 2 * j], oat.iloc[2 + 2 * j]
        for h in job.columns:
            rows.append({"headline": h, "input": job.keys[i], "input_low": inp.document_value(points[1 + 2 * j, i]),
                         "input_high": inp.document_value(points[2 + 2 * j, i]),
                         "headline_at_low": float(low[h]), "headline_at_high": float(high[h])})
    return pd.DataFrame(rows, columns=["headline", "input", "input_low", "input_high", "headline_at_low",
                                       "headline_at_high"])


def units_at(job: DriversJob, at: Sequence[float] | np.ndarray) -> dict[str, str]:
    """Each headline's unit (one replication of the base scenario at the point ``at``)."""
    sc = _scenario_at(job, at, "median")
    net = build_network(sc)
    values = finite_values(net, 0, run_replication(net, job.seed, 0).values)
    table = headline_values(sc, tidy_timeseries(net, values[None, :, :], [0]))
    return {str(k): str(v) for k, v in table.groupby("headline", sort=False)["unit"].first().items()}


@dataclass(frozen=True)
class Screening:
    """The three designs of a drivers run, evaluated (one column per ``job.columns``)."""

    indices: pd.DataFrame
    effects: pd.DataFrame
    evaluations: pd.DataFrame
    sample: pd.DataFrame       # the Latin-hypercube evaluations
    at_median: pd.Series       # every column with every input at its median
    median: np.ndarray         # the inputs' medians
    wall: float                # seconds


def screen(job: DriversJob, labels: dict[str, str], trajectories: int = 10, samples: int = 32, top: int = 3,
           workers: int = 1, executor: str = "processes", progress: bool = False) -> Screening:
    """Run the Morris trajectories and the Latin hypercube, rank the inputs of each column,
    then run its ``top`` inputs one at a time at their 5% and 95% quantiles."""
    if samples < 2:
        raise ChipsimUserError(f"--samples must be at least 2 (an interval needs several points), got {samples}")
    if top < 1:
        raise ChipsimUserError(f"--top must be at least 1, got {top}")
    names = list(job.keys)
    unit = morris_design(names, trajectories, job.seed)
    runs = (len(unit) + samples + 2 * len(names) + 1) * (1 + len(job.options))
    if runs > MAX_EVALUATIONS:
        raise ChipsimUserError(f"{runs:,} evaluations: more than {MAX_EVALUATIONS:,}; give fewer --trajectories or "
                               "--samples")
    started = time.perf_counter()
    morris_points = values_of(job.inputs, quantile_of(unit))
    sample_points = values_of(job.inputs, design(job.inputs, samples, job.seed))
    first = run_points(job, np.vstack([morris_points, sample_points]), workers, executor, progress)
    morris, sample = first.iloc[:len(unit)], first.iloc[len(unit):]
    indices = _morris_indices(job, unit, morris, labels)
    ranked = indices[(indices["rank"] <= top) & (indices["mu_star"] > 0)]
    picked = [names.index(p) for p in dict.fromkeys(ranked["input"])]
    oat_points = _oat_points(job.inputs, picked)
    oat = run_points(job, oat_points, workers, executor, progress)
    wall = time.perf_counter() - started
    evaluations = pd.concat([_evaluations(d, names, p, t) for d, p, t in
                             (("morris", morris_points, morris), ("sample", sample_points, sample),
                              ("oat", oat_points, oat))], ignore_index=True)
    return Screening(indices, _effects(job, picked, oat, oat_points), evaluations, sample, oat.iloc[0], oat_points[0],
                     wall)


def design_manifest(trajectories: int, samples: int, top: int, executor: str, screening: Screening) -> dict:
    """The manifest entries that describe the design."""
    return {"kind": "drivers", "method": "morris", "trajectories": int(trajectories), "levels": 4,
            "quantiles": list(QUANTILES), "samples": int(samples), "top": int(top),
            "evaluations": int(len(screening.evaluations)), "executor": executor}


def drivers(scenario: Scenario | str | os.PathLike, headlines: Sequence[str | dict] = (), trajectories: int = 10,
            samples: int = 32, top: int = 3, replications: int = 1, seed: int | None = None, workers: int = 1,
            executor: str = "processes", progress: bool = False, search_paths: Sequence = ()) -> Drivers:
    """What drives each headline of ``scenario`` (see the module text): ``trajectories``
    Morris trajectories, ``samples`` Latin-hypercube points for the intervals, the
    ``top`` inputs of each headline run one at a time at their 5% and 95% quantiles;
    ``replications`` per evaluation (common random numbers)."""
    job, chosen, labels = plan(scenario, headlines, replications, seed, search_paths)
    done = screen(job, labels, trajectories, samples, top, workers, executor, progress)
    manifest = build_manifest(chosen, job.seed, job.replications, workers, done.wall)
    manifest.update(design_manifest(trajectories, samples, top, executor, done))
    manifest.update({"scenario_file": chosen.name if isinstance(scenario, Scenario) else Path(scenario).stem,
                     "inputs": [{"path": i.path, "label": labels[i.path], "distribution": i.dist.model_dump(),
                                 "linked": [m.path for m in i.linked]}
                                for i in job.inputs], "headlines": list(job.headlines)})
    units = units_at(job, done.median)
    rows = [(h.name, h.label or readable(h.name), units.get(h.name, "")) for h in chosen.headlines]
    return Drivers(chosen, list(job.inputs), labels, intervals(rows, done.sample, done.at_median), done.indices,
                   done.effects, done.evaluations, int(top), manifest)
