"""Run charts: pure functions from tidy tables to matplotlib figures, saved with their data.

Every chart states its finding in the title, labels units, uses dates on the time axis,
shows the 5-95% band over replications, shades the shock windows and carries a source
line (scenario, chipsim version, seed, replications). Each PNG has an SVG and a CSV of
the plotted numbers beside it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .. import __version__  # noqa: E402
from ..quantities import day_number  # noqa: E402

PALETTE = ["#1f5aa6", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d96a3", "#2e4057", "#a05195"]


def daily_band(timeseries: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Median and 5th/95th percentiles over replications of one metric, per node and date."""
    sub = timeseries[timeseries["metric"] == metric]
    grouped = sub.groupby(["node", "product", "date"], observed=True)["value"]
    band = grouped.quantile([0.05, 0.5, 0.95]).unstack()
    band.columns = ["p05", "median", "p95"]
    return band.reset_index()


def _shade_shocks(ax, results) -> None:
    sc = results.scenario
    last = pd.Timestamp(sc.start_date) + pd.Timedelta(days=sc.horizon)
    for i, shock in enumerate(sc.shocks):
        start = pd.Timestamp(sc.start_date) + pd.Timedelta(days=max(0, day_number(shock.start, sc.start_date)))
        end = last if shock.end is None else pd.Timestamp(sc.start_date) + pd.Timedelta(days=day_number(shock.end, sc.start_date))
        ax.axvspan(start, min(end, last), color="#8d96a3", alpha=0.15, lw=0)
        ax.annotate(shock.label(i), xy=(start, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize=8, color="#2e4057")


def _source_line(fig, results) -> None:
    fig.text(0.01, 0.01, f"Source: chipsim {__version__}, scenario '{results.scenario.name}', "
             f"{results.replications} replication(s), seed {results.seed}. Line: median; band: 5-95%.",
             fontsize=7, color="#555555")


def shortfall_chart(results):
    """Daily shortfall at each demand node; returns (figure, plotted table)."""
    band = daily_band(results.timeseries, "shortfall")
    fig, ax = plt.subplots(figsize=(10, 5.2))
    k = results.kpis
    worst = k.sort_values("shortfall", ascending=False).iloc[0] if len(k) else None
    if worst is not None and worst["shortfall"] > 0:
        title = (f"{worst['node']} loses {worst['shortfall']:,.0f} {worst['unit']} of {worst['product']} "
                 f"({1 - worst['fill_rate']:.0%} of demand) over the run")
    else:
        title = "No demand node falls short in this scenario"
    for i, ((node, product), grp) in enumerate(band.groupby(["node", "product"], observed=True)):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(grp["date"], grp["median"], color=color, lw=1.8, label=f"{node} ({product})")
        ax.fill_between(grp["date"], grp["p05"], grp["p95"], color=color, alpha=0.18, lw=0)
    _shade_shocks(ax, results)
    units = sorted(set(k["unit"])) if len(k) else []
    ax.set_ylabel(f"shortfall per day ({', '.join(u for u in units if u) or 'units'})")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(band):
        ax.legend(frameon=False, fontsize=9, loc="upper right")
    fig.subplots_adjust(bottom=0.14, top=0.9, left=0.08, right=0.98)
    _source_line(fig, results)
    return fig, band


def save_run_charts(results, folder: Path) -> list[Path]:
    """Write the run's charts (PNG, SVG) and their data (CSV) into ``folder``."""
    written = []
    if (results.timeseries["metric"] == "shortfall").any():
        fig, table = shortfall_chart(results)
        for ext in ("png", "svg"):
            path = folder / f"shortfall.{ext}"
            fig.savefig(path, dpi=150)
            written.append(path)
        plt.close(fig)
        table.to_csv(folder / "shortfall.csv", index=False)
        written.append(folder / "shortfall.csv")
    return written
