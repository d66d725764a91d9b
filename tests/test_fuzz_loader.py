"""Fuzzing the scenario loader: any file ends in a Scenario or a positioned ScenarioError.

The contract under test: ``sim.load_scenario(path)`` returns a valid ``sim.Scenario`` or
raises ``sim.ScenarioError`` whose problems each name a file, a 1-based line and column
inside that file and a non-empty message; nothing else escapes (no KeyError, TypeError,
RecursionError, OverflowError, pydantic ValidationError, ruamel exception...), and a load
finishes quickly. ``chipsim validate FILE`` exits 0 or 2 and never prints a traceback.

The strategies build mostly-valid scenarios (products, nodes with every role, lanes, every
shock type of ``SHOCK_TYPES`` and policy type of ``POLICY_TYPES``), then mutate them:
first as data (wrong types, missing and unknown keys, unknown ids, odd unicode, huge and
non-finite numbers, deep nesting, anchors, aliases and alias bombs, YAML tags), then as
text (duplicate keys, tabs, a BOM, CRLF or CR line ends, bytes that are not UTF-8,
truncation, stray indicator characters). ``bench/fuzz_campaign.py`` runs the same
strategies for minutes at a time; the examples here are sized for CI.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.policies import POLICY_TYPES
from sim.shocks import SHOCK_TYPES

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/fuzz_campaign.py loads this file by path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import SUMMARY_LINE, TINY, chipsim_command, cli  # noqa: E402

# seconds one load may take; the hand-written cases assert tighter limits where they can
TIME_LIMIT = 5.0
# the line breaks positions count: YAML 1.2 (the default) knows CRLF, LF and CR; a file
# that declares %YAML 1.1 also breaks lines at NEL, LS and PS
LINE_BREAKS = (re.compile("\r\n|[\n\r]"), re.compile("\r\n|[\n\r\x85\u2028\u2029]"))


# --- the contract -------------------------------------------------------------------------

class LoadTimeout(BaseException):
    """A load ran past its time limit (BaseException: no ``except Exception`` hides it)."""


@contextmanager
def time_limit(seconds: float):
    """Interrupt a load that hangs (main thread on POSIX only; elsewhere just time it)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise LoadTimeout(f"load took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _inside(text: str, line: int, col: int) -> bool:
    """Is 1-based (line, col) inside ``text`` under one of the YAML line-break conventions?
    Line 1 to the line count + 1 (just after the last line break, or after the last line
    of a file that does not end with one), and a column on that line or just after it."""
    for breaks in LINE_BREAKS:
        lines = breaks.split(text)  # a file ending with a line break ends with ""
        if lines[-1]:
            lines.append("")
        if 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]) + 1:
            return True
    return False


def load_outcome(path: Path, limit: float = TIME_LIMIT) -> tuple[str, list, float]:
    """("valid" or "error", problems, seconds) of loading ``path``; anything other than
    ScenarioError propagates, and a load running past ``2 * limit`` raises LoadTimeout."""
    started = time.perf_counter()
    with time_limit(limit * 2):
        try:
            scenario = sim.load_scenario(path)
        except sim.ScenarioError as exc:
            return "error", exc.problems, time.perf_counter() - started
    assert isinstance(scenario, sim.Scenario)
    return "valid", [], time.perf_counter() - started


def contract_breaches(outcome: str, problems: list, seconds: float, files: tuple[Path, ...],
                      limit: float = TIME_LIMIT) -> list[str]:
    """What is wrong with a load's result; ``files`` are the files problems may point to."""
    breaches = []
    if seconds >= limit:
        breaches.append(f"slow: loading took {seconds:.1f} s (limit {limit:g} s)")
    if outcome == "error" and not problems:
        breaches.append("empty: a ScenarioError without problems")
    allowed = {os.path.realpath(f) for f in files}
    for p in problems:
        if not isinstance(p, sim.Problem) or not isinstance(p.file, str) or os.path.realpath(p.file) not in allowed:
            breaches.append(f"file: {p!r} does not name a file that was read")
            continue
        text = Path(p.file).read_bytes().decode("utf-8", errors="replace")
        if not (isinstance(p.line, int) and isinstance(p.col, int) and _inside(text, p.line, p.col)):
            breaches.append(f"position: {p} is outside the file")
        if not (isinstance(p.message, str) and p.message.strip()):
            breaches.append(f"message: {p!r} has an empty message")
    return breaches


def check_contract(path: Path, allowed_files: tuple[Path, ...] = (), limit: float = TIME_LIMIT) -> str:
    """Load ``path``; return "valid" or "error", or fail if the contract is broken.

    ``allowed_files`` are the files problems may point to besides ``path`` (its parents).
    Any exception other than ScenarioError propagates to the caller.
    """
    outcome, problems, seconds = load_outcome(path, limit)
    breaches = contract_breaches(outcome, problems, seconds, (path, *allowed_files), limit)
    assert not breaches, "\n".join(breaches)
    return outcome


PROBLEM_LINE = re.compile(r"^.+:\d+:\d+: \S")


def check_cli(path: Path) -> int:
    """``chipsim validate PATH`` in-process: exit 0 or 2, no traceback, nothing escaping,
    and on stderr one FILE:LINE:COL: line per problem, then the count."""
    result = cli("validate", path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-2000:]
    assert result.exit_code in (0, 2), (result.exit_code, output[-2000:], result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and SUMMARY_LINE.match(lines[-1]), result.stderr[-2000:]
        odd = [line for line in lines[:-1] if not PROBLEM_LINE.match(line)]
        assert not odd, f"lines that are not FILE:LINE:COL: message: {odd[:3]!r}"
    return result.exit_code


# --- YAML text with anchors, aliases and raw fragments ----------------------------------

@dataclass(frozen=True)
class Anchor:
    """``&name value`` in the emitted YAML."""

    name: str
    value: Any


@dataclass(frozen=True)
class Alias:
    """``*name`` in the emitted YAML."""

    name: str


@dataclass(frozen=True)
class Raw:
    """Text put into the YAML as it is (tags, 5,000-digit numbers, broken syntax)."""

    text: str


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*( [A-Za-z0-9_./-]+)*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
_NOT_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Alias):
        return f"*{value.name}"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    # JSON strings are valid YAML double-quoted scalars once the characters YAML does not
    # allow raw (DEL, C1 controls, line separators, lone surrogates...) are escaped too
    return _NOT_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def flow_text(value: Any) -> str:
    if isinstance(value, Anchor):
        return f"&{value.name} {flow_text(value.value)}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar_text(k)}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(v) for v in value) + "]"
    return scalar_text(value)


def block_lines(value: Any, indent: int, flow_at: int) -> list[str]:
    """Block-style lines of a non-empty mapping or list; nested values at ``flow_at``
    levels or deeper (and empty collections) are written in flow style."""
    pad = " " * indent
    items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    out = []
    for key, item in items:
        head = f"{pad}{scalar_text(key)}:" if isinstance(value, dict) else f"{pad}-"
        anchor = ""
        inner = item
        if isinstance(item, Anchor):
            anchor, inner = f" &{item.name}", item.value
        if isinstance(inner, (dict, list)) and inner and indent // 2 < flow_at:
            out.append(head + anchor)
            out.extend(block_lines(inner, indent + 2, flow_at))
        else:
            out.append(f"{head}{anchor} {flow_text(inner)}")
    return out


def emit(doc: Any, flow_at: int) -> str:
    """YAML text of ``doc``: block style down to ``flow_at`` levels, flow style below."""
    if isinstance(doc, (dict, list)) and doc and flow_at > 0:
        return "\n".join(block_lines(doc, 0, flow_at)) + "\n"
    return flow_text(doc) + "\n"


# --- mostly-valid scenarios ---------------------------------------------------------------

PRODUCTS = ["magnet", "oxide", "wafer", "die", "scanner", "spares", "gallium"]
NODES = ["cn_mine", "cn_refinery", "jp_fab", "us_buyer", "nl_trader", "kr_fab", "eu_store"]
REGIONS = ["CN", "US", "JP", "NL", "KR"]
# few entities, so that entity selectors usually match (many entities owning each other:
# test_many_cross_owned_entities_load_quickly)
ENTITIES = ["Huawei", "SMIC", "Chalco", "ASML"]

small_number = st.one_of(st.integers(0, 5000), st.floats(0, 5000, allow_nan=False, allow_infinity=False))
share = st.floats(0, 1, allow_nan=False)
durations = st.one_of(st.integers(1, 400), st.sampled_from(["90d", "2w", "6m", "1y", "1.5y", "3d"]))
dates = st.dates(min_value=dt.date(2024, 6, 1), max_value=dt.date(2027, 12, 31))
day_refs = st.one_of(st.integers(-30, 700), dates, st.sampled_from(["3m", "10d", "1y", "2w"]))


def distribution(low: float = 0, high: float = 100):
    lo = st.floats(low, high, allow_nan=False)
    return st.one_of(
        st.tuples(lo, lo).map(lambda t: {"dist": "uniform", "low": min(t), "high": max(t)}),
        st.tuples(lo, lo, lo).map(lambda t: dict(zip(("dist", "low", "mode", "high"), ("triangular", *sorted(t)), strict=True))),
        st.tuples(lo, st.floats(0, 10)).map(lambda t: {"dist": "normal", "mean": t[0], "sd": t[1]}),
        st.tuples(st.floats(0.1, high), st.floats(0, 10)).map(lambda t: {"dist": "lognormal", "mean": t[0], "sd": t[1]}),
        lo.map(lambda m: {"dist": "poisson", "mean": m}),
    )


rates = st.one_of(small_number, st.sampled_from(["1200/month", "5e4/year", "70/week", "3/day", "1000/quarter"]),
                  distribution())
lead_times = st.one_of(durations, distribution(1, 60))


@dataclass
class World:
    """The ids a generated scenario defines, for shocks and policies to refer to."""

    products: list[str]
    nodes: list[str]
    regions: list[str]
    entities: list[str]


def node_selector(w: World):
    """Mostly selectors that match something; sometimes any region or entity."""
    regions = w.regions or REGIONS
    entities = w.entities or ENTITIES
    return st.one_of(
        st.sampled_from(w.nodes),
        st.lists(st.sampled_from(w.nodes), min_size=1, max_size=3, unique=True),
        st.sampled_from(regions).map(lambda r: {"region": r}),
        st.lists(st.sampled_from(regions), min_size=1, max_size=3, unique=True).map(lambda r: {"region": r}),
        st.sampled_from(entities).map(lambda e: {"entity": e}),
        st.tuples(st.sampled_from(entities), st.floats(0.01, 1)).map(lambda t: {"entity": t[0], "affiliates": t[1]}),
        st.sampled_from(REGIONS + ENTITIES).map(lambda x: {"region": x} if x in REGIONS else {"entity": x}),
    )


def product_selector(w: World):
    return st.one_of(st.sampled_from(w.products), st.lists(st.sampled_from(w.products), min_size=1, max_size=3, unique=True))


def _day(draw, day: int):
    """Day ``day`` written as a number, a date (from 2025-01-01) or an offset such as '90d'."""
    form = draw(st.sampled_from(["number", "number", "date", "offset"]))
    if form == "date":
        return dt.date(2025, 1, 1) + dt.timedelta(days=day)
    if form == "offset" and day >= 0:
        return f"{day}d"
    return day


def _window(draw) -> tuple:
    """(start, end) with end after start; one time in ten, anything."""
    if draw(st.integers(0, 9)) == 0:
        return draw(day_refs), draw(day_refs)
    start = draw(st.integers(-30, 500))
    end = start + draw(st.integers(1, 400))
    if draw(st.booleans()):  # the same form for both
        both = draw(st.sampled_from(["number", "date"]))
        as_form = (lambda d: dt.date(2025, 1, 1) + dt.timedelta(days=d)) if both == "date" else (lambda d: d)
        return as_form(start), as_form(end)
    return _day(draw, start), _day(draw, end)


def _timing(draw, *, start_required: bool) -> dict:
    out = {}
    start, end = _window(draw)
    if start_required or draw(st.booleans()):
        out["start"] = start
        if draw(st.booleans()):
            out["end"] = end
    if draw(st.integers(0, 4)) == 0:
        out["suspended"] = [dict(zip(("start", "end"), _window(draw), strict=True))]
    if draw(st.booleans()):
        out["name"] = draw(st.sampled_from(["ban", "CN halts exports", "licence regime", "policy"]))
    return out


def _trade(draw, w: World, timing: dict, entity_list: bool = False) -> dict:
    out = {}
    if draw(st.booleans()):
        out["product"] = draw(product_selector(w))
    if draw(st.booleans()):
        out["from"] = draw(node_selector(w))
    if not entity_list and draw(st.booleans()):
        out["to"] = draw(node_selector(w))
    start = timing.get("start")
    if draw(st.integers(0, 3)) == 0:
        lead = draw(st.integers(1, 90))
        if isinstance(start, dt.date):
            out["announced"] = start - dt.timedelta(days=lead)
        elif isinstance(start, int):
            out["announced"] = start - lead
        else:
            out["announced"] = draw(day_refs)
        if draw(st.booleans()):
            out["anticipation"] = {"days_of_cover": draw(small_number)}
    return out


def _general_licence(draw, w: World, timing: dict) -> dict:
    """The trade selectors only: a general licence has no announcement."""
    return {k: v for k, v in _trade(draw, w, timing).items() if k not in ("announced", "anticipation")}


def _schedule(draw):
    return draw(st.one_of(
        share,
        distribution(0, 1),
        st.lists(st.fixed_dictionaries({"rate": share}, optional={"after": durations, "from": day_refs}),
                 min_size=1, max_size=3),
    ))


SHOCK_GENERATORS = {
    "export_ban": lambda draw, w, t: {**_trade(draw, w, t), **({"leakage": draw(st.one_of(share, distribution(0, 1)))} if draw(st.booleans()) else {})},
    "export_license": lambda draw, w, t: {**_trade(draw, w, t),
                                          **({"approval_rate": _schedule(draw)} if draw(st.booleans()) else {}),
                                          **draw(st.fixed_dictionaries({}, optional={
                                              "review_days": st.one_of(durations, st.sampled_from(["45wd", "10wd"]), distribution(0, 90)),
                                              "quota": small_number, "fee": st.floats(0, 10)}))},
    "entity_list": lambda draw, w, t: {**_trade(draw, w, t, entity_list=True),
                                       "entities": draw(st.one_of(st.sampled_from(w.entities or ENTITIES),
                                                                  st.lists(st.sampled_from(w.entities or ENTITIES), min_size=1, max_size=3))),
                                       **draw(st.fixed_dictionaries({}, optional={"affiliates": st.floats(0.01, 1), "leakage": share}))},
    "capacity_loss": lambda draw, w, t: {"node": draw(node_selector(w)), "fraction": draw(st.one_of(share, distribution(0, 1))),
                                         **draw(st.fixed_dictionaries({}, optional={"recovery_days": durations}))},
    "demand_change": lambda draw, w, t: {"node": draw(node_selector(w)), "multiplier": draw(st.floats(0, 3))},
    "yield_shock": lambda draw, w, t: {"node": draw(node_selector(w)), "d0_multiplier": draw(st.floats(0.1, 5))},
    "service_ban": lambda draw, w, t: {"equipment": draw(st.sampled_from(w.products)), "to": draw(node_selector(w)),
                                       **draw(st.fixed_dictionaries({}, optional={"on_site": st.booleans()}))},
    "general_licence": _general_licence,
}

POLICY_GENERATORS = {
    "stockpile": lambda draw, w, t: {"node": draw(st.sampled_from(w.nodes)), "product": draw(st.sampled_from(w.products)), "target": draw(rates),
                                     **draw(st.fixed_dictionaries({}, optional={"fill_rate": rates, "holding_cost": small_number, "initial": small_number}))},
    "stockpile_release": lambda draw, w, t: {"node": draw(st.sampled_from(w.nodes)), "product": draw(st.sampled_from(w.products)), "rate": draw(rates),
                                             **draw(st.fixed_dictionaries({}, optional={"when_cover_below": small_number}))},
    "capacity_expansion": lambda draw, w, t: {"node": draw(st.sampled_from(w.nodes)), "capacity": draw(rates),
                                              **draw(st.fixed_dictionaries({}, optional={"build_days": durations, "ramp_days": durations}))},
    "new_lane": lambda draw, w, t: {"from": draw(st.sampled_from(w.nodes)), "to": draw(st.sampled_from(w.nodes)), "product": draw(st.sampled_from(w.products)),
                                    **draw(st.fixed_dictionaries({}, optional={"lead_time": lead_times, "share": st.floats(0.05, 0.95),
                                                                                "qualification_days": durations}))},
    "general_licence": _general_licence,
}


def _node(draw, products: list[str], equipment: list[str]) -> dict:
    node: dict = {"region": draw(st.sampled_from(REGIONS))}
    if draw(st.booleans()):
        node["entity"] = draw(st.sampled_from(ENTITIES))
    if draw(st.integers(0, 3)) == 0:
        node["owners"] = draw(st.dictionaries(st.sampled_from(ENTITIES), share, max_size=2))
    role = draw(st.sampled_from(["source", "producer", "fab", "warehouse", "demand", "demand"]))
    materials = [p for p in products if p not in equipment] or products
    if role in ("source", "producer", "fab"):
        made = draw(st.sampled_from(materials))
        node["produces"] = made
        node["capacity"] = draw(rates)
        inputs = [p for p in materials if p != made]
        if role != "source" and inputs:
            node["consumes"] = draw(st.dictionaries(st.sampled_from(inputs), st.one_of(st.floats(0.01, 5), distribution(0.01, 5)), min_size=1, max_size=2))
        if role == "fab":
            node["fab"] = draw(st.one_of(
                st.fixed_dictionaries({"die_area_mm2": st.floats(10, 800), "yield_model": st.just("fixed"), "yield": share}),
                st.fixed_dictionaries({"die_area_mm2": st.floats(10, 800), "d0_per_cm2": st.one_of(
                    st.floats(0, 1), st.fixed_dictionaries({"start": st.floats(0, 1), "end": st.floats(0, 1), "halflife": durations}))},
                    optional={"yield_model": st.sampled_from(["murphy", "poisson"]), "wafer_diameter_mm": st.sampled_from([200, 300]),
                              "edge_exclusion_mm": st.floats(0, 5), "stochastic": st.booleans()}),
            ))
        if equipment and draw(st.booleans()):
            tool = draw(st.sampled_from(equipment))
            need = {"required": draw(st.integers(1, 50)), "installed": draw(st.integers(0, 50))}
            need.update(draw(st.fixed_dictionaries({}, optional={"attrition": st.floats(0, 0.05), "install_days": durations,
                                                                 "spares": st.sampled_from(materials)})))
            node["equipment"] = {tool: need}
    if role == "demand":
        demand = {"product": draw(st.sampled_from(materials)), "rate": draw(rates)}
        demand.update(draw(st.fixed_dictionaries({}, optional={"growth": st.floats(-0.5, 1), "distribution": st.sampled_from(["deterministic", "poisson"]),
                                                               "backlog": st.booleans()})))
        if draw(st.integers(0, 4)) == 0:
            demand.update(product=materials[:2], measure="tflops", mandate={"region": draw(st.sampled_from(REGIONS)), "min_share": draw(share)})
        node["demand"] = demand
    if role in ("warehouse", "demand") or draw(st.booleans()):
        node["inventory"] = draw(st.dictionaries(st.sampled_from(products), st.one_of(small_number, distribution()), max_size=2))
    if role in ("warehouse", "demand", "producer", "fab") and draw(st.integers(0, 4)) > 0:
        node["reorder"] = draw(st.one_of(
            st.fixed_dictionaries({"days_of_cover": small_number}, optional={"policy": st.just("base_stock")}),
            st.fixed_dictionaries({"level": st.one_of(small_number, st.dictionaries(st.sampled_from(products), small_number, min_size=1, max_size=2))}),
        ))
    if draw(st.integers(0, 5)) == 0:
        node["stochastic"] = draw(st.booleans())
    return node


@st.composite
def scenarios(draw) -> dict:
    """A scenario document as plain data, usually valid."""
    products = draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=4, unique=True))
    equipment = [p for p in products if p == "scanner"]
    catalogue = {}
    for pid in products:
        spec = draw(st.fixed_dictionaries({}, optional={"unit": st.sampled_from(["t", "kg", "wafer", "tool"]), "price": small_number}))
        if pid in equipment:
            spec["kind"] = "equipment"
        spec["tflops"] = draw(st.floats(1, 1000))
        catalogue[pid] = spec
    node_ids = draw(st.lists(st.sampled_from(NODES), min_size=2, max_size=5, unique=True))
    nodes = {nid: _node(draw, products, equipment) for nid in node_ids}
    lanes, seen = [], set()
    for _ in range(draw(st.integers(0, 5))):
        src, dst = draw(st.sampled_from(node_ids)), draw(st.sampled_from(node_ids))
        holds = [p for p in products if nodes[src].get("produces") == p or p in nodes[src].get("inventory", {})]
        if not holds and draw(st.integers(0, 9)) > 0:
            continue
        pid = draw(st.sampled_from(holds or products))
        if src == dst or (src, dst, pid) in seen:
            continue
        seen.add((src, dst, pid))
        lane = {"from": src, "to": dst, "product": pid}
        lane.update(draw(st.fixed_dictionaries({}, optional={"lead_time": lead_times})))
        lanes.append(lane)
    doc: dict = {"name": draw(st.sampled_from(["Gallium ban", "tiny", "REE licensing 2025", "Test scenario"])),
                 "horizon": draw(st.one_of(st.integers(1, 800), st.sampled_from(["90d", "12w", "18m", "1y"])))}
    doc.update(draw(st.fixed_dictionaries({}, optional={
        "description": st.text(max_size=40), "start_date": dates, "replications": st.integers(1, 3), "seed": st.integers(0, 2**31)})))
    doc["products"] = catalogue
    doc["nodes"] = nodes
    if lanes:
        doc["lanes"] = lanes
    world = World(products, node_ids, sorted({n["region"] for n in nodes.values()}),
                  sorted({n["entity"] for n in nodes.values() if "entity" in n} | {o for n in nodes.values() for o in n.get("owners", {})}))
    shocks = []
    for kind in draw(st.lists(st.sampled_from(sorted(SHOCK_GENERATORS)), max_size=3)):
        timing = _timing(draw, start_required=True)
        shocks.append({"type": kind, **timing, **SHOCK_GENERATORS[kind](draw, world, timing)})
    if shocks:
        doc["shocks"] = shocks
    policies = []
    for kind in draw(st.lists(st.sampled_from(sorted(POLICY_GENERATORS)), max_size=2)):
        timing = _timing(draw, start_required=False)
        policies.append({"type": kind, **timing, **POLICY_GENERATORS[kind](draw, world, timing)})
    if policies:
        doc["policies"] = policies
    return doc


# --- mutations ----------------------------------------------------------------------------

ODD_TEXT = st.sampled_from([
    "", " ", "\u202emagnet", "mag\u200dnet", "\u200b", "\U0001F600", "caf\u00e9", "e\u0301", "\u0000", "a\u0000b",
    "\ud800", "\udcff", "\ud83d\ude00", "\x1b[31mred", "\u2028", "\x85", "\t", "-", "*", "&", "!", "%", "@", "`",
    "y" * 300, "\ufeff", "null", "~", "true", "1e5", "2025-02-30", "0o17", "..", "../../etc/passwd", "a" * 5000,
])
WRONG_TYPE = st.one_of(
    st.lists(st.integers(), max_size=3), st.dictionaries(st.sampled_from(["a", "dist", "region", "entity"]), st.integers(), max_size=2),
    st.integers(-10, 10), st.floats(allow_nan=True), st.booleans(), st.none(), st.text(max_size=8), dates,
)
HUGE = st.sampled_from([1e308, -1e308, 10**1000, -(10**400), 10**19, 2**63, Raw("1" + "0" * 1000), Raw("9" * 5000),
                        "1e400", "1e400d", "1e400/day", "1e308/month", Raw("1e999"), 5e-324, Raw("0x" + "f" * 300)])
NONFINITE = st.sampled_from([float("nan"), float("inf"), float("-inf"), Raw(".nan"), Raw(".inf"), Raw("-.inf"), Raw(".NaN"), "nan", "inf"])
TAGS = st.sampled_from([
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!python/object:builtins.dict {a: 1}",
    "!!binary aGVsbG8=", "!!binary '%%%'", "!!set {a, b}", "!custom {a: 1}", "!!str 5", "!!int x", "!!bool maybe", "!!float x",
    "!!timestamp x", "!!null x", "!!omap [a: 1]", "!!pairs [a: 1]", "!!map x", "!!seq {a: 1}", "!<tag:yaml.org,2002:int> 7",
    "!e%ff x", "2025-02-30", "2025-13-01", "0001-01-01 00:00:00 +01:00", "9999-12-31T23:59:59-01:00", "1:30:00",
])
# keys whose values the loader cross-checks (ids, selectors, dates, distributions): half
# of the mutations land on one of them, the rest anywhere in the document
HOT_KEYS = {"from", "to", "node", "product", "produces", "region", "entity", "entities", "owners", "affiliates",
            "extends", "type", "dist", "start", "end", "announced", "suspended", "lead_time", "capacity", "level",
            "consumes", "inventory", "equipment", "spares", "demand", "measure", "mandate", "reorder", "fab", "share",
            "approval_rate", "review_days", "nodes", "products", "lanes", "shocks", "policies", "horizon", "start_date"}
UNKNOWN_KEYS = st.sampled_from(["capcity", "prce", "horizn", "lead_tme", "typ", "extends", "dist", "<<", "x", "Price", "units", "type"])


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into the document (dict keys and list indices)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, prefix + (i,)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if kind == "list" else {f"k{i % 10}": value}
    return value


def _bomb(levels: int, fanout: int, as_map: bool) -> dict:
    bomb = {"a0": Anchor("a0", ["lol"] * fanout)}
    for i in range(1, levels):
        refs = [Alias(f"a{i - 1}")] * fanout
        bomb[f"a{i}"] = Anchor(f"a{i}", {f"k{j}": r for j, r in enumerate(refs)} if as_map else refs)
    return bomb


@st.composite
def mutated(draw, doc: Any) -> tuple[Any, list[str]]:
    """Apply 1 to 6 data mutations (some may not apply); return the document and what was done."""
    done = []
    anchors = itertools.count()
    for _ in range(draw(st.integers(1, 6))):
        paths = _paths(doc)
        hot = [p for p in paths if p and p[-1] in HOT_KEYS] or paths
        path = draw(st.sampled_from(hot if draw(st.booleans()) else paths))
        op = draw(st.sampled_from(["wrong_type", "delete", "unknown_key", "unknown_id", "odd_text", "huge", "nonfinite",
                                   "negative", "empty", "deep", "alias", "bomb", "recursive", "tag", "duplicate_item",
                                   "top_level"]))
        target = _get(doc, path) if path else doc
        if op == "wrong_type":
            doc = _set(doc, path, draw(WRONG_TYPE))
        elif op == "delete" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif op == "unknown_key" and isinstance(target, dict):
            target[draw(UNKNOWN_KEYS)] = draw(WRONG_TYPE)
        elif op == "unknown_id" and isinstance(target, str):
            doc = _set(doc, path, draw(st.sampled_from([target + "x", target[:-1], target.upper(), "nowhere", "us_buyers", "gallium "])))
        elif op == "odd_text":
            if isinstance(target, dict) and target and draw(st.booleans()):  # an odd key
                key = draw(st.sampled_from(list(target)))
                target[draw(ODD_TEXT) + str(key)] = target.pop(key)
            else:
                doc = _set(doc, path, draw(ODD_TEXT))
        elif op == "huge":
            doc = _set(doc, path, draw(HUGE))
        elif op == "nonfinite":
            doc = _set(doc, path, draw(NONFINITE))
        elif op == "negative" and isinstance(target, (int, float)) and not isinstance(target, bool):
            doc = _set(doc, path, -target if target else -1)
        elif op == "negative" and isinstance(target, str) and target[:1].isdigit():
            doc = _set(doc, path, "-" + target)  # -1200/month, -2w
        elif op == "negative" and isinstance(target, dict) and "dist" in target:
            doc = _set(doc, path, {k: (-v if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in target.items()})
        elif op == "empty":
            doc = _set(doc, path, draw(st.sampled_from(["", [], {}, None])))
        elif op == "deep":
            doc = _set(doc, path, _nested(draw(st.integers(20, 300)), draw(st.sampled_from(["list", "dict"]))))
        elif op == "alias" and path and isinstance(doc, dict):
            name = f"x{next(anchors)}"
            doc = _set(doc, path, Anchor(name, target))
            other = draw(st.sampled_from(_paths(doc)))
            if other and other[:len(path)] != path:
                doc = _set(doc, other, Alias(name))
            else:
                doc[f"zz_alias_{name}"] = Alias(name)
        elif op == "bomb" and isinstance(doc, dict):
            doc["bomb"] = _bomb(draw(st.integers(2, 9)), draw(st.integers(2, 10)), draw(st.booleans()))
        elif op == "recursive":
            name = f"r{next(anchors)}"
            doc = _set(doc, path, Anchor(name, draw(st.sampled_from([[Alias(name)], {"a": Alias(name)}, [Alias(name)] * 5]))))
        elif op == "tag":
            doc = _set(doc, path, Raw(draw(TAGS)))
        elif op == "duplicate_item" and isinstance(target, list) and target:
            target.append(draw(st.sampled_from(target)))
        elif op == "top_level":
            doc = draw(st.sampled_from([[doc], "just a string", 42, None, [1, 2], Raw("2025-01-01")]))
        else:
            continue
        done.append(f"{op} at {'.'.join(map(str, path)) or '<top>'}")
    return doc, done


def _text_mutation(draw, text: str) -> tuple[str, str]:
    op = draw(st.sampled_from(["duplicate_key", "tabs", "bom", "crlf", "cr", "truncate", "insert", "merge_key",
                               "unicode_breaks", "long_line", "directive"]))
    lines = text.split("\n")
    if op == "duplicate_key":
        keyed = [i for i, line in enumerate(lines) if re.match(r"^\s*[A-Za-z_\"][^:]*:", line)]
        if keyed:
            i = draw(st.sampled_from(keyed))
            lines.insert(i + 1, lines[i] if draw(st.booleans()) else re.sub(r":.*$", ": 1", lines[i]))
        text = "\n".join(lines)
    elif op == "tabs":
        text = re.sub(r"(?m)^(  )+", lambda m: "\t" * draw(st.integers(1, 2)) if draw(st.booleans()) else m.group(0), text)
        if "\t" not in text:
            text = text.replace(": ", ":\t", 1)
    elif op == "bom":
        text = "\ufeff" + text
    elif op == "crlf":
        text = text.replace("\n", "\r\n")
    elif op == "cr":
        text = text.replace("\n", "\r")
    elif op == "truncate":
        text = text[:draw(st.integers(0, len(text)))]
    elif op == "insert":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([":", "[", "]", "{", "}", "&a", "*a", "!", "%", "|", ">", "'", '"', "#", "- ", "? ",
                                                 "\n", "  ", ",", "\x00", "\x07", "\\"])) + text[at:]
    elif op == "merge_key":
        text = "base: &base {region: CN}\n" + re.sub(r"(?m)^(  )(region: \w+)$", r"\1<<: *base", text, count=1)
    elif op == "unicode_breaks":
        text = text.replace("\n", draw(st.sampled_from(["\u2028", "\x85", "\n\u2029"])), draw(st.integers(1, 3)))
    elif op == "long_line":
        text = text.replace("name: ", "name: " + "x" * draw(st.integers(10_000, 200_000)), 1)
    elif op == "directive":
        text = draw(st.sampled_from(["%YAML 1.1\n---\n", "%YAML 1.2\n---\n", "%YAML 9.9\n---\n", "%TAG !e! tag:e.com:\n---\n", "---\n"])) + text
    return text, op


def _encode(draw, text: str) -> tuple[bytes, str]:
    """UTF-8 bytes of the text; sometimes with bytes that are not UTF-8."""
    op = draw(st.sampled_from(["utf8"] * 8 + ["invalid_bytes", "latin1", "utf16", "surrogateescape"]))
    if op == "latin1":
        return text.encode("latin-1", errors="replace") + "caf\u00e9\n".encode("latin-1"), op
    if op == "utf16":
        return text.encode("utf-16", errors="surrogatepass"), op
    data = text.encode("utf-8", errors="surrogatepass")  # raw surrogates become CESU-8 bytes
    if op == "invalid_bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf4\x90\x80\x80"])) + data[at:]
    elif op == "surrogateescape":
        at = draw(st.integers(0, len(text)))
        data = (text[:at] + "\udcff\udc80" + text[at:]).encode("utf-8", errors="surrogateescape")
    return data, op


@dataclass
class Case:
    """Files to write (name -> bytes), the one to load, and how it was made."""

    files: dict[str, bytes]
    main: str = "scenario.yaml"
    ops: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # what Hypothesis prints for a failing example
        shown = {name: data[:3000].decode("utf-8", errors="backslashreplace") for name, data in self.files.items()}
        return f"Case(main={self.main!r}, ops={self.ops!r}, files={shown!r})"

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        return folder / self.main


@st.composite
def cases(draw, mutate: bool = True) -> Case:
    """A scenario file (sometimes a child ``extends``-ing a parent), mutated unless ``mutate`` is False."""
    doc = draw(scenarios())
    docs = {"scenario.yaml": doc}
    if draw(st.integers(0, 5)) == 0:  # split into parent and child
        child: dict = {"extends": "parent.yaml", "name": "child"}
        node = draw(st.sampled_from(list(doc["nodes"])))
        if draw(st.booleans()):
            child["nodes"] = {node: None}
        elif draw(st.booleans()):
            child["nodes"] = {node: {"region": "KR"}}
        if "shocks" in doc and draw(st.booleans()):
            child["shocks"] = [doc.pop("shocks")[0]] if draw(st.booleans()) else None
        docs = {"parent.yaml": doc, "scenario.yaml": child}
    ops: list[str] = []
    files: dict[str, bytes] = {}
    for name, data in docs.items():
        text_ops: list[str] = []
        if mutate:
            data, done = draw(mutated(data))
            ops += [f"{name}: {d}" for d in done]
        text = emit(data, flow_at=draw(st.integers(0, 4)))
        if mutate:
            for _ in range(draw(st.integers(0, 2))):
                text, op = _text_mutation(draw, text)
                text_ops.append(op)
            raw, how = _encode(draw, text)
            if how != "utf8":
                text_ops.append(how)
        else:
            raw = text.encode("utf-8")
        ops += [f"{name}: text {op}" for op in text_ops]
        files[name] = raw
    return Case(files, "scenario.yaml", ops)


# --- property tests -------------------------------------------------------------------------

_counter = itertools.count()
FUZZ = settings(deadline=None, max_examples=300,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


def test_generators_cover_every_shock_and_policy_type():
    assert set(SHOCK_GENERATORS) == set(SHOCK_TYPES)
    assert set(POLICY_GENERATORS) == set(POLICY_TYPES)


@pytest.mark.slow
@FUZZ
@given(case=cases())
def test_any_generated_file_loads_or_fails_with_positions(tmp_path, case):
    folder = tmp_path / f"case{next(_counter)}"
    path = case.write(folder)
    check_contract(path, tuple(folder / name for name in case.files))


@pytest.mark.slow
@settings(FUZZ, max_examples=40)
@given(case=cases(mutate=False))
def test_unmutated_documents_keep_the_contract(tmp_path, case):
    folder = tmp_path / f"plain{next(_counter)}"
    check_contract(case.write(folder), tuple(folder / name for name in case.files))


@pytest.mark.slow
@settings(FUZZ, max_examples=40)
@given(case=cases())
def test_chipsim_validate_exits_0_or_2(tmp_path, case):
    folder = tmp_path / f"cli{next(_counter)}"
    path = case.write(folder)
    outcome = check_contract(path, tuple(folder / name for name in case.files))
    assert check_cli(path) == (0 if outcome == "valid" else 2)


# --- hand-written nasty cases ---------------------------------------------------------------


def problems(path: Path, limit: float = 2.0, also: tuple[Path, ...] = ()) -> list[sim.Problem]:
    """The problems of a file that must fail to load (``also``: other files it reads)."""
    assert check_contract(path, also, limit=limit) == "error"
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    return info.value.problems


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_tiny_is_valid(tmp_path):
    assert check_contract(write(tmp_path, TINY)) == "valid"


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]  # 10**10 values
    (p,) = problems(write(tmp_path, TINY + "\n".join(lines) + "\n"), limit=1.0)
    assert "more than 200000 values" in p.message and p.line > 16


def test_mapping_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["m0: &m0 {k: lol}"] + [f"m{i}: &m{i} {{x: *m{i - 1}, y: *m{i - 1}}}" for i in range(1, 40)]  # 2**39
    (p,) = problems(write(tmp_path, "\n".join(lines) + "\n"), limit=1.0)
    assert "more than 200000 values" in p.message


@pytest.mark.parametrize("style", ["block", "flow"])
def test_200_level_nested_mapping(tmp_path, style):
    if style == "block":
        text = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    else:
        text = "k: " + "{a: " * 200 + "1" + "}" * 200 + "\n"
    (p,) = problems(write(tmp_path, text), limit=1.0)
    assert "nesting deeper than 64 levels" in p.message


def test_100_000_nested_flow_lists(tmp_path):
    (p,) = problems(write(tmp_path, "name: " + "[" * 100_000 + "]" * 100_000 + "\n"), limit=1.0)
    assert (p.line, p.col) == (1, 7 + 64) and "nesting deeper" in p.message


@pytest.mark.parametrize("text", ["&a [*a]\n", "a: &a [*a]\n", "a: &a {b: *a}\n", TINY + "x: &a [*a, *a, *a, *a, *a, *a]\n"])
def test_recursive_alias(tmp_path, text):
    found = problems(write(tmp_path, text), limit=1.0)
    assert any("recursive alias" in p.message or "more than 200000 values" in p.message for p in found), found


def test_recursive_alias_names_its_anchor(tmp_path):
    path = write(tmp_path, TINY + "description: &a [x, *a]\n")
    (p,) = problems(path)
    assert (p.line, p.col) == (17, 14) and "anchor &a" in p.message and "recursive alias" in p.message


def test_5_mb_single_line(tmp_path):
    # about 1.5 s each on a quiet machine: ruamel reads a long scalar one character at a time
    path = write(tmp_path, TINY + "description: " + "x" * 5_000_000 + "\n")
    started = time.perf_counter()
    assert len(sim.load_scenario(path).description) == 5_000_000
    assert time.perf_counter() - started < 2 * TIME_LIMIT
    # the same without a line break, in flow style
    path = write(tmp_path, "{name: one line, horizon: 3, description: '" + "x" * 5_000_000 + "'}")
    assert check_contract(path, limit=2 * TIME_LIMIT) == "valid"


def test_file_above_the_size_limit_is_refused_before_parsing(tmp_path):
    (p,) = problems(write(tmp_path, "name: " + "x" * (21 * 2**20) + "\n"), limit=1.0)
    assert (p.line, p.col) == (1, 1) and "MiB" in p.message


@pytest.mark.parametrize("tag", ["!!python/name:os.system", "!!python/object/apply:os.system ['touch pwned']",
                                 "!!python/object/new:os.system [true]"])
def test_python_tags_are_refused_not_run(in_tmp, tag):
    (p,) = problems(write(in_tmp, f"name: {tag}\nhorizon: 3\n"))
    assert (p.line, p.col) == (1, 7) and "not allowed" in p.message
    assert not (in_tmp / "pwned").exists()


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "list"), ("just a scalar\n", "str"), ("42\n", "int"),
                                       ("2025-01-01\n", "date"), ("true\n", "bool"), ("[{name: a, horizon: 3}]\n", "list")])
def test_valid_yaml_that_is_not_a_mapping(tmp_path, text, kind):
    (p,) = problems(write(tmp_path, text))
    assert (p.line, p.col) == (1, 1) and f"not a {kind}" in p.message


@pytest.mark.parametrize("text,line,col,fragment", [
    ("name: a\x00b\nhorizon: 3\n", 1, 8, "'\\x00' is not allowed"),
    ("name: ok\nhorizon: 3\x07\n", 2, 11, "'\\x07' is not allowed"),
    ('name: "\\ud800"\nhorizon: 3\n', 1, 7, "surrogate"),
    ('name: x\nhorizon: 3\n"\\udcff": 1\n', 3, 1, "surrogate"),
    ("name: x\nhorizon: !!bool maybe\n", 2, 10, "cannot read 'maybe' as a YAML bool"),
    ("name: x\nhorizon: " + "9" * 5000 + "\n", 2, 10, "as a YAML int"),
    ("name: x\nhorizon: 3\nstart_date: 2025-02-30\n", 3, 13, "invalid date"),
])
def test_unreadable_scalars_are_positioned(tmp_path, text, line, col, fragment):
    (p,) = problems(write(tmp_path, text))
    assert (p.line, p.col) == (line, col) and fragment in p.message, p


@pytest.mark.parametrize("value,fragment", [
    ("1e400d", "finite"), ("1" + "0" * 1000, "too large"), (".inf", "finite"), (".nan", "finite"), ("1e308", "36500"),
])
def test_huge_and_non_finite_horizons(tmp_path, value, fragment):
    (p,) = problems(write(tmp_path, TINY.replace("horizon: 30", f"horizon: {value}")))
    assert (p.line, p.col) == (2, 10) and fragment in p.message


@pytest.mark.parametrize("field,value", [
    ("capacity: 10", "capacity: 1e400/day"), ("capacity: 10", "capacity: " + "1" + "0" * 1000),
    ("lead_time: 5", "lead_time: 1e400d"), ("lead_time: 5", "lead_time: {dist: uniform, low: 1, high: .inf}"),
    ("days_of_cover: 10", "days_of_cover: .inf"), ("magnet: {unit: t}", "magnet: {unit: t, price: .inf}"),
    ("magnet: {unit: t}", "magnet: {unit: t, tflops: " + "9" * 400 + "}"),
    ("lead_time: 5}", "lead_time: 5, share: .nan}"),
])
def test_non_finite_and_oversized_numbers_are_problems(tmp_path, field, value):
    path = write(tmp_path, TINY.replace(field, value))
    assert problems(path)


@pytest.mark.parametrize("shock", [
    "{type: export_ban, start: 1e400d, product: magnet}",
    "{type: export_ban, start: " + "9" * 400 + ", product: magnet}",
    "{type: export_ban, start: 1, from: {region: [{a: 1}]}}",
    "{type: export_ban, start: 1, from: {region: 5}}",
    "{type: export_ban, start: 1, to: {entity: [a], affiliates: 0.5}}",
    "{type: entity_list, start: 1, entities: [{a: 1}]}",
    "{type: export_license, start: 1, review_days: 1e400wd}",
    "{type: export_license, start: 1, review_days: {dist: uniform, low: 1wd, high: 1e400wd}}",
    "{type: export_license, start: 1, approval_rate: [{rate: 0.5}, {from: 1e400d, rate: 1}]}",
])
def test_bad_shock_values_are_problems(tmp_path, shock):
    assert problems(write(tmp_path, TINY + f"shocks:\n  - {shock}\n"))


@pytest.mark.parametrize("fab", ["{die_area_mm2: 100, d0_per_cm2: 0.1, wafer_diameter_mm: 1e200}",
                                 "{die_area_mm2: 1e-310, d0_per_cm2: 0.1}"])
def test_absurd_fab_geometry_is_a_problem(tmp_path, fab):
    assert problems(write(tmp_path, TINY.replace("    capacity: 10\n", f"    capacity: 10\n    fab: {fab}\n")))


@pytest.mark.parametrize("lane", ["{from: [cn_magnets], to: {a: 1}, product: [magnet]}", "{from: {a: 1}, to: us_buyers, product: magnet}"])
def test_lanes_with_mappings_for_ids(tmp_path, lane):
    assert problems(write(tmp_path, TINY + f"  - {lane}\n"))


def test_owners_as_a_list_with_an_affiliates_selector(tmp_path):
    text = TINY.replace("    region: CN\n", "    region: CN\n    entity: X\n    owners: [Y]\n")
    assert problems(write(tmp_path, text + "shocks:\n  - {type: export_ban, start: 1, to: {entity: Y, affiliates: 0.5}}\n"))


@pytest.mark.parametrize("text", [
    "c:\n  <<: {a: 1}\n", "a: &a {b: 1}\nc:\n  <<: *a\n", "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n",
    "nodes: !!omap [a: 1]\n",
])
def test_merge_keys_and_ordered_maps(tmp_path, text):
    assert problems(write(tmp_path, text))


@pytest.mark.parametrize("ref", ['"a\\0b.yaml"', "a" * 5000 + ".yaml", '"\\U0001F600.yaml"', "/dev/null", "."])
def test_extends_paths_the_os_refuses(tmp_path, ref):
    (p,) = problems(write(tmp_path, f"name: x\nextends: {ref}\n"))
    assert (p.line, p.col) == (2, 10) and "extends" in p.message


def test_extends_child_removes_a_node_whose_lanes_are_mappings(tmp_path):
    write(tmp_path, TINY + "  - {from: {a: 1}, to: [b], product: magnet}\n", "parent.yaml")
    path = write(tmp_path, "extends: parent.yaml\nnodes:\n  cn_magnets: null\n")
    assert check_contract(path, (tmp_path / "parent.yaml",)) == "error"


@pytest.mark.parametrize("transform", [
    lambda t: "\ufeff" + t, lambda t: t.replace("\n", "\r\n"), lambda t: t.replace("\n", "\r"),
])
def test_bom_and_line_ends_keep_the_file_valid(tmp_path, transform):
    assert check_contract(write(tmp_path, transform(TINY))) == "valid"


@pytest.mark.parametrize("data,line,col", [
    (TINY.encode("utf-16"), 1, 1), (TINY.encode("utf-8") + b"\xff", 17, 1), (b"name: caf\xe9\n", 1, 10),
    ("horizon: 3\r\nname: \u00e9a\udcffb\n".encode("utf-8", "surrogateescape"), 2, 9),
])
def test_bytes_that_are_not_utf8(tmp_path, data, line, col):
    (p,) = problems(write(tmp_path, data))
    assert (p.line, p.col) == (line, col) and "not UTF-8" in p.message


def test_tabs_and_duplicate_keys(tmp_path):
    (p,) = problems(write(tmp_path, TINY.replace("  cn_magnets:\n    region", "  cn_magnets:\n\tregion")))
    assert p.line == 7 and "'\\t'" in p.message
    (p,) = problems(write(tmp_path, TINY.replace("    capacity: 10\n", "    capacity: 10\n    capacity: 12\n")))
    assert p.line == 10 and "duplicate key" in p.message and "line 9" in p.message


def test_many_cross_owned_entities_load_quickly(tmp_path):
    # ten entities that all own each other: the affiliates rule is solved as a fixed point
    # (sim/network.py entity_shares), not by enumerating every ownership chain
    entities = [f"E{i}" for i in range(10)]
    nodes = "".join(f"  n{i}: {{region: R, entity: E{i}, owners: {{{', '.join(f'{e}: 0.1' for e in entities if e != f'E{i}')}}}}}\n"
                    for i in range(len(entities)))
    path = write(tmp_path, f"name: x\nhorizon: 10\nproducts: {{p: {{}}}}\nnodes:\n{nodes}"
                           "shocks:\n  - {type: export_ban, start: 1, to: {entity: ZZ, affiliates: 0.5}}\n")
    code = "import sys, sim\ntry:\n    sim.load_scenario(sys.argv[1])\nexcept sim.ScenarioError:\n    pass\n"
    try:
        subprocess.run([sys.executable, "-c", code, str(path)], timeout=3, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("loading took more than 3 s")


def test_chipsim_validate_in_a_real_process(tmp_path):
    """What a user sees: exit 2, one FILE:LINE:COL line per problem, no traceback."""
    nasty = [
        write(tmp_path, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)), "bomb.yaml"),
        write(tmp_path, "name: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml"),
        write(tmp_path, "&a [*a]\n", "recursive.yaml"),
        write(tmp_path, 'name: "\\ud800"\nhorizon: 3\n', "surrogate.yaml"),
        write(tmp_path, TINY.replace("horizon: 30", "horizon: 1e400d"), "huge.yaml"),
        write(tmp_path, "name: x\nextends: \"a\\0b\"\n", "nul.yaml"),
        write(tmp_path, b"name: \xff\n", "latin.yaml"),
    ]
    ok = write(tmp_path, TINY, "ok.yaml")
    for files, expected in (([ok], 0), (nasty, 2)):
        run = subprocess.run(chipsim_command("validate", *files), capture_output=True,
                             text=True, errors="backslashreplace", timeout=120, cwd=tmp_path)
        assert run.returncode == expected, run.stderr
        assert "Traceback" not in run.stdout + run.stderr
    problem_lines = [line for line in run.stderr.splitlines() if re.match(r"^[^:]+:\d+:\d+: \S", line)]
    assert len(problem_lines) >= len(nasty)


def test_ids_with_line_breaks_and_escapes_stay_on_one_line(tmp_path):
    text = TINY.replace("to: us_buyers, product", 'to: "us_buyers\\nx: \\u2028\\e[31m", product')
    path = write(tmp_path, text)
    (p,) = problems(path)
    assert (p.line, p.col) == (16, 28) and "\\n" in p.message and "\n" not in p.message and "\x1b" not in p.message
    assert check_cli(path) == 2


def test_a_thousand_file_extends_chain(tmp_path):
    for i in range(1000):
        write(tmp_path, f"extends: p{i + 1}.yaml\n", f"p{i}.yaml")
    write(tmp_path, TINY, "p1000.yaml")
    (p,) = problems(tmp_path / "p0.yaml", limit=1.0, also=tuple(tmp_path.glob("p*.yaml")))
    assert (p.file, p.line, p.col) == (os.path.relpath(tmp_path / "p31.yaml"), 1, 10) and "limited to 32 files" in p.message


@pytest.mark.parametrize("field,value", [
    ("to: us_buyers, product", "to: " + "u" * 1_000_000 + ", product"),
    ("capacity: 10", "capacity: " + "9" * 4000 + "/fortnight"),
    ("    region: CN\n", "    region: CN\n    entity: [" + ", ".join(["x"] * 20_000) + "]\n"),
])
def test_huge_values_are_quoted_briefly(tmp_path, field, value):
    for p in problems(write(tmp_path, TINY.replace(field, value)), limit=TIME_LIMIT):
        assert len(p.message) < 1000, p.message[:200]


def test_validate_prints_line_100_as_written(tmp_path):
    # found by the campaign: rich once printed ":100:" (and ":1234:") as an emoji
    path = write(tmp_path, "name: x\n" + "# comment\n" * 98 + "horizon: 3x\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert f"{os.path.relpath(path)}:100:10: " in result.stderr
