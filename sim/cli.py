"""The ``chipsim`` command: validate, run and schema.

User errors (bad scenario files, bad options, existing output folders) print one line per
problem to stderr and exit with status 2; they never show a traceback.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from ._version import __version__
from .errors import ChipsimUserError, ScenarioError
from .safefs import reason
from .sanitize import for_plain_terminal, for_terminal

app = typer.Typer(
    name="chipsim",
    help="Simulate the semiconductor supply chain under export controls, shocks and policies.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # ":100:" in FILE:100:3 is not an emoji
out = Console(highlight=False, soft_wrap=True, emoji=False)

USER_ERROR = 2
F = TypeVar("F", bound=Callable[..., None])


def reports_errors(interrupted: str, writes_into: str | None = None) -> Callable[[F], F]:
    """Turn a command's user errors into one line on stderr and exit 2, and an interrupt
    into ``interrupted`` and exit 130, never a traceback. With ``writes_into`` (the name
    of a path argument), an OSError writing into that path is a user error too."""
    def decorate(command: F) -> F:
        @functools.wraps(command)
        def guarded(*args: object, **kwargs: object) -> None:
            try:
                command(*args, **kwargs)
            except ChipsimUserError as exc:  # it may quote a path or an id: controls made visible
                err.print(for_plain_terminal(exc), markup=False)
                raise typer.Exit(USER_ERROR) from None
            except KeyboardInterrupt:
                err.print(interrupted)
                raise typer.Exit(130) from None
            except OSError as exc:
                if writes_into is None:
                    raise
                err.print(for_plain_terminal(f"cannot write into {kwargs.get(writes_into)}: {reason(exc)}"), markup=False)
                raise typer.Exit(USER_ERROR) from None
        return guarded  # type: ignore[return-value]
    return decorate


def _fail_scenario(exc: ScenarioError) -> None:
    for problem in exc.problems:
        err.print(for_plain_terminal(problem), markup=False)
    noun = "problem" if len(exc.problems) == 1 else "problems"
    err.print(f"[red]{len(exc.problems)} {noun} found[/red]")


def _load_or_exit(file: Path, search_path: list[Path]):
    """The validated scenario, or every problem printed and exit 2."""
    from .loader import load_scenario

    try:
        return load_scenario(file, search_paths=search_path)
    except ScenarioError as exc:
        _fail_scenario(exc)
        raise typer.Exit(USER_ERROR) from None


def _print_load_warnings(scenario) -> None:
    """The loader's warnings (``FILE:LINE:COL: warning: ...``), one a line on stderr."""
    for warning in scenario.load_warnings:
        err.print(for_plain_terminal(warning), markup=False)


def _with_threshold(scenario, share: float | None):
    """The scenario with ``short_day_threshold`` set to ``share`` (--short-threshold)."""
    if share is None:
        return scenario
    if not 0 <= share < 1:
        raise ChipsimUserError(f"--short-threshold {share}: give a share of daily demand from 0 up to (not including) 1")
    return scenario.model_copy(update={"short_day_threshold": share})


def _keep_mode(keep: str | None, full_timeseries: bool) -> str:
    """What to save: --full-timeseries means --keep all; the default is summary."""
    if full_timeseries:
        if keep not in (None, "all"):
            raise ChipsimUserError("--full-timeseries keeps every replication; it contradicts --keep summary")
        return "all"
    return keep or "summary"


def _refuse_existing(target: Path, force: bool, scenarios: Sequence[Any] = (), search_paths: Sequence[Path] = ()) -> None:
    """Exit 2 before any work if the output folder exists and --force was not given, or
    --force was given for something other than a chipsim folder, or the folder holds a
    file the command reads (the scenarios, their ``extends`` parents, a search path)."""
    from .loader import scenario_sources
    from .rundir import check_keeps_inputs, check_replaceable

    try:
        check_replaceable(target, force)
        check_keeps_inputs(target, [src.path for sc in scenarios for src in scenario_sources(sc)] + list(search_paths))
    except ChipsimUserError as exc:
        err.print(for_plain_terminal(exc), markup=False)
        raise typer.Exit(USER_ERROR) from None


def _version(value: bool) -> None:
    if value:
        out.print(f"chipsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and "
                                                                                                  "exit.")) -> None:
    """chipsim: scenario files in, shortfalls out."""


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="Scenario files to check."),
    search_path: list[Path] = typer.Option([], "--search-path", help="Extra folder that `extends` may read from."),
) -> None:
    """Check scenario files; print every problem as FILE:LINE:COL: message (exit 2 if any)."""
    from .loader import load_scenario

    failed = 0
    for file in files:
        try:
            sc = load_scenario(file, search_paths=search_path)
        except ScenarioError as exc:
            failed += 1
            _fail_scenario(exc)
            continue
        _print_load_warnings(sc)
        out.print(f"[green]ok[/green] {for_terminal(file)}: {len(sc.nodes)} nodes, {len(sc.lanes)} lanes, "
                  f"{len(sc.shocks)} shocks, {len(sc.policies)} policies, {sc.horizon} days")
        from .leverspec import shock_date_lines

        for line in shock_date_lines(sc):
            out.print(line, markup=False)
    if failed:
        raise typer.Exit(USER_ERROR)


def _default_out(file: Path) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", file.stem)
    return Path("runs") / f"{stem}-{stamp}"


@app.command()
@reports_errors("interrupted; no run directory was written")
def run(
    file: Path = typer.Argument(..., help="Scenario file."),
    replications: int | None = typer.Option(None, "--replications", "-n", min=1, help="Monte Carlo runs (default: the "
                                                                                      "scenario's)."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed (default: the scenario's)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes to run replications in."),
    out_dir: Path | None = typer.Option(None, "--out", "-o", help="Run directory to create (default: runs/<scenario>-<time>)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it already exists."),
    search_path: list[Path] = typer.Option([], "--search-path", help="Extra folder that `extends` may read from."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    executor: str = typer.Option("processes", "--executor", help="processes (local pool, default) or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786); without it a "
                                                                   "LocalCluster starts."),
    keep: str | None = typer.Option(None, "--keep", help="summary (default): per-day mean and 5/50/95% quantiles plus "
                                                        "every replication's outcomes; all: every replication's daily table."),
    full_timeseries: bool = typer.Option(False, "--full-timeseries", help="Save every replication's daily table "
                                                                          "(same as --keep all; large)."),
    no_report: bool = typer.Option(False, "--no-report", help="Tables only: no charts, no briefing."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Charts and briefing.html, without briefing.pdf."),
    svg: bool = typer.Option(False, "--svg", help="Also write every chart as SVG (PNG and CSV are always written)."),
    short_threshold: float | None = typer.Option(None, "--short-threshold", metavar="SHARE",
                                                 help="A day counts as short when its shortfall exceeds this share of "
                                                      "daily demand (overrides the scenario's short_day_threshold)."),
    drivers: bool = typer.Option(False, "--drivers", help="Also screen which uncertain inputs move each headline (a quick "
                                                          "Morris screening into drivers/; the briefing lists them)."),
) -> None:
    """Run a scenario and write a run directory (timeseries, KPIs, resolved scenario, manifest, charts, briefing)."""
    from .cliout import drawing, run_summary, save
    from .experiment import run as run_scenario  # the tables' libraries, which the report process then shares

    with drawing(not no_report) as process:  # it loads the charting libraries while the scenario loads and runs
        scenario = _load_or_exit(file, search_path)
        _print_load_warnings(scenario)
        scenario = _with_threshold(scenario, short_threshold)
        mode = _keep_mode(keep, full_timeseries)
        target = out_dir or _default_out(file)
        _refuse_existing(target, force, [scenario], search_path)
        _check_size(scenario, replications, mode)
        if drivers:
            from .driverscmd import check_run_drivers

            check_run_drivers(scenario)
        if not quiet:
            from .leverspec import shock_date_lines

            for line in shock_date_lines(scenario):
                err.print(line, markup=False)
        results = run_scenario(scenario, replications=replications, seed=seed, workers=workers, progress=not quiet,
                               executor=executor, scheduler=scheduler, keep=mode)
        if not quiet:  # the answer first; the tables, charts and briefing are written after it
            run_summary(out, results)
        saved = save(results, target, force, not no_report, not no_pdf, not quiet, svg, process)
    if drivers:
        from .driverscmd import run_drivers_into

        run_drivers_into(scenario, saved, seed, workers, quiet, not no_report, not no_pdf, out)
    if not quiet:
        out.print(saved_line(saved, not no_report))


def saved_line(saved, report: bool) -> str:
    """The last line of a run or comparison: where its files are, and the briefing when one was drawn."""
    where = f"[bold]{for_terminal(saved)}[/bold]"
    return f"Results, charts and briefing in {where} (open briefing.html)" if report else f"Results in {where}"


def _check_size(scenario, replications: int | None, keep: str, variants: int = 1) -> None:
    """Say before anything runs if the run (or a comparison of ``variants`` scenarios like
    it) will not fit comfortably in memory, whatever it keeps (exit 2 if it cannot fit)."""
    from .memory import run_note

    note = run_note(scenario, replications, keep, variants)
    if note:
        err.print(note, markup=False)


@app.command()
@reports_errors("interrupted; no run directory was written")
def compare(
    files: list[Path] = typer.Argument(..., help="Base scenario first, then the options (variants of the base)."),
    replications: int | None = typer.Option(None, "--replications", "-n", min=1, help="Replications per variant (default: the "
                                                                                      "base's)."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed, shared by every variant (default: the base's)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes to run replications in."),
    out_dir: Path | None = typer.Option(None, "--out", "-o", help="Directory to create (default: runs/compare-<base>-<time>)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it already exists."),
    rank_by: str = typer.Option("shortfall", "--rank-by", help="Metric to rank options by: shortfall, fill_rate, "
                                                               "time_to_survive_days, time_to_recover_days, cost, delivered."),
    focus: str | None = typer.Option(None, "--focus", help="Demand node (NODE or NODE:PRODUCT) to rank on (default: the one "
                                                           "the base serves worst)."),
    search_path: list[Path] = typer.Option([], "--search-path", help="Extra folder that `extends` may read from."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    executor: str = typer.Option("processes", "--executor", help="processes (local pool, default) or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address; without it a LocalCluster starts."),
    keep: str | None = typer.Option(None, "--keep", help="summary (default): per-day mean and 5/50/95% quantiles plus "
                                                        "every replication's outcomes; all: every replication's daily table."),
    full_timeseries: bool = typer.Option(False, "--full-timeseries", help="Save every replication's daily table "
                                                                          "(same as --keep all; large)."),
    no_report: bool = typer.Option(False, "--no-report", help="Tables only: no charts, no briefing."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Charts and briefing.html, without briefing.pdf."),
    svg: bool = typer.Option(False, "--svg", help="Also write every chart as SVG (PNG and CSV are always written)."),
    short_threshold: float | None = typer.Option(None, "--short-threshold", metavar="SHARE",
                                                 help="A day counts as short when its shortfall exceeds this share of "
                                                      "daily demand (overrides the scenario's short_day_threshold)."),
    drivers: bool = typer.Option(False, "--drivers", help="Also screen which uncertain inputs move each option's "
                                                          "difference from the base (a quick Morris screening into "
                                                          "drivers/; the briefing lists them)."),
) -> None:
    """Run a base and its options on common random numbers; paired differences, ranking, charts and briefing."""
    from .cliout import compare_summary, drawing, save
    from .comparison import compare as run_compare  # the tables' libraries, which the report process then shares
    from .loader import load_scenario

    with drawing(not no_report) as process:  # it loads the charting libraries while the scenarios load and run
        scenarios, failed = [], False
        for file in files:
            try:
                scenarios.append(load_scenario(file, search_paths=search_path))
            except ScenarioError as exc:
                failed = True
                _fail_scenario(exc)
        if failed:
            raise typer.Exit(USER_ERROR)
        if len(files) < 2:
            err.print("compare needs a base scenario and at least one option", markup=False)
            raise typer.Exit(USER_ERROR)
        for sc in scenarios:
            _print_load_warnings(sc)
        scenarios = [_with_threshold(sc, short_threshold) for sc in scenarios]
        mode = _keep_mode(keep, full_timeseries)
        _check_size(scenarios[0], replications, mode, variants=len(scenarios))
        target = out_dir or _default_out(Path(f"compare-{files[0].stem}.yaml"))
        _refuse_existing(target, force, scenarios, search_path)
        ids = _variant_ids(files)
        if drivers:
            from .driverscmd import check_compare_drivers

            check_compare_drivers(scenarios, ids)
        comparison = run_compare(scenarios, replications=replications, seed=seed, workers=workers, progress=not quiet,
                                 rank_by=rank_by, focus=focus, executor=executor, scheduler=scheduler, keep=mode,
                                 warn=lambda message: err.print(message, markup=False), ids=ids)
        if not quiet:  # the ranking first; the tables, charts and briefing are written after it
            compare_summary(out, comparison)
        saved = save(comparison, target, force, not no_report, not no_pdf, not quiet, svg, process)
    if drivers:
        from .driverscmd import compare_drivers_into

        compare_drivers_into(scenarios, ids, saved, seed, workers, quiet, not no_report, not no_pdf, out)
    if not quiet:
        out.print(saved_line(saved, not no_report))


def _variant_ids(files: list[Path]) -> list[str]:
    from .comparison import variant_id

    ids: list[str] = []
    for file in files:
        ids.append(variant_id(file, set(ids)))
    return ids


@app.command()
@reports_errors("interrupted; no sweep directory was written")
def sweep(
    file: Path = typer.Argument(..., help="Scenario file."),
    vary: list[str] = typer.Option(..., "--vary", help="PATH=LOW:HIGH, e.g. shocks.0.leakage=0:0.2 (repeatable)."),
    samples: int = typer.Option(20, "--samples", min=2, help="Latin hypercube points, or grid levels per lever."),
    design: str = typer.Option("lhs", "--design", help="lhs (Latin hypercube) or grid (full factorial)."),
    replications: int | None = typer.Option(None, "--replications", "-n", min=1, help="Replications per sample (default: the "
                                                                                      "scenario's)."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Seed shared by every sample (common random numbers)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes to run replications in."),
    focus: str | None = typer.Option(None, "--focus", help="Demand node (NODE or NODE:PRODUCT) for the tornado chart."),
    out_dir: Path | None = typer.Option(None, "--out", "-o", help="Directory to create (default: runs/sweep-<scenario>-<time>)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it already exists."),
    search_path: list[Path] = typer.Option([], "--search-path", help="Extra folder that `extends` may read from."),
) -> None:
    """Vary shock and policy parameters over a design; write inputs and KPIs and a tornado chart."""
    from rich.progress import Progress

    from .sweep import parse_vary, save_sweep, sensitivity, sweep_focus
    from .sweep import sweep as run_sweep

    scenario = _load_or_exit(file, search_path)
    target = out_dir or _default_out(Path(f"sweep-{file.stem}.yaml"))
    _refuse_existing(target, force, [scenario], search_path)
    levers = [parse_vary(v) for v in vary]
    total = samples if design == "lhs" else samples ** len(levers)
    if total > 5000:
        raise ChipsimUserError(f"{total} samples is too many for one sweep; lower --samples (a grid has samples^levers points)")
    from .memory import sweep_note

    note = sweep_note(scenario, levers, replications)  # before any sample runs, as run and compare check
    if note:
        err.print(note, markup=False)
    with Progress(console=err) as bar:
        task = bar.add_task("Sampling", total=total)
        table = run_sweep(scenario, levers, samples, design, replications, seed, workers, lambda k: bar.advance(task, k))
    node, product = sweep_focus(table, focus)
    sens = sensitivity(table, levers, node, product) if node else None
    saved = save_sweep(target, force, scenario, file, table, sens, levers, design, total, node, product,
                       seed=seed, replications=replications, workers=workers)
    if sens is not None and len(sens):
        out.print(for_terminal(f"Most influential on shortfall at {node}: " + ", ".join(
            f"{r['lever']} ({r['effect']:+,.4g})" for _, r in sens.head(5).iterrows())))
    out.print(f"Inputs and KPIs in [bold]{for_terminal(saved / 'sweep.csv')}[/bold]; "
              f"tornado chart in {for_terminal(saved / 'charts')}")


@app.command()
@reports_errors("interrupted; no partial run directory was left behind", writes_into="run_dir")
def report(
    run_dir: Path = typer.Argument(..., help="A directory written by `chipsim run` or `chipsim compare`."),
    svg: bool | None = typer.Option(None, "--svg/--no-svg", help="Charts as SVG too (default: as the folder had them)."),
) -> None:
    """Rebuild the charts and the briefing of a saved run, without simulating again."""
    from .results import Steps, report_writer
    from .rundir import load_run, rebuild_report

    data = load_run(run_dir)
    if svg is None:
        svg = any((run_dir / "charts").glob("*.svg")) if (run_dir / "charts").is_dir() else False
    with Steps(3, show=True) as steps:
        made = rebuild_report(run_dir, data, report_writer(True, steps, svg))
    out.print(f"Rebuilt {len(made)} files in [bold]{for_terminal(run_dir)}[/bold] (briefing.html, briefing.pdf, charts/)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    from .jsonschema import scenario_json_schema

    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")


from .driverscmd import register as _register_drivers  # noqa: E402
from .explorecmd import register as _register_explore  # noqa: E402  (the commands' bodies are in their own modules)

_register_explore(app, reports_errors, err, out)
_register_drivers(app, reports_errors, err, out)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Console entry point. SIGTERM is handled like Ctrl-C: no partial output, exit 130."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; no partial run directory was left behind")
        sys.exit(130)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO):
            raise
        # standard output is full or gone (`chipsim schema > /dev/full`, a closed pipe):
        # say so once on stderr, and keep the interpreter's final flush from failing again
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write(f"chipsim: cannot write the output: {exc.strerror}\n")
        sys.exit(USER_ERROR)


if __name__ == "__main__":
    main()
