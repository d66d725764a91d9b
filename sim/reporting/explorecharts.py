"""The charts of an exploration: regret per option, Sobol indices, the failing futures.

Pure functions of the exploration's tables (``sim.exploration.Exploration``, read by
attribute); every figure is drawn outside pyplot and written through ``save_figure``.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..inputlabels import input_label
from ..metrics import METRICS
from ..rundir import write_csv
from .charts import save_figure
from .style import PALETTE, chart_style, new_figure, variant_colours
from .words import node_label


def focus_words(exp: Any) -> str:
    """The focus demand node's label ("EU magnet users"), else its id."""
    return node_label(exp.scenarios[0], exp.focus[0]) if exp.scenarios else exp.focus[0]


def input_words(exp: Any, path: str) -> str:
    """A reader's name for an input path, from the base scenario ("CN licences on
    listed-REE magnets: review days"); the path itself without one."""
    return input_label(path, exp.scenarios[0].to_document()) if exp.scenarios else path


def threshold_words(exp: Any) -> str:
    """The threshold as words: "fill rate at EU magnet users >= 0.998"."""
    t = exp.threshold
    return f"{METRICS[t.metric].label} at {focus_words(exp)} {t.op} {t.value:g}"


def _short(text: str, n: int = 44) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def regret_chart(exp: Any, source: str) -> Any:
    """Each option's regret over the futures (box: 25-75%, whiskers: 5-95%, dot: mean,
    diamond: 90th percentile), best-ranked option on top, in the metric's unit."""
    order = list(exp.robustness["option"])
    colours = variant_colours(exp.options)
    fig = new_figure(figsize=(10, 1.6 + 0.7 * len(order)))
    ax = fig.subplots()
    fraction = METRICS[exp.metric].unit == "fraction"  # a fill rate's regret reads in percentage points
    for i, option in enumerate(order):
        r = exp.regret.loc[exp.regret["option"] == option, "regret"].to_numpy(float) * (100 if fraction else 1)
        r = r[np.isfinite(r)]
        if not r.size:
            continue
        ax.boxplot([r], positions=[i], orientation="horizontal", whis=(5, 95), widths=0.5, showfliers=False, patch_artist=True,
                   boxprops={"facecolor": colours[option], "alpha": 0.35}, medianprops={"color": "#333333"})
        ax.plot([r.mean()], [i], "o", color=colours[option], ms=6)
        ax.plot([np.quantile(r, 0.9)], [i], "D", color="#333333", ms=5)
    ax.set_yticks(range(len(order)), [_short(exp.labels.get(o, o)) for o in order])
    ax.invert_yaxis()
    unit = "percentage points" if fraction else METRICS[exp.metric].unit
    ax.set_xlabel(f"regret in {METRICS[exp.metric].label} at {focus_words(exp)} ({unit}): how far each option falls behind "
                  "the best option of the same future")
    best = exp.labels.get(order[0], order[0])
    ax.set_title(textwrap.fill(f"Regret over {exp.table['future'].nunique()} futures: '{_short(best, 60)}' ranks first "
                               "(dot: mean, diamond: 90th percentile)", 80))
    ax.grid(axis="x", alpha=0.3)
    fig.text(0.01, 0.01, source, fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.3, right=0.97, bottom=0.25 if len(order) < 4 else 0.15, top=0.85)
    return fig


def sensitivity_chart(sens: pd.DataFrame, what: str, source: str) -> Any:
    """First-order (S1) and total (ST) Sobol indices per input with their 95% intervals."""
    fig = new_figure(figsize=(10, 1.6 + 0.6 * len(sens)))
    ax = fig.subplots()
    y = np.arange(len(sens))
    ax.barh(y - 0.18, sens["S1"], height=0.34, xerr=sens["S1_conf"], color=PALETTE[2], label="first order (S1)",
            error_kw={"lw": 1})
    ax.barh(y + 0.18, sens["ST"], height=0.34, xerr=sens["ST_conf"], color=PALETTE[0], label="total (ST)",
            error_kw={"lw": 1})
    ax.set_yticks(y, [_short(str(n), 48) for n in sens["input"]])
    ax.invert_yaxis()
    ax.set_xlabel("share of the outcome's variance over the futures (whiskers: 95% bootstrap interval)")
    ax.set_title(textwrap.fill(f"What drives {what}", 95))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.text(0.01, 0.01, source, fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.3, right=0.97, bottom=0.25 if len(sens) < 4 else 0.14, top=0.85)
    return fig


def failing_chart(exp: Any, source: str) -> Any | None:
    """The best option's futures over the two inputs its PRIM box restricts first (or the
    first two inputs): failing futures in red, the box outlined. None with one input."""
    names = [i.name for i in exp.inputs]
    if len(names) < 2 or exp.threshold is None:
        return None
    boxed = [str(n) for n in exp.box["input"]] if len(exp.box) else []
    picked = list(dict.fromkeys([*boxed, *names]))[:2]
    mine = exp.table[exp.table["option"] == exp.best]
    fails = ~exp.threshold.met(mine[exp.threshold.metric])
    fig = new_figure(figsize=(8, 6))
    ax = fig.subplots()
    ax.scatter(mine[picked[0]][~fails], mine[picked[1]][~fails], s=10, color=PALETTE[6], alpha=0.6, label="meets the threshold")
    if fails.any():  # no legend entry for a class with no point
        ax.scatter(mine[picked[0]][fails], mine[picked[1]][fails], s=12, color=PALETTE[1], alpha=0.8, label="misses it")
    if len(exp.box):
        lim = {r["input"]: (r["low"], r["high"]) for _, r in exp.box.iterrows()}
        x0, x1 = lim.get(picked[0], (mine[picked[0]].min(), mine[picked[0]].max()))
        y0, y1 = lim.get(picked[1], (mine[picked[1]].min(), mine[picked[1]].max()))
        ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="#333333", lw=1.4, label="PRIM box")
    ax.set_xlabel(_short(input_words(exp, picked[0]), 70))
    ax.set_ylabel(_short(input_words(exp, picked[1]), 70))
    who = _short(exp.labels.get(exp.best, exp.best), 60)
    title = (f"Where '{who}' misses {threshold_words(exp)}" if fails.any() else
             f"'{who}' meets {threshold_words(exp)} in every future explored")
    ax.set_title(textwrap.fill(title, 80))
    ax.legend(loc="best", fontsize=8)
    fig.text(0.01, 0.005, source, fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.88)
    return fig


def save_explore_charts(exp: Any, folder: Path, source: str) -> list[Path]:
    """The regret, failing-futures and sensitivity charts as PNG and SVG, with the
    regret and sensitivity numbers as CSV, in ``folder`` (created)."""
    folder.mkdir(exist_ok=True)
    made: list[Path] = []
    with chart_style():
        figures = {"regret": regret_chart(exp, source), "failing": failing_chart(exp, source)}
        if exp.sensitivity is not None and len(exp.sensitivity):
            what = f"{METRICS[exp.metric].label} of '{exp.labels.get(exp.best, exp.best)}' at {focus_words(exp)} (Sobol indices)"
            figures["sensitivity"] = sensitivity_chart(exp.sensitivity, what, source)
        for name, fig in figures.items():
            if fig is None:
                continue
            for ext in ("png", "svg"):
                made.append(folder / f"{name}.{ext}")
                save_figure(fig, made[-1])
    write_csv(folder / "regret.csv", exp.regret)
    return made + [folder / "regret.csv"]
