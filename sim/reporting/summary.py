"""The briefing's content, written from a run's tables: the answer per option, the focus
node's key figures, what differs elsewhere (the rest collapsed), headlines and notes.

Every sentence names things by their labels and numbers by ``sim.units``; no interval
is written from fewer than two replications.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metrics import METRICS, briefed
from ..metrics import label as metric_label
from ..statistics import paired_interval
from ..units import compact, date_text, percent, quantity, sig, signed, unit_word
from .relevance import supply_chain, touches
from .words import is_plural as _plural
from .words import likelihood, node_label, product_label, spec_label, spec_sentence, timing_text


@dataclass
class Focus:
    """The demand row a briefing is about, with its reader-facing names."""

    node: str
    product: str
    unit: str
    node_label: str
    product_label: str


def focus(data: Any, node: str, product: str, unit: str) -> Focus:
    """A ``Focus`` with the base scenario's labels."""
    sc = data.base.scenario
    return Focus(node, product, unit, node_label(sc, node), product_label(sc, product) if product in sc.products
                 else unit_word(product))


def values(data: Any, vid: str, node: str, product: str, metric: str) -> pd.Series:
    """Per-replication values of one metric at one demand row, indexed by replication."""
    t = data.table
    rows = t[(t["variant"] == vid) & (t["node"] == node) & (t["product"] == product) & (t["metric"] == metric)]
    return rows.set_index("replication")["value"].astype(float)


def _mean(series: pd.Series) -> float:
    finite = series[np.isfinite(series)]
    return float(finite.mean()) if len(finite) else math.nan


def amount(x: float, f: Focus) -> str:
    """A quantity of the focus row's unit in words."""
    return quantity(x, f.unit)


def runs_text(data: Any, vid: str, f: Focus) -> tuple[int, int, int]:
    """(runs, short runs, recovered runs) of a variant at the focus row: from the KPI
    columns ``short_runs`` / ``recovered_runs`` when the run has them, else counted from
    the per-replication table (short: a finite time to survive; recovered: a finite
    time to recover)."""
    kpis = getattr(data, "kpis", None)
    if isinstance(kpis, pd.DataFrame) and {"short_runs", "recovered_runs"} <= set(kpis.columns):
        row = kpis[(kpis.get("variant", vid) == vid) & (kpis["node"] == f.node) & (kpis["product"] == f.product)]
        if len(row):
            r = row.iloc[0]
            return int(r["replications"]), int(r["short_runs"]), int(r["recovered_runs"])
    survive = values(data, vid, f.node, f.product, "time_to_survive_days")
    recover = values(data, vid, f.node, f.product, "time_to_recover_days")
    short = values(data, vid, f.node, f.product, "shortfall")
    n = len(short)
    was_short = np.isfinite(survive) if len(survive) else short > 0
    # a run that was never short has a time to recover of 0: only short runs can recover
    recovered = was_short & np.isfinite(recover.reindex(was_short.index))
    return n, int(was_short.sum()), int(recovered.sum())


def base_sentence(data: Any, f: Focus) -> str:
    """What happens in the base case at the focus row, with the run's dates."""
    sc = data.base.scenario
    short = _mean(values(data, data.base.id, f.node, f.product, "shortfall"))
    fill = _mean(values(data, data.base.id, f.node, f.product, "fill_rate"))
    n, n_short, n_rec = runs_text(data, data.base.id, f)
    end = sc.start_date + pd.Timedelta(days=sc.horizon - 1)
    span = f"between {date_text(sc.start_date)} and {date_text(end)}"
    if not short > 0:
        return f"In the base case ({data.base.label}) {f.node_label} gets all the {f.product_label} it asks for {span}."
    runs = "the single run" if n == 1 else f"the mean of {n} runs"
    text = (f"In the base case ({data.base.label}) {f.node_label} {'go' if _plural(f.node_label) else 'goes'} "
            f"without {amount(short, f)} of {f.product_label}, {percent(1 - fill)} of "
            f"{'their' if _plural(f.node_label) else 'its'} demand {span} ({runs}).")
    if n_short:
        rec = "none recovers before the end of the run" if n_rec == 0 else (
            f"{n_rec} of {n_short} recover before the end of the run" if n_short > 1 else "it recovers before the end")
        who, be, fall = ("They", "are", "fall") if _plural(f.node_label) else ("It", "is", "falls")
        text += f" {who} {be} short in {n_short} of {n} runs; {rec}." if n > 1 else f" {who} {fall} short in this run; {rec}."
    return text


def option_change(data: Any, vid: str, f: Focus) -> dict:
    """Paired change option - base of the focus row's shortfall: mean, interval, runs,
    and the share of runs in which the option does better (less shortfall)."""
    base = values(data, data.base.id, f.node, f.product, "shortfall")
    option = values(data, vid, f.node, f.product, "shortfall")
    pairs = pd.concat([base.rename("b"), option.rename("o")], axis=1).dropna()
    diff = (pairs["o"] - pairs["b"]).to_numpy(float)
    mean, low, high, n = paired_interval(diff)
    better = int((diff < 0).sum())
    same = int((diff == 0).sum())
    return {"mean": mean, "low": low, "high": high, "n": n, "better": better, "same": same,
            "share": better / n if n else math.nan}


def option_sentence(data: Any, vid: str, label: str, f: Focus) -> str:
    """One sentence per option: its change vs the base with the 90% interval (two or more
    runs) and the likelihood that it does better."""
    c = option_change(data, vid, f)
    what = f"the shortfall of {f.product_label} at {f.node_label}"
    if c["n"] == 0:
        return f"{label}: no result for {f.node_label} in this option's network."
    if c["same"] == c["n"]:
        runs = "the single run" if c["n"] == 1 else f"any of the {c['n']} runs"
        return f"{label} makes no difference to {what} in {runs}."
    verb = "cuts" if c["mean"] < 0 else "adds to"
    text = f"{label} {verb} {what} by {amount(abs(c['mean']), f)}"
    if c["n"] == 1:
        return text + " in the single run (one replication: no interval and no likelihood can be given)."
    interval = f"90% interval of the change {signed(c['low'])} to {signed(c['high'])}"
    worse = c["n"] - c["better"] - c["same"]
    if c["same"] and not worse:
        # runs in which neither is short are ties, not losses: say so rather than call an
        # option that never does worse "unlikely to do better"
        return f"{text} ({interval}): better in {c['better']} of {c['n']} runs, the same in the other {c['same']}, worse in none."
    word = likelihood(c["share"])
    tail = f", the same in {c['same']}" if c["same"] else ""
    return (f"{text} ({interval}); it is {word} to do better than the base "
            f"(better in {c['better']} of {c['n']} runs{tail}).")


def headline(data: Any, f: Focus | None) -> list[str]:
    """The answer: the base case in one sentence, then one sentence per option."""
    if f is None:
        return ["The scenarios have no demand nodes, so there is no shortfall to report."]
    lines = [base_sentence(data, f)]
    if data.kind == "compare":
        lines += [option_sentence(data, v.id, v.label, f) for v in data.variants[1:]]
    return lines + trigger_sentences(data)


def trigger_sentences(data: Any) -> list[str]:
    """One sentence per triggered policy of a run: the share of runs in which its trigger
    fired and the median start date of those runs ("never" when it never fired)."""
    table = getattr(data, "triggers", None)
    if table is None or data.kind != "run" or table.empty:
        return []
    out = []
    for _, rows in table.groupby("policy", sort=True):
        label = str(rows["label"].iloc[0])
        label = label[:1].upper() + label[1:]
        started = rows["start_date"].dropna()
        runs = f"{len(rows)} run{'s' if len(rows) != 1 else ''}"
        if started.empty:
            out.append(f"{label} never started: its trigger did not fire in any of the {runs}.")
            continue
        median = pd.Timestamp(np.datetime64(int(np.median(started.astype("int64"))), "s")).date()
        share = percent(len(started) / len(rows))
        out.append(f"{label} started on {date_text(median)} (median) in {share} of {runs}.")
    return out


def _survive(data: Any, vid: str, f: Focus) -> str:
    survive = values(data, vid, f.node, f.product, "time_to_survive_days")
    n, n_short, _ = runs_text(data, vid, f)
    if n_short == 0:
        return "never short"
    mean = _mean(survive)
    return f"{sig(mean)} days" + (f" ({n_short} of {n} runs short)" if n_short < n else "")


def _recover(data: Any, vid: str, f: Focus) -> str:
    n, n_short, n_rec = runs_text(data, vid, f)
    if n_short == 0:
        return "-"
    if n_rec == 0:
        return f"not within the run (0 of {n_short} runs)"
    mean = _mean(values(data, vid, f.node, f.product, "time_to_recover_days"))
    return f"{sig(mean)} days ({n_rec} of {n_short} runs recover)"


def focus_rows(data: Any, f: Focus) -> list[dict]:
    """The focus row's key figures per variant (means over replications)."""
    rows = []
    for v in data.variants:
        short = values(data, v.id, f.node, f.product, "shortfall")
        rows.append({"label": v.label, "demand": sig(_mean(values(data, v.id, f.node, f.product, "demand"))),
                     "shortfall": sig(_mean(short)), "fill": percent(_mean(values(data, v.id, f.node, f.product, "fill_rate"))),
                     "survive": _survive(data, v.id, f), "recover": _recover(data, v.id, f), "vid": v.id})
    return rows


def _metric_unit(metric: str, unit: str) -> str:
    """The unit a metric is counted in: the row's unit for quantities, none for fractions
    and currency, days for durations."""
    kind = METRICS[metric].unit if metric in METRICS else "product"
    return {"product": unit_word(unit), "days": ""}.get(kind, "")


def other_changes(data: Any, f: Focus | None) -> tuple[list[dict], list[str]]:
    """Rows of the paired differences where something differs, outside the focus row, and
    one collapsed sentence per option for the rest ("no change at 9 other demand nodes")."""
    d = data.differences
    if d is None or d.empty:
        return [], []
    shown = set(briefed())
    rows, collapsed = [], []
    sc = data.base.scenario
    for v in data.variants[1:]:
        sub = d[(d["variant"] == v.id) & d["metric"].isin(shown) & (d["pairs"] > 0)]
        if f is not None:
            sub = sub[~((sub["node"] == f.node) & (sub["product"] == f.product))]
        moved = sub[sub["difference"].abs() > 1e-9]
        for _, r in moved[moved["distinguishable"].astype(bool)].iterrows():
            pct = r["metric"] == "fill_rate"
            fmt = percent if pct else compact
            interval = "" if r["pairs"] < 2 else f"{fmt(r['difference_low'])} to {fmt(r['difference_high'])}"
            rows.append({"label": v.label, "node": node_label(sc, r["node"]), "metric": metric_label(r["metric"]),
                         "unit": _metric_unit(r["metric"], str(r["unit"])), "base": fmt(r["base_mean"]),
                         "option": fmt(r["option_mean"]), "diff": percent(r["difference"]) if pct else signed(r["difference"]),
                         "interval": interval})
        nodes = set(zip(sub["node"], sub["product"], strict=False))
        changed = set(zip(moved["node"], moved["product"], strict=False))
        quiet = len(nodes - changed)
        unclear = len({(a, b) for a, b in changed} - set(zip(moved[moved["distinguishable"].astype(bool)]["node"],
                                                              moved[moved["distinguishable"].astype(bool)]["product"],
                                                              strict=False)))
        text = f"{v.label}: no change at {quiet} other demand row(s)"
        if unclear:
            text += f"; changes too small to tell apart from noise at {unclear} more"
        collapsed.append(text + ".")
    return rows, collapsed


def headline_rows(data: Any) -> list[dict]:
    """The scenario's declared headlines (``data.headlines``, when the run has them)."""
    table = getattr(data, "headlines", None)
    if not isinstance(table, pd.DataFrame) or table.empty:
        return []
    rows = []
    for _, r in table.iterrows():
        n = int(r.get("replications", 0) or 0)
        unit = unit_word(str(r.get("unit", "") or ""))
        interval = f"{sig(r.get('p05'))} to {sig(r.get('p95'))}" if n > 1 else "one run: no interval"
        rows.append({"label": str(r.get("label") or r.get("headline", "")), "mean": sig(r.get("mean")), "unit": unit,
                     "interval": interval, "n": n})
    return rows


def _labelled(text: str, scenario: Any) -> str:
    """``text`` with node ids written as their labels."""
    for nid in sorted(scenario.nodes, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(nid)}\b", node_label(scenario, nid), text)
    return text


def split_notes(data: Any) -> tuple[list[str], list[str], list[str]]:
    """(assumptions, sources, other notes) of a run: ``data.notes`` holds dicts with
    ``file``, ``line``, ``kind`` ("assumption" or "source") and ``text``, saved with the
    run (``notes.json``), so a report never reads files outside its folder; the notes on
    the ranking (``data.ranking_notes``, strings) are the other notes."""
    assumptions: list[str] = []
    sources: list[str] = []
    other: list[str] = []
    for note in list(getattr(data, "notes", None) or []) + list(getattr(data, "ranking_notes", None) or []):
        if isinstance(note, dict):
            where = f" ({note.get('file', '')}{':' + str(note['line']) if note.get('line') else ''})" if note.get("file") else ""
            figure = f": {note['figure']}" if note.get("figure") else ""
            text = f"{note.get('text', '')}{where}{figure}"
            (assumptions if note.get("kind") == "assumption" else sources).append(text)
        else:
            other.append(_labelled(str(note), data.base.scenario))
    return assumptions, sources, other


def _same(a: Any, b: Any) -> bool:
    return a.model_dump(mode="json") == b.model_dump(mode="json")


def assumption_groups(data: Any) -> list[dict]:
    """The base's shocks and policies as sentences; each option as what it adds or changes."""
    base = data.base.scenario
    entries = [spec_sentence(s, i, base) for i, s in enumerate(base.shocks)]
    if len(base.policies) > 3:  # the baseline network's own programmes: collapsed to a count by kind
        kinds: dict[str, int] = {}
        for p in base.policies:
            kinds[p.type.replace("_", " ")] = kinds.get(p.type.replace("_", " "), 0) + 1
        counts = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
        entries.append(f"The baseline network's own programmes, in force in every scenario: {counts} "
                       "(listed in the scenario files).")
    else:
        entries += [spec_sentence(p, i, base) for i, p in enumerate(base.policies)]
    groups = [{"label": data.base.label, "description": base.description.strip(),
               "entries": entries or ["No shocks or policies."]}]
    for v in data.variants[1:]:
        sc = v.scenario
        new = [spec_sentence(s, i, sc) for i, s in enumerate(sc.shocks) if not any(_same(s, b) for b in base.shocks)]
        new += [spec_sentence(p, i, sc) for i, p in enumerate(sc.policies) if not any(_same(p, b) for b in base.policies)]
        gone = [spec_label(s, i) for i, s in enumerate(base.shocks) if not any(_same(s, x) for x in sc.shocks)]
        entries = new + [f"Without: {g}." for g in gone]
        groups.append({"label": v.label, "description": sc.description.strip(),
                       "entries": ["As the base, plus:"] + entries if entries else ["As the base (no shock or policy differs)."]})
    return groups


def drivers(data: Any, f: Focus | None = None) -> list[str]:
    """What drives the result: the base's shocks with their timing, then each option's
    levers. With a focus row, only the shocks that touch its supply chain (or a buyer
    competing for it) are named; the others are counted."""
    base = data.base.scenario
    near = None if f is None else supply_chain(base, f.node)
    named = [(i, s) for i, s in enumerate(base.shocks) if near is None or touches(s, base, near)]
    out = [f"{spec_label(s, i)}, {timing_text(s, base)}." for i, s in named]
    elsewhere = len(base.shocks) - len(named)
    if elsewhere and f is not None:
        whose = "their" if _plural(f.node_label) else "its"
        verb = "act" if elsewhere > 1 else "acts"
        out.append(f"{elsewhere} other shock{'s' if elsewhere > 1 else ''} of the base {verb} elsewhere in the network, on "
                   f"nodes that neither supply {f.node_label} nor compete for {whose} supply (listed in the scenario file).")
    for v in data.variants[1:]:
        sc = v.scenario
        levers = [spec_label(p, i) for i, p in enumerate(sc.policies) if not any(_same(p, b) for b in base.policies)]
        if levers:
            out.append(f"{v.label} acts through: {'; '.join(levers)}.")
    return out or ["No shocks: the result reflects the network's normal running."]
