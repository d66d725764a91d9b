"""``chipsim drivers``: the command's options and what it prints (``sim.cli`` registers it).

The work is ``sim.drivers.drivers`` and ``Drivers.save``; this module parses the command
line, prints one sentence per headline (its interval over the uncertain inputs and its
top inputs) and names the folder written. User strings are neutralised for the terminal.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from .errors import ScenarioError
from .sanitize import for_plain_terminal


def register(app: typer.Typer, guard: Callable[[str], Callable], err: Any, out: Any) -> None:
    """Add the ``drivers`` command to ``app``; ``guard`` is cli's error-reporting decorator."""

    @app.command()
    @guard("interrupted; no drivers directory was written")
    def drivers(
        file: Path = typer.Argument(..., help="Scenario file with `headlines:` and uncertain inputs (distributions)."),
        trajectories: int = typer.Option(10, "--trajectories", "-r", min=2, help="Morris trajectories (each costs "
                                                                                 "inputs + 1 evaluations)."),
        samples: int = typer.Option(32, "--samples", "-N", min=2, help="Latin-hypercube points for each headline's "
                                                                       "5-95% interval over the inputs."),
        top: int = typer.Option(3, "--top", min=1, help="Inputs reported per headline (each run at its 5% and 95%)."),
        headline: list[str] = typer.Option([], "--headline", help="Only this declared headline (repeatable)."),
        replications: int = typer.Option(1, "--replications", "-n", min=1, help="Replications per evaluation "
                                                                                "(common random numbers)."),
        seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed (default: the file's)."),
        workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes."),
        output: Path | None = typer.Option(None, "--out", "-o", help="Folder to create for drivers.csv, indices.csv, "
                                                                     "evaluations.csv, drivers.html (default: "
                                                                     "runs/drivers-<file>-<time>)."),
        force: bool = typer.Option(False, "--force", help="Replace an existing --out folder."),
        no_report: bool = typer.Option(False, "--no-report", help="Tables only: no chart or drivers.html."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """What drives each headline: Morris screening over the file's uncertain inputs."""
        import datetime as _dt

        from .drivers import drivers as run_drivers
        from .reporting.driversbriefing import driver_sentences
        from .rundir import check_keeps_inputs, check_replaceable, files_read

        target = output or Path("runs") / f"drivers-{file.stem}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        check_replaceable(target, force)
        check_keeps_inputs(target, files_read([file]))
        try:
            drv = run_drivers(file, headline, trajectories=trajectories, samples=samples, top=top,
                              replications=replications, seed=seed, workers=workers, progress=not quiet)
        except ScenarioError as exc:
            for problem in exc.problems:
                err.print(for_plain_terminal(problem), markup=False)
            raise typer.Exit(2) from None
        saved = drv.save(target, force=force, report=not no_report)
        for text in driver_sentences(drv.table()):
            out.print(for_plain_terminal("- " + text), markup=False)
        out.print(for_plain_terminal(f"drivers.csv, indices.csv, evaluations.csv and drivers.html in {saved}"),
                  markup=False)


# ``chipsim run --drivers``: a quick screening, enough to name each headline's largest
# inputs; `chipsim drivers` runs the library's 10 trajectories and 32 points
RUN_TRAJECTORIES, RUN_SAMPLES = 4, 16


def _needs_salib() -> None:
    import importlib.util

    from .errors import ChipsimUserError

    if importlib.util.find_spec("SALib") is None:
        raise ChipsimUserError("--drivers needs SALib: pip install 'chipsim[explore]'")


def check_run_drivers(scenario: Any) -> None:
    """Refuse ``--drivers`` before anything runs when SALib is missing, or the scenario has
    no headline or no uncertain input (``ChipsimUserError``, the words of ``chipsim drivers``)."""
    from .drivers import plan

    _needs_salib()
    plan(scenario)


def check_compare_drivers(scenarios: list, ids: list[str]) -> None:
    """Refuse ``compare --drivers`` before anything runs: SALib missing, a base without
    headlines, no uncertain input in any file, or an option the base's headlines cannot
    measure (``ChipsimUserError``)."""
    from .comparedrivers import plan_compare

    _needs_salib()
    plan_compare(scenarios, ids)


def _save_and_brief(drv: Any, folder: Path, quiet: bool, report: bool, pdf: bool, out: Any, what: str) -> None:
    """Save ``drv`` into ``folder/drivers`` and, with a report, rewrite the briefing so that
    it lists what moves each headline (the charts already drawn are placed again, not
    drawn again); then print one sentence per screened quantity."""
    from .reporting.briefing import write_briefing
    from .rundir import load_run, rebuild_report

    drv.save(folder / "drivers", report=report)
    if report:
        charts = sorted((folder / "charts").glob("*.png"))
        rebuild_report(folder, load_run(folder), lambda data, stage: write_briefing(data, stage, charts, pdf=pdf))
    if not quiet:
        from .reporting.driversbriefing import driver_sentences

        out.print(f"{what} (Morris screening, {RUN_TRAJECTORIES} trajectories; drivers/drivers.html):", markup=False)
        for text in driver_sentences(drv.table(), drv.differences):
            out.print(for_plain_terminal("- " + text), markup=False)


def run_drivers_into(scenario: Any, folder: Path, seed: int | None, workers: int, quiet: bool, report: bool,
                     pdf: bool, out: Any) -> None:
    """``chipsim run --drivers``: screen the run's scenario into ``folder/drivers`` and, with
    a report, rewrite the briefing so that it lists what moves each headline."""
    from .drivers import drivers as run_drivers

    drv = run_drivers(scenario, trajectories=RUN_TRAJECTORIES, samples=RUN_SAMPLES, seed=seed, workers=workers,
                      progress=not quiet)
    _save_and_brief(drv, folder, quiet, report, pdf, out, "What moves the headlines")


def compare_drivers_into(scenarios: list, ids: list[str], folder: Path, seed: int | None, workers: int, quiet: bool,
                         report: bool, pdf: bool, out: Any) -> None:
    """``chipsim compare --drivers``: screen each option's difference from the base into
    ``folder/drivers`` (``sim.comparedrivers``) and, with a report, rewrite the briefing."""
    from .comparedrivers import compare_drivers

    drv = compare_drivers(scenarios, ids, trajectories=RUN_TRAJECTORIES, samples=RUN_SAMPLES, seed=seed,
                          workers=workers, progress=not quiet)
    _save_and_brief(drv, folder, quiet, report, pdf, out, "What moves each option's difference from the base")
