"""The briefing's words: likelihood on the ICD 203 scale, shocks and policies as sentences,
distributions in plain language, and what the model cannot say.

Pure functions of numbers and scenario specs; no tables, no drawing.
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from ..distributions import is_distribution
from ..labels import label_of
from ..quantities import day_number
from ..units import date_text, duration_text, sig

# ICD 203 (US Intelligence Community Directive 203, 2015): expressions of likelihood.
# (upper bound of the share, word); the share is in [0, 1]; a share on a boundary takes
# the word of the band above it, and 45-55% (both ends) is "roughly even chance".
LIKELIHOOD_SCALE: list[tuple[float, str, str]] = [
    (0.05, "almost no chance", "1-5%"),
    (0.20, "very unlikely", "5-20%"),
    (0.45, "unlikely", "20-45%"),
    (0.55, "roughly even chance", "45-55%"),
    (0.80, "likely", "55-80%"),
    (0.95, "very likely", "80-95%"),
    (1.01, "almost certain", "95-99%"),
]
METHOD = ("Likelihood words follow the ICD 203 scale and state the share of replications in which the option does "
          "better than the base on the same random draws: " +
          "; ".join(f"{word} {band}" for _, word, band in LIKELIHOOD_SCALE) + ". "
          "Intervals are 90% intervals of the mean paired difference (t distribution); with one replication no "
          "interval is given.")


def likelihood(share: float) -> str:
    """The ICD 203 word for the share (0-1) of runs in which something happens."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share lies between 0 and 1 (got {share})")
    if 0.45 <= share <= 0.55:
        return "roughly even chance"
    for upper, word, _ in LIKELIHOOD_SCALE:
        if share < upper:
            return word
    return "almost certain"  # pragma: no cover - the last band's bound is above 1


def spec_label(spec: Any, index: int) -> str:
    """A shock's or policy's label for a reader: ``display_label`` when the spec has it, else
    ``label``; an unnamed one as its type in words ("Export ban #1", where the tables keep
    ``export_ban #1``)."""
    getter = getattr(spec, "display_label", None)
    if getter is None:
        return str(spec.label(index))
    if spec.label or spec.name:
        return str(getter(index))
    return f"{spec.type.replace('_', ' ').capitalize()} #{index + 1}"


def node_label(scenario: Any, nid: str) -> str:
    """The reader's name of a node (its ``label:`` when given)."""
    node = scenario.nodes.get(nid) if hasattr(scenario, "nodes") else None
    return label_of(nid, getattr(node, "label", None))


def is_plural(label: str) -> bool:
    """Whether a node's label names several buyers ("EU magnet users"): for the verb."""
    last = label.strip().split(" ")[-1].lower() if label.strip() else ""
    return last.endswith("s") and not last.endswith("ss")


def product_label(scenario: Any, pid: str) -> str:
    """The reader's name of a product (its ``label:`` when given)."""
    product = scenario.products.get(pid) if hasattr(scenario, "products") else None
    return label_of(pid, getattr(product, "label", None))


def _n(x: Any) -> str:
    return duration_text(x) if isinstance(x, str) else sig(x)


def distribution_text(value: dict, unit: str = "") -> str:
    """A distribution as words: "between 30 and 60 days (triangular, most likely 45)"."""
    if any(isinstance(v, str) for k, v in value.items() if k != "dist"):
        unit = ""  # the values carry their own units ("30wd")
    u = f" {unit}" if unit else ""
    kind = value.get("dist")
    if kind == "triangular":
        return f"between {_n(value['low'])} and {_n(value['high'])}{u} (triangular, most likely {_n(value['mode'])})"
    if kind == "uniform":
        return f"between {_n(value['low'])} and {_n(value['high'])}{u} (uniform)"
    if kind in ("normal", "lognormal"):
        return f"about {_n(value['mean'])}{u} (mean; {kind}, standard deviation {_n(value['sd'])})"
    if kind == "poisson":
        return f"on average {_n(value['mean'])}{u} (Poisson)"
    return ", ".join(f"{k} {v}" for k, v in value.items())


_DAY_FIELDS = ("delay", "lead_time", "duration", "days", "review")


def value_text(key: str, value: Any, scenario: Any) -> str:
    """One field value as words: ids as labels, distributions and durations in days."""
    unit = "days" if any(k in key for k in _DAY_FIELDS) else ""
    if isinstance(value, dict) and "dist" in value:
        return distribution_text(value, unit)
    if isinstance(value, dict):
        return ", ".join(f"{_id_text(k, scenario)} {value_text(key, v, scenario)}" for k, v in value.items())
    if isinstance(value, list) and value and all(isinstance(v, dict) and "rate" in v for v in value):
        return _steps_text(key, value, scenario)
    if isinstance(value, list):
        return ", ".join(value_text(key, v, scenario) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{sig(value)}{' ' + unit if unit else ''}"
    text = str(value)
    return duration_text(_id_text(text, scenario))


def _steps_text(key: str, steps: list[dict], scenario: Any) -> str:
    """A stepped schedule (``[{rate: 0.25}, {from: 2025-06-02, rate: 0.85}]``) as words:
    "0.25, then 0.85 from 2 Jun 2025"."""
    parts = []
    for k, step in enumerate(steps):
        rate = value_text(key, step["rate"], scenario)
        when = f" from {value_text('from', step['from'], scenario)}" if step.get("from") is not None else ""
        parts.append(f"{rate}{when}" if k == 0 else f"then {rate}{when}")
    return ", ".join(parts)


def _id_text(text: str, scenario: Any) -> str:
    if text in getattr(scenario, "nodes", {}):
        return node_label(scenario, text)
    if text in getattr(scenario, "products", {}):
        return product_label(scenario, text)
    return text


def _day(ref: Any, scenario: Any) -> int:
    return int(day_number(ref, scenario.start_date))


def timing_text(spec: Any, scenario: Any) -> str:
    """When a shock or policy acts, honestly: "in force since 4 Apr 2025 (before the run
    starts)", "from 1 Jan 2026 to 1 Mar 2026", "still in force at the end of the run"; a
    policy waiting for a trigger: "when ... (see ``trigger_text``)"."""
    if getattr(spec, "trigger", None) is not None:
        return trigger_text(spec, scenario)
    start = _day(spec.start, scenario) if getattr(spec, "start", None) is not None else 0
    end = None if getattr(spec, "end", None) is None else _day(spec.end, scenario)
    first = scenario.start_date + _dt.timedelta(days=start)
    if start <= 0:
        begin = f"in force since {date_text(first)}" + (" (before the run starts)" if start < 0 else "")
    else:
        begin = f"from {date_text(first)}"
    if end is None or end >= scenario.horizon:
        finish = "still in force at the end of the run"
    else:
        finish = f"until {date_text(scenario.start_date + _dt.timedelta(days=end))}"
    windows = list(getattr(spec, "suspended", []) or [])
    return f"{begin}, {finish}" + _pauses(windows, scenario)


def _pauses(windows: list, scenario: Any) -> str:
    """", paused from 10 Nov 2025 to 10 Nov 2026" for up to three suspended windows, else
    their count ("paused 4 times in between")."""
    if not windows:
        return ""
    if len(windows) > 3:
        return f", paused {len(windows)} times in between"

    def when(ref: Any) -> str:
        return date_text(scenario.start_date + _dt.timedelta(days=_day(ref, scenario)))

    spans = [f"from {when(w.start)}" + (f" to {when(w.end)}" if getattr(w, "end", None) is not None else "")
             for w in windows]
    return ", paused " + " and ".join(spans)


def trigger_text(spec: Any, scenario: Any) -> str:
    """When a triggered policy starts: "once shortfall of magnets at EU users stays above 0
    for 7 days, 90 days later (not before 1 Mar 2026), for 3 years"."""
    t = spec.trigger
    side = "above" if t.above is not None else "below"
    days = "a day" if t.for_days == 1 else f"{t.for_days} days"
    text = (f"once {t.metric.replace('_', ' ')} of {product_label(scenario, t.product)} at "
            f"{node_label(scenario, t.node)} is {side} {sig(t.threshold)} for {days}")
    if is_distribution(t.delay):
        low, high = max(0.0, t.delay.lowest()), t.delay.highest()
        span = f"{sig(low)} to {sig(high)}" if math.isfinite(high) else f"about {sig(t.delay.mean_value())}"
        text += f", {span} days later (drawn once per run)"
    else:
        text += f", {duration_text(f'{t.delay}d')} later" if t.delay else ", from the next day"
    if spec.start is not None:
        first = scenario.start_date + _dt.timedelta(days=_day(spec.start, scenario))
        text += f" (not before {date_text(first)})"
    if spec.duration is not None:
        text += f", for {duration_text(f'{spec.duration}d')}"
    elif spec.end is not None:
        text += f", until {date_text(scenario.start_date + _dt.timedelta(days=_day(spec.end, scenario)))} at the latest"
    return text


def recovery_reference(scenario: Any) -> str:
    """What "time to recover" counts from, as the metric defines it: the end of the
    earliest shock, or its start when it never ends."""
    shocks = [(_day(s.start, scenario), None if s.end is None else _day(s.end, scenario)) for s in scenario.shocks]
    if not shocks:
        return "days after the start of the run"
    _, end = min(shocks, key=lambda w: (w[0], float("inf") if w[1] is None else w[1]))
    return "days after the first shock ends" if end is not None else "days after the first shock starts (it never ends)"


def spec_sentence(spec: Any, index: int, scenario: Any) -> str:
    """A shock or policy as one sentence: label, kind, timing and its settings in words."""
    doc = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    kind = str(doc.pop("type")).replace("_", " ")
    for key in ("name", "label", "start", "end", "suspended", "trigger", "duration"):
        doc.pop(key, None)
    settings = [f"{key.replace('_', ' ')} {value_text(key, v, scenario)}" for key, v in doc.items()
                if v not in ([], {}, None, "")]
    label = spec_label(spec, index)
    head = label if label.replace("_", " ").lower().startswith(kind) else f"{label} ({kind})"
    return f"{head}: {timing_text(spec, scenario)}" + (f"; {'; '.join(settings)}." if settings else ".")


def _compute_markets(scenario: Any) -> bool:
    """Some compute-demand node draws a substitute with a market (docs/markets.md, section 6)."""
    return any(n.demand is not None and n.demand.measure
               and any(getattr(scenario.products[p], "market", None) is not None for p in n.demand.products)
               for n in scenario.nodes.values())


def limits(scenario: Any) -> list[str]:
    """What this model cannot say, written from the features the scenario uses (the
    adaptive behaviour and markets of contract version 2 included)."""
    types = {s.type for s in scenario.shocks} | {p.type for p in scenario.policies}
    nodes = list(scenario.nodes.values())
    rules = [n.reorder for n in nodes if n.reorder is not None]
    markets = any(getattr(p, "market", None) is not None for p in scenario.products.values())
    priority = any(getattr(n, "allocation", None) is not None for n in nodes)
    share_out = "in the priority order a supplier states, else pro rata" if priority else "pro rata"
    out = [f"Prices form only for the products with a market; for the others buyers do not bid for scarce supply, and "
           f"suppliers share it out {share_out}." if markets else
           f"No product in this scenario has a market, so there are no prices: buyers do not bid for scarce supply, "
           f"and suppliers share it out {share_out}."]
    if _compute_markets(scenario):
        out.append("At compute-demand nodes with priced chips, one scarcity multiplier per node sets the price of "
                   "every chip with a market and cuts the node's whole demand; buyers take the cheapest chip per unit "
                   "of compute first, while chips without a market have no price and keep their listed place.")
    if any(r.sourcing == "adaptive" for r in rules):
        out.append("Buyers marked adaptive move their orders away from blocked and licensed lanes to their other lanes and "
                   "qualified standby suppliers; the others keep their lane shares; no supplier appears that the "
                   "scenario does not list, unless a policy adds one.")
    else:
        out.append("Buyers do not re-source: they order only along the lanes written in the scenario, and no new supplier "
                   "appears unless a policy adds one.")
    makers = "Producers with make-to-stock make up to a target stock of their recent orders; the others run" if any(
        getattr(n, "make_to_stock", None) is not None for n in nodes) else "Producers run"
    out.append(f"{makers} at their stated capacity whenever inputs allow; nobody invests, or gives up, in response to "
               "the shortage unless a policy (or its trigger) says so.")
    if types & {"export_ban", "export_license", "entity_list"}:
        hoard = " and the precautionary cover" if any(r.precaution is not None for r in rules) else ""
        out.append(f"Trade rules are obeyed as written, apart from any leakage{hoard} the scenario sets: smuggling, "
                   "trans-shipment and stockpiling ahead of a rule are not modelled beyond that.")
    if "export_license" in types:
        out.append("Licence decisions are drawn at random at the stated approval rates and delays; the model does not "
                   "predict how officials will decide.")
    if types & {"stockpile", "stockpile_release"}:
        out.append("A stockpile is released only by its written rule; nobody decides ad hoc to release or hoard.")
    if any(n.demand is not None for n in nodes):
        out.append("Demand follows its stated rate and growth; it falls with price only for market products (and "
                   "compute demand that draws one), and never otherwise when goods become scarce." if markets else
                   "Demand follows its stated rate and growth; it does not fall when goods become scarce or dear.")
    if any(getattr(n, "fab", None) is not None for n in nodes):
        out.append("Fab yields follow the stated learning curves; process breakthroughs or failures are not foreseen.")
    out.append("Results are as good as the inputs: figures marked ASSUMPTION are the modellers' judgement, not data.")
    return out
