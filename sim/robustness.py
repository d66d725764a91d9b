"""Robustness of options over many futures: thresholds, regret, satisficing, signposts.

Pure functions of an exploration's table (one row per future and option, one column per
input and per outcome, see ``sim.exploration``): nothing here runs a simulation.

- **Regret** of an option in a future is how much worse its outcome is than the best
  option's in that same future (in the metric's unit; zero for the best option).
- **Satisficing** is the share of futures in which an option meets the user's
  threshold (``fill_rate@eu_magnet_users>=0.95``).
- **Signposts** are the inputs or early metrics whose value best separates the futures
  where an option fails from those where it holds (largest true-positive minus
  false-positive rate of a single cut), with the option that does best beyond the cut.
"""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .discovery import plain_name
from .errors import ChipsimUserError, did_you_mean
from .metrics import METRICS, rankable

_OPS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt,
                                                        "<": operator.lt}
_THRESHOLD = re.compile(r"^(?P<metric>[^@]*)@(?P<row>[^<>=]*)(?P<op>>=|<=|>|<)(?P<value>.*)$")


@dataclass(frozen=True)
class Threshold:
    """``metric`` at demand row ``node`` (``product``, empty: the node's first) compared
    by ``op`` with ``value`` (in the metric's unit; a fill rate as a fraction)."""

    metric: str
    node: str
    product: str
    op: str
    value: float

    @property
    def text(self) -> str:
        """The threshold as the user writes it."""
        row = f"{self.node}:{self.product}" if self.product else self.node
        return f"{self.metric}@{row}{self.op}{self.value:g}"

    def met(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Whether each value meets the threshold (NaN never does)."""
        arr = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.asarray(_OPS[self.op](arr, self.value), dtype=bool) & np.isfinite(arr)


def _caret(text: str, column: int, message: str) -> ChipsimUserError:
    """A threshold error pointing at ``column`` (0-based) of ``text``."""
    return ChipsimUserError(f"--threshold {text!r}: column {column + 1}: {message}\n  {text}\n  {' ' * column}^\n"
                            "  write METRIC@NODE>=X (or NODE:PRODUCT; >=, <=, >, <), e.g. fill_rate@eu_magnet_users>=0.95")


def parse_threshold(text: str) -> Threshold:
    """``METRIC@NODE[:PRODUCT]OP X`` -> Threshold; a percentage (``95%``) is a fraction.
    Errors name the column of the first thing wrong."""
    match = _THRESHOLD.match(text)
    if not match:
        has_at = "@" in text
        raise _caret(text, len(text), "no comparison (>=, <=, >, <) after the node" if has_at
                     else "no '@NODE' after the metric")
    metric = match.group("metric").strip()
    if metric not in rankable():
        raise _caret(text, 0, f"'{metric}' is not a metric with a better direction{did_you_mean(metric, rankable())}; "
                              f"choose one of: {', '.join(rankable())}")
    node, _, product = match.group("row").strip().partition(":")
    if not node:
        raise _caret(text, match.start("row"), "no node after '@'")
    raw = match.group("value").strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise _caret(text, match.start("value"), f"'{raw}' is not a number") from None
    if not math.isfinite(value):
        raise _caret(text, match.start("value"), f"'{raw}' is not a finite number")
    return Threshold(metric, node.strip(), product.strip(), match.group("op"), value)


def _sign(metric: str) -> float:
    """+1 when more of the metric is better, -1 when less is."""
    direction = METRICS[metric].direction
    if direction is None:
        raise ChipsimUserError(f"'{metric}' has no better direction; choose one of: {', '.join(rankable())}")
    return 1.0 if direction == "higher" else -1.0


def regret(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per future and option: the outcome and its regret, how far it falls short of the
    best option's outcome in that future (>= 0, in the metric's unit). A future where
    an option's outcome is NaN gives that option NaN regret and is not used for the best."""
    wide = table.pivot(index="future", columns="option", values=metric)
    sign = _sign(metric)
    best = (wide * sign).max(axis=1) * sign
    gap = (best.to_numpy()[:, None] - wide.to_numpy()) * sign
    out = pd.DataFrame(gap, index=wide.index, columns=wide.columns).stack(future_stack=True).rename("regret")
    frame = out.reset_index()
    return frame.merge(table[["future", "option", metric]], on=["future", "option"]).sort_values(["future", "option"],
                                                                                                 ignore_index=True)


def robustness(table: pd.DataFrame, metric: str, threshold: Threshold | None = None,
               options: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per option: the outcome's mean, 5/50/95% over futures, mean and 90th
    percentile regret, how often it is the best, and (with ``threshold``) the share of
    futures meeting it; sorted best first (highest satisficing share, then lowest mean
    regret)."""
    reg = regret(table, metric)
    order = list(options) if options is not None else list(dict.fromkeys(table["option"]))
    rows = []
    for option in order:
        mine = reg[reg["option"] == option]
        values = mine[metric].to_numpy(float)
        r = mine["regret"].to_numpy(float)
        row = {"option": option, "futures": int(np.isfinite(values).sum()), "mean": _nanstat(np.nanmean, values),
               "p05": _nanq(values, 0.05), "p50": _nanq(values, 0.5), "p95": _nanq(values, 0.95),
               "regret_mean": _nanstat(np.nanmean, r), "regret_p90": _nanq(r, 0.9),
               "best_share": float(np.mean(r == 0.0)) if len(r) else math.nan}
        if threshold is not None:
            row["satisficing"] = float(np.mean(threshold.met(values))) if len(values) else math.nan
        rows.append(row)
    frame = pd.DataFrame(rows)
    keys = (["satisficing"] if threshold is not None else []) + ["regret_mean"]
    ascending = ([False] if threshold is not None else []) + [True]
    frame = frame.sort_values(keys, ascending=ascending, kind="stable", ignore_index=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def _nanstat(fn: Callable, values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(fn(finite)) if finite.size else math.nan


def _nanq(values: np.ndarray, q: float) -> float:
    finite = values[np.isfinite(values)]
    return float(np.quantile(finite, q)) if finite.size else math.nan


@dataclass(frozen=True)
class Cut:
    """A single cut on one column: futures with ``column`` ``above`` (True: > ``value``;
    False: <= ``value``) are flagged. ``tpr`` and ``fpr``: the shares of failing and of
    holding futures flagged."""

    column: str
    value: float
    above: bool
    tpr: float
    fpr: float

    @property
    def score(self) -> float:
        """Youden's J: the true-positive rate minus the false-positive rate."""
        return self.tpr - self.fpr


def best_cut(x: np.ndarray, failing: np.ndarray, column: str) -> Cut | None:
    """The cut of ``x`` that best separates ``failing`` futures from the others (largest
    Youden's J over every midpoint between sorted distinct values, either direction);
    None when the column is constant or one class is empty."""
    ok = np.isfinite(x)
    x, failing = x[ok], failing[ok].astype(bool)
    n_fail, n_hold = int(failing.sum()), int((~failing).sum())
    values = np.unique(x)
    if n_fail == 0 or n_hold == 0 or values.size < 2:
        return None
    cuts = (values[:-1] + values[1:]) / 2
    above = x[None, :] > cuts[:, None]
    tpr = (above & failing).sum(axis=1) / n_fail
    fpr = (above & ~failing).sum(axis=1) / n_hold
    j_up, j_down = tpr - fpr, fpr - tpr  # flagging the low side swaps the rates' complements
    k_up, k_down = int(np.argmax(j_up)), int(np.argmax(j_down))
    if j_up[k_up] >= j_down[k_down]:
        return Cut(column, float(cuts[k_up]), True, float(tpr[k_up]), float(fpr[k_up]))
    return Cut(column, float(cuts[k_down]), False, float(1 - tpr[k_down]), float(1 - fpr[k_down]))


def signposts(table: pd.DataFrame, option: str, columns: Sequence[str], threshold: Threshold,
              top: int = 3) -> pd.DataFrame:
    """The ``top`` columns (inputs or early metrics of ``option``) whose single cut best
    separates the futures where ``option`` misses ``threshold``, each with the option
    that meets it most often beyond the cut (``switch_to``, and its share there) and
    ``option``'s own share there. Empty when ``option`` never fails or always fails."""
    mine = table[table["option"] == option].sort_values("future")
    failing = ~threshold.met(mine[threshold.metric])
    cuts = [c for c in (best_cut(mine[col].to_numpy(float), failing, col) for col in columns) if c is not None]
    cuts.sort(key=lambda c: -c.score)
    rows = []
    for cut in cuts[:top]:
        x = mine[cut.column].to_numpy(float)
        flagged = set(mine["future"][(x > cut.value) if cut.above else (x <= cut.value)])
        there = table[table["future"].isin(flagged)]
        shares = there.groupby("option", sort=False)[threshold.metric].apply(lambda v: float(np.mean(threshold.met(v))))
        switch = str(shares.idxmax()) if len(shares) else option
        if shares.get(switch, math.nan) <= shares.get(option, -math.inf):  # switch only to a strictly better option
            switch = option
        rows.append({"watch": cut.column, "above": cut.above, "value": cut.value, "tpr": cut.tpr, "fpr": cut.fpr,
                     "score": cut.score, "futures": len(flagged), "option": option,
                     "option_share": float(shares.get(option, math.nan)), "switch_to": switch,
                     "switch_share": float(shares.get(switch, math.nan))})
    return pd.DataFrame(rows, columns=["watch", "above", "value", "tpr", "fpr", "score", "futures", "option",
                                       "option_share", "switch_to", "switch_share"])


def signpost_words(posts: pd.DataFrame, labels: dict[str, str], dates: dict[str, str] | None = None,
                   fmt: Callable[[str, float], str] | None = None) -> list[str]:
    """Each signpost as "Watch X: if it exceeds Y by DATE, switch to Z ...". ``labels``
    names the options, ``dates`` gives the date by which a column is known (an early
    metric's day; absent: no date), ``fmt(column, value)`` writes a value."""
    write = fmt or (lambda _c, v: f"{v:.3g}")
    out = []
    for _, row in posts.iterrows():
        col, option, switch = str(row["watch"]), str(row["option"]), str(row["switch_to"])
        verb = "exceeds" if row["above"] else "stays at or below"
        when = f" by {dates[col]}" if dates and col in dates else ""
        mine, theirs = f"{100 * row['option_share']:.0f}%", f"{100 * row['switch_share']:.0f}%"
        lead = f"Watch {plain_name(col)}: if it {verb} {write(col, float(row['value']))}{when}"
        if switch == option:
            out.append(f"{lead}, no other option does better there: '{labels.get(option, option)}' meets the threshold "
                       f"in {mine} of those {row['futures']} futures (the cut flags {100 * row['tpr']:.0f}% of its "
                       "failures).")
        else:
            out.append(f"{lead}, switch to '{labels.get(switch, switch)}': in those {row['futures']} futures it meets the "
                       f"threshold in {theirs}, '{labels.get(option, option)}' in {mine} (the cut flags "
                       f"{100 * row['tpr']:.0f}% of its failures and {100 * row['fpr']:.0f}% of its successes).")
    return out
