"""What ``chipsim run`` and ``chipsim compare`` print and write: the KPI table or the
ranking, the headlines, then the run folder, whose charts and briefing a process started
before the simulation draws (``sim.reporting.background``) while the tables are written.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from .labels import label_of
from .sanitize import for_plain_terminal, for_terminal
from .units import compact, flops, is_compute, percent, quantity, si, sig, signed, unit_word

if TYPE_CHECKING:
    from .reporting.background import ReportProcess


@contextmanager
def drawing(report: bool) -> Iterator[ReportProcess | None]:
    """Around a whole command: a report process warming up (when ``report`` and the
    platform allow; else None), ended on leaving, whatever happened."""
    from .reporting.background import ReportProcess

    process = ReportProcess.start() if report else None
    try:
        yield process
    finally:
        if process is not None:
            process.cancel()


def save(what, target: Path, force: bool, report: bool, pdf: bool, progress: bool, svg: bool,
         process: ReportProcess | None) -> Path:
    """Write the folder of a run (``Results``) or a comparison as ``save`` does, the report
    drawn by ``process`` beside the tables when there is one."""
    from .results import save_folder
    from .rundir import save_comparison, save_run

    write = save_comparison if hasattr(what, "variants") else save_run
    return save_folder(write, what, target, force, report, pdf, progress, svg, process)


def run_summary(out: Console, results) -> None:
    """The KPI table of a run, then its headlines, on ``out``."""
    from rich import box
    from rich.table import Table

    table = Table(title=f"{for_terminal(results.scenario.name)}\n{results.replications} replication(s), seed {results.seed}",
                  box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("demand node / product", overflow="fold", min_width=22, ratio=3)
    for col in ("demand", "shortfall", "fill rate", "survive (days)", "recover (days)"):
        table.add_column(col, justify="right", max_width=10, ratio=1)

    def fmt(x: float, pct: bool = False) -> str:
        if x != x:  # NaN
            return "-"
        if pct:
            return percent(x)
        for scale, suffix in ((1e12, " T"), (1e9, " bn"), (1e6, " M")):  # narrow cells: short suffixes
            if abs(x) >= scale:
                return f"{sig(x / scale)}{suffix}"
        return sig(x)

    sc = results.scenario
    for _, row in results.kpis.iterrows():
        node = sc.nodes.get(row["node"])
        product = sc.products.get(row["product"])
        where = for_terminal(label_of(row["node"], getattr(node, "label", None)))
        unit = unit_word(str(row["unit"]))
        what = for_terminal(unit if row["product"] == row["unit"] else  # compute rows: the product is the measure
                            f"{label_of(row['product'], getattr(product, 'label', None))} ({unit})")
        table.add_row(f"{where}\n[dim]{what}[/dim]", fmt(row["demand"]), fmt(row["shortfall"]),
                      fmt(row["fill_rate"], pct=True), fmt(row["time_to_survive_days"]), fmt(row["time_to_recover_days"]))
    out.print(table)
    out.print("Means over replications. Survive '-': never short; recover '-': still short on the last day.")
    print_headlines(out, getattr(results, "headlines", None))


def print_headlines(out: Console, headlines, differences=None) -> None:
    """The scenario's headlines: mean and 5-95% range; for a comparison per variant, with
    the change against the base."""
    if headlines is None or not len(headlines):
        return
    out.print("Headlines (mean, and 5-95% over replications when there are several):")
    same: dict[str, int] = {}   # per option: headlines equal to the base's in every replication
    shown: dict[str, int] = {}  # per option: headlines printed

    def flush(variant) -> None:
        n = same.pop(variant, 0)
        if n:
            other = "other " if shown.get(variant) else ""
            out.print(for_plain_terminal(f"  [{variant}] {n} {other}headline{'s' if n > 1 else ''}: as the base in "
                                         "every replication"), markup=False)

    previous = None
    for _, h in headlines.iterrows():
        if "variant" in h.index and h["variant"] != previous:
            flush(previous)
            previous = h["variant"]
        who = f"[{h['variant']}] " if "variant" in h.index else ""
        name = h.get("label", h["headline"])
        unit = str(h.get("unit", ""))
        spread = f" ({_amount(h['p05'], unit)} to {_amount(h['p95'], unit)})" if h.get("replications", 1) > 1 else ""
        value = quantity(h["mean"], unit) if is_compute(unit) else f"{compact(h['mean'])} {unit_word(unit)}"
        line = f"  {who}{name}: {value}{spread}"
        if differences is not None and len(differences) and "variant" in h.index:
            d = differences[(differences["variant"] == h["variant"]) & (differences["headline"] == h["headline"])]
            if len(d):
                d = d.iloc[0]
                if d.get("pairs", 1) > 1 and _negligible(d):
                    # a wall of "vs base 0 (0 to 0)" hides the lines that differ: count these instead
                    same[h["variant"]] = same.get(h["variant"], 0) + 1
                    continue
                interval = (f" ({_amount(d['difference_low'], unit)} to {_amount(d['difference_high'], unit)})"
                            if d.get("pairs", 1) > 1 else "")
                line += f"; vs base {_amount(d['difference'], unit, sign=True)}{interval}"
        line = for_plain_terminal(line)
        out.print(line, markup=False)
        if "variant" in h.index:
            shown[h["variant"]] = shown.get(h["variant"], 0) + 1
    flush(previous)


def _amount(x: float, unit: str, sign: bool = False) -> str:
    """A spread or a difference in the headline's own scale: compute measures in SI FLOPS
    ("114 EFLOPS", as the mean beside it), other units with millions in words; a
    difference with its sign."""
    text = si(flops(x, unit), "FLOPS") if is_compute(unit) else compact(x)
    return "+" + text if sign and x > 0 else text


def _negligible(d) -> bool:
    """True when a paired difference is zero up to floating-point noise: summing the same
    flows in another order leaves ~1e-16 of the value, which the terminal would print as
    "-0.0000000000225". The CSV keeps the exact differences."""
    scale = max(abs(float(d.get("base_mean", 0.0) or 0.0)), abs(float(d.get("option_mean", 0.0) or 0.0)), 1.0)
    return all(abs(float(d[k])) <= 1e-9 * scale for k in ("difference", "difference_low", "difference_high"))


def compare_summary(out: Console, comparison) -> None:
    """The ranking of a comparison, its notes, then its headlines, on ``out``."""
    from rich import box
    from rich.table import Table

    from .metrics import label

    node, product = comparison.focus
    sc = comparison.base.results.scenario
    where = label_of(node, getattr(sc.nodes.get(node), "label", None))
    what = label_of(product, getattr(sc.products.get(product), "label", None))
    table = Table(title=for_terminal(f"Options ranked by {label(comparison.rank_by)} at {where} ({what})") + "\n"
                        f"{comparison.replications} replication(s) each, seed {comparison.seed}, common random numbers",
                  box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("option", overflow="fold", ratio=3)
    table.add_column("mean", justify="right")
    table.add_column("change vs base (90%)", justify="right", ratio=2)
    diffs = comparison.differences
    labels = {v.id: v.label for v in comparison.variants}
    for _, r in comparison.ranking.iterrows():
        change = "base"
        if r["variant"] != comparison.base.id:
            d = diffs[(diffs["variant"] == r["variant"]) & (diffs["node"] == node) & (diffs["product"] == product)
                      & (diffs["metric"] == comparison.rank_by)]
            if len(d):
                d = d.iloc[0]
                change = (f"{signed(d['difference'])} ({sig(d['difference_low'])} to {sig(d['difference_high'])})"
                          if d["pairs"] > 1 else signed(d["difference"]))
        table.add_row(str(r["rank"]), for_terminal(labels[r["variant"]]), sig(r["mean"]), change)
    out.print(table)
    for note in comparison.notes:
        out.print(f"[yellow]{for_terminal(note)}[/yellow]")
    print_headlines(out, comparison.headlines, comparison.headline_differences)
