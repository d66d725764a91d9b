"""``chipsim explore``: the command's options and what it prints (``sim.cli`` registers it).

The work is ``sim.exploration.explore`` and ``Exploration.save``; this module parses the
command line, prints the robustness table, the PRIM box and the signposts, and names
the folder written. User strings are neutralised for the terminal.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from .errors import ScenarioError
from .sanitize import for_plain_terminal


def _print_result(exp: Any, saved: Path, out: Any) -> None:
    from rich import box
    from rich.table import Table

    from .exploresave import signpost_table
    from .reporting.explorebriefing import context

    ctx = context(exp, [])
    title = f"{exp.table['future'].nunique()} futures at {exp.focus[0]}"
    if exp.threshold is not None:  # the threshold once in the title, not folded into a narrow column
        title += f"; threshold {exp.threshold.text}"
    # the briefing's eight columns folded into five, so that the table reads in 80 columns:
    # the mean with its 5-95% range, the mean regret with its 90th percentile
    header = ["rank", "option", f"{ctx['header'][2]} (5-95%)", "mean regret (90th pct)", "best in"]
    if exp.threshold is not None:
        header.append("meets threshold")
    tbl = Table(title=for_plain_terminal(title), box=box.SIMPLE)
    for k, h in enumerate(header):  # the option ids whole; in a file no cell folds
        tbl.add_column(for_plain_terminal(h), overflow="fold", no_wrap=k == 1 or not out.is_terminal)
    for option, row in zip(exp.robustness["option"], ctx["rows"], strict=True):  # ids: shorter than the names
        cells = [row[0], str(option), f"{row[2]} ({row[3]})", f"{row[4]} ({row[5]})", *row[6:]]
        tbl.add_row(*[for_plain_terminal(c) for c in cells])
    if out.is_terminal:
        out.print(tbl)
    else:  # piped to a file or a log: as wide as the table needs (up to 160 columns), not rich's 80
        from rich.console import Console

        Console(file=out.file, width=160, highlight=False, emoji=False).print(tbl)
    out.print(for_plain_terminal(exp.box_words), markup=False)
    posts = signpost_table(exp)
    for text in (posts["text"] if len(posts) else ctx["signposts"]):
        out.print(for_plain_terminal(text), markup=False)
    out.print(for_plain_terminal(f"Table, robustness, PRIM box, signposts and briefing in {saved}"), markup=False)


def register(app: typer.Typer, guard: Callable[[str], Callable], err: Any, out: Any) -> None:
    """Add the ``explore`` command to ``app``; ``guard`` is cli's error-reporting decorator."""

    @app.command()
    @guard("interrupted; no exploration directory was written")
    def explore(
        files: list[Path] = typer.Argument(..., help="Base scenario first, then the options (variants of the base)."),
        vary: list[str] = typer.Option([], "--vary", help="PATH=DIST: LOW:HIGH, a date range, triangular(L,M,H), "
                                                          "normal(M,SD)...; PATH alone: the file's own distribution "
                                                          "(repeatable; none: every distribution of the base)."),
        futures: int = typer.Option(100, "--futures", "-N", min=1, help="Futures to sample (Latin hypercube)."),
        threshold: str | None = typer.Option(None, "--threshold", help="METRIC@NODE>=X an option must meet, e.g. "
                                                                       "'fill_rate@eu_magnet_users>=0.95'."),
        focus: str | None = typer.Option(None, "--focus", help="Demand row NODE[:PRODUCT] (default: the threshold's)."),
        metric: str | None = typer.Option(None, "--metric", help="Outcome for regret (default: the threshold's, else "
                                                                 "shortfall)."),
        replications: int | None = typer.Option(None, "--replications", "-n", min=1, help="Replications per future and "
                                                                                          "option (default: the base's)."),
        seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed (futures and replications)."),
        workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes (or Dask workers)."),
        executor: str = typer.Option("processes", "--executor", help="processes (local pool, default) or dask."),
        scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address; without it a "
                                                                        "LocalCluster starts."),
        sobol: int = typer.Option(0, "--sobol", min=0, help="Sobol base samples (a power of two, e.g. 64) for the "
                                                            "sensitivity of the best option; 0: none."),
        out_dir: Path | None = typer.Option(None, "--out", "-o", help="Directory to create (default: "
                                                                      "runs/explore-<base>-<time>)."),
        force: bool = typer.Option(False, "--force", help="Replace --out if it already exists."),
        no_report: bool = typer.Option(False, "--no-report", help="Tables only: no charts, no briefing."),
        no_pdf: bool = typer.Option(False, "--no-pdf", help="Charts and briefing.html, without briefing.pdf."),
        search_path: list[Path] = typer.Option([], "--search-path", help="Extra folder that `extends` may read from."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    ) -> None:
        """Run every option in sampled futures: robustness, regret, PRIM boxes, sensitivity, signposts, briefing."""
        import datetime as _dt

        from .exploration import explore as run_explore
        from .rundir import check_keeps_inputs, check_replaceable, files_read

        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = out_dir or Path("runs") / f"explore-{files[0].stem}-{stamp}"
        check_replaceable(target, force)
        check_keeps_inputs(target, files_read(files))
        try:
            exp = run_explore(files, vary, futures=futures, threshold=threshold, focus=focus, metric=metric,
                              replications=replications, seed=seed, workers=workers, executor=executor,
                              scheduler=scheduler, sobol=sobol, progress=not quiet, search_paths=search_path)
        except ScenarioError as exc:
            for problem in exc.problems:
                err.print(for_plain_terminal(problem), markup=False)
            raise typer.Exit(2) from None
        saved = exp.save(target, force=force, report=not no_report, pdf=not no_pdf)
        if not quiet:
            _print_result(exp, saved, out)
