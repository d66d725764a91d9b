"""Scenario files in, a validated ``Scenario`` out, or every problem with its position.

Stages: read each file of the ``extends`` chain safely (``yamlsource``), deep-merge child
over parent while carrying positions along, validate with the pydantic schema, then
check cross-references (ids of nodes, products, lanes, selectors). Problems from all
stages are collected and raised together as one ``ScenarioError``.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from .distributions import DIST_TYPES
from .errors import Problem, ScenarioError, did_you_mean
from .selectors import lanes_matching, nodes_matching_raw
from .quantities import day_number
from .policies import POLICY_TYPES
from .schema import Demand, Lane, Node, Product, Reorder, Scenario
from .shocks import SHOCK_TYPES, TradeShockSpec
from .yamlsource import Loc, PosNode, _short, read_yaml

APPENDED_LISTS = ("lanes", "shocks", "policies")
MAX_EXTENDS = 32  # files in one extends chain; far more than any real layering
# contract types (scenario-format.md, section 7) that later versions implement
CONTRACT_TYPES = {"export_ban", "export_license", "entity_list", "capacity_loss", "yield_shock",
                  "demand_change", "service_ban", "stockpile", "stockpile_release",
                  "capacity_expansion", "new_lane"}
PLANNED_TYPES = CONTRACT_TYPES - set(SHOCK_TYPES) - set(POLICY_TYPES)
MAX_MESSAGE = 600  # characters of a message, which may quote the offending value (5 MB of it)
# control characters and line breaks that an id quoted in a message may carry: shown as
# escapes, so that every problem stays on one FILE:LINE:COL: line
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SUGGESTION_BUDGET = 20_000  # name comparisons per load for "did you mean" hints


class _Suggester:
    """``did_you_mean`` within a budget of comparisons per load.

    difflib compares a misspelt name with every known one, so a file with thousands of
    misspelt ids among thousands of nodes would take minutes to report. Past the budget,
    problems are still reported, without the hint. Answers are cached per name and kind.
    """

    def __init__(self, budget: int = SUGGESTION_BUDGET):
        self.budget = budget
        self.cache: dict[tuple, str] = {}

    def __call__(self, name: object, candidates: Iterable, kind: str = "") -> str:
        if not isinstance(name, str) or len(name) > 100:
            return ""
        key = (kind, name)
        if kind and key in self.cache:
            return self.cache[key]
        known = [c for c in candidates if isinstance(c, str) and len(c) <= 100]
        if len(known) > self.budget:
            return ""
        self.budget -= len(known)
        hint = did_you_mean(name, known)
        if kind:
            self.cache[key] = hint
        return hint


@dataclass(frozen=True)
class SourceFile:
    """A file read while loading a scenario (the file itself and its ``extends`` chain)."""

    path: str
    sha256: str


# --- extends and deep merge ----------------------------------------------------------

def _within(path: str, roots: Iterable[str]) -> bool:
    for root in roots:
        try:
            if os.path.commonpath([path, root]) == root:
                return True
        except ValueError:  # different drives
            continue
    return False


def _merge(parent: dict, ppos: PosNode, child: dict, cpos: PosNode, top: bool) -> tuple[dict, PosNode]:
    out = dict(parent)
    pos = PosNode(cpos.at, keys=dict(ppos.keys), items=dict(ppos.items or {}))
    removed_nodes: set[str] = set()
    for key, value in child.items():
        cchild = cpos.items.get(key) if isinstance(cpos.items, dict) else None
        if value is None:
            # `key: null` removes what the parent defined (e.g. nodes.X: null drops node X)
            out.pop(key, None)
            pos.items.pop(key, None)
            pos.keys.pop(key, None)
            continue
        old = out.get(key)
        oldpos = pos.items.get(key)
        if top and key == "nodes" and isinstance(value, dict):
            removed_nodes = {k for k, v in value.items() if v is None and isinstance(old, dict) and k in old}
        if top and key in APPENDED_LISTS and isinstance(value, list) and isinstance(old, list):
            out[key] = old + value
            pos.items[key] = PosNode(cchild.at, items=list(oldpos.items or []) + list(cchild.items or []))
        elif isinstance(value, dict) and isinstance(old, dict) and oldpos is not None:
            out[key], pos.items[key] = _merge(old, oldpos, value, cchild, top=False)
        else:
            out[key] = value
            pos.items[key] = cchild
        pos.keys[key] = cpos.keys.get(key, cpos.at)
    if removed_nodes and isinstance(out.get("lanes"), list):
        # lanes the parent defined for a node the child removed go with the node
        keep = [i for i, lane in enumerate(out["lanes"])
                if not (isinstance(lane, dict) and i < len(parent.get("lanes") or [])
                        and any(isinstance(end, str) and end in removed_nodes for end in (lane.get("from"), lane.get("to"))))]
        lanes_pos = pos.items["lanes"].items
        out["lanes"] = [out["lanes"][i] for i in keep]
        pos.items["lanes"] = PosNode(pos.items["lanes"].at, items=[lanes_pos[i] for i in keep])
    return out, pos


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _read_chain(path: Path, roots: Sequence[str], chain: list[str], sources: list[SourceFile],
                problems: list[Problem], broken: list[str]) -> tuple[dict | None, PosNode | None]:
    """Read ``path`` and its parents, merged; ``broken`` collects files whose parent could not be merged."""
    display = _display(path)
    data, pos, found = read_yaml(path, display)
    problems.extend(found)
    try:
        sources.append(SourceFile(str(path), hashlib.sha256(path.read_bytes()).hexdigest()))
    except OSError:
        pass
    if data is None:
        return None, None
    parent_ref = data.pop("extends", None)
    ext_loc = pos.items.get("extends", pos).at if isinstance(pos.items, dict) else pos.at
    if isinstance(pos.items, dict):
        pos.items.pop("extends", None)
    if parent_ref is None:
        return data, pos
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        problems.append(Problem(ext_loc.file, ext_loc.line, ext_loc.col, "extends must be a file path relative to this file"))
        broken.append(display)
        return data, pos
    where = (ext_loc.file, ext_loc.line, ext_loc.col)
    try:
        target = Path(os.path.realpath(path.parent / parent_ref))
        outside = not _within(str(target), roots)
        missing = not outside and str(target) not in chain and not target.is_file()
        siblings = [p.name for p in target.parent.glob("*.yaml")] if missing and target.parent.is_dir() else []
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long for the file system...
        reason = getattr(exc, "strerror", None) or str(exc)
        problems.append(Problem(*where, f"extends {_short(parent_ref)}: not a usable file path ({reason})"))
        broken.append(display)
        return data, pos
    if outside:
        problems.append(Problem(*where, f"extends '{parent_ref}' points outside the scenario folder {roots[0]}; pass --search-path to allow another folder"))
        broken.append(display)
        return data, pos
    if str(target) in chain:
        cycle = " -> ".join(_display(Path(p)) for p in chain[chain.index(str(target)):] + [str(target)])
        problems.append(Problem(*where, f"extends forms a cycle: {cycle}"))
        broken.append(display)
        return data, pos
    if missing:
        problems.append(Problem(*where, f"extends '{parent_ref}': no such file{did_you_mean(Path(parent_ref).name, siblings)}"))
        broken.append(display)
        return data, pos
    if len(chain) >= MAX_EXTENDS:  # each level costs stack frames: stop long before Python's limit
        problems.append(Problem(*where, f"extends chains are limited to {MAX_EXTENDS} files; this file is number {len(chain)}"))
        broken.append(display)
        return data, pos
    parent, ppos = _read_chain(target, roots, chain + [str(target)], sources, problems, broken)
    if parent is None:
        broken.append(display)
        return data, pos
    return _merge(parent, ppos, data, pos, top=True)


# --- pydantic errors to positioned problems ---------------------------------------

_TAGS = set(SHOCK_TYPES) | set(POLICY_TYPES) | set(DIST_TYPES)


def _locate(loc: tuple, data: Any, pos: PosNode) -> tuple[list, Any, PosNode, bool]:
    """Walk an error location through the data; returns (path, value, pos, complete)."""
    path: list = []
    node = pos
    value = data
    for part in loc:
        if isinstance(value, dict) and part not in value and isinstance(part, str) and part in _TAGS | {"function-plain", "function-after"}:
            continue  # discriminated-union tag in the location, not a key in the file
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return path + [part], None, node, False
        path.append(part)
        child = node.child(part) if node is not None else None
        node = child or node
    return path, value, node, True


def _model_keys(path: list, data: dict) -> list[str]:
    """Field names allowed at the mapping that holds ``path[-1]``, for suggestions."""
    head = path[:-1]

    def names(model) -> list[str]:
        return [f.alias or n for n, f in model.model_fields.items()]

    if len(head) == 0:
        return names(Scenario) + ["extends"]
    if head[0] == "products" and len(head) == 2:
        return names(Product)
    if head[0] == "nodes" and len(head) == 2:
        return names(Node)
    if head[0] == "nodes" and len(head) == 3 and head[2] == "reorder":
        return names(Reorder)
    if head[0] == "nodes" and len(head) == 3 and head[2] == "demand":
        return names(Demand)
    if head[0] == "lanes" and len(head) == 2:
        return names(Lane)
    if head[0] in ("shocks", "policies") and len(head) == 2:
        registry = SHOCK_TYPES if head[0] == "shocks" else POLICY_TYPES
        try:
            kind = data[head[0]][head[1]].get("type")
        except (KeyError, IndexError, AttributeError, TypeError):
            kind = None
        if isinstance(kind, str) and kind in registry:
            return names(registry[kind])
    return []


def _dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(exc: ValidationError, data: dict, pos: PosNode, suggest: _Suggester) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path, value, node, complete = _locate(err["loc"], data, pos)
        at = node.at
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "extra_forbidden" and path:
            key = path[-1]
            parent_pos = _locate(tuple(path[:-1]), data, pos)[2]
            at = parent_pos.keys.get(key, at)
            msg = f"unknown key '{key}'{suggest(key, _model_keys(path, data))}"
        elif kind == "missing" and path:
            msg = f"missing required key '{path[-1]}'"
            path = path[:-1]
        elif kind == "union_tag_invalid":
            registry = SHOCK_TYPES if path and path[0] == "shocks" else POLICY_TYPES
            tag = err["ctx"]["tag"]
            what = path[0][:-1] if path else "item"
            if tag in PLANNED_TYPES:
                msg = f"{what} type '{tag}' is part of the scenario format but not implemented in this version; available: {', '.join(registry) or 'none yet'}"
            else:
                msg = f"unknown {what} type '{tag}'{suggest(tag, registry)}; known types: {', '.join(registry)}"
            node = node.child("type") if isinstance(node, PosNode) and node.child("type") else node
            at = node.at
        elif kind == "union_tag_not_found":
            msg = f"missing 'type' (one of: {', '.join(SHOCK_TYPES if path and path[0] == 'shocks' else POLICY_TYPES)})"
        elif kind in ("dict_type", "model_type"):
            msg = f"expected a mapping (key: value), got {type(value).__name__ if complete else 'something else'}"
        where = _dotted(path)
        problems.append(Problem(at.file, at.line, at.col, f"{where}: {msg}" if where else msg))
    return problems


# --- cross references ---------------------------------------------------------------

class _Refs:
    """Checks that ids used in the merged document exist, on raw (possibly invalid) data."""

    def __init__(self, data: dict, pos: PosNode, suggest: _Suggester):
        self.data = data
        self.pos = pos
        self.suggest = suggest
        self.problems: list[Problem] = []
        products = data.get("products")
        nodes = data.get("nodes")
        self.products = set(products) if isinstance(products, dict) else set()
        self.catalogue = products if isinstance(products, dict) else {}
        self.nodes = nodes if isinstance(nodes, dict) else {}
        # what selectors read of each node, keeping only well-typed values (the schema
        # reports the others), so that matching never meets a list where it expects a name
        self.views = {nid: _selector_view(n) for nid, n in self.nodes.items() if isinstance(n, dict)}
        # computed once: a file may hold thousands of shocks and of nodes
        self.regions = {v["region"] for v in self.views.values() if v["region"] is not None}
        self.operators = {v["entity"] for v in self.views.values() if v["entity"] is not None}
        self.entities = self.operators | {o for v in self.views.values() for o in v["owners"]}
        self.known = {"region": sorted(self.regions), "entity": sorted(self.entities)}  # for suggestions
        self._affiliates: dict[tuple, bool] = {}

    def at(self, *path) -> Loc:
        return _locate(tuple(path), self.data, self.pos)[2].at

    def key_at(self, *path) -> Loc:
        node = _locate(tuple(path[:-1]), self.data, self.pos)[2]
        return node.keys.get(path[-1], node.at)

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc.file, loc.line, loc.col, message))

    def product(self, pid, *path, key: bool = False) -> bool:
        if isinstance(pid, str) and pid not in self.products:
            loc = self.key_at(*path) if key else self.at(*path)
            self.add(loc, f"{_dotted(list(path))}: unknown product '{pid}'{self.suggest(pid, self.products, 'product')}")
            return False
        return True

    def node(self, nid, *path) -> bool:
        if isinstance(nid, str) and nid not in self.nodes:
            self.add(self.at(*path), f"{_dotted(list(path))}: unknown node '{nid}'{self.suggest(nid, self.nodes, 'node')}")
            return False
        return True

    def check(self) -> list[Problem]:
        for nid, node in self.nodes.items():
            if not isinstance(node, dict):
                continue
            self.product(node.get("produces"), "nodes", nid, "produces")
            for field in ("consumes", "inventory"):
                block = node.get(field)
                if isinstance(block, dict):
                    for pid in block:
                        self.product(pid, "nodes", nid, field, pid, key=True)
            demand = node.get("demand")
            if isinstance(demand, dict):
                self._demand(nid, demand)
            equipment = node.get("equipment")
            if isinstance(equipment, dict):
                for pid, need in equipment.items():
                    if self.product(pid, "nodes", nid, "equipment", pid, key=True):
                        kind = self.catalogue.get(pid, {})
                        if isinstance(kind, dict) and kind.get("kind", "material") != "equipment":
                            self.add(self.key_at("nodes", nid, "equipment", pid),
                                     f"nodes.{nid}.equipment.{pid}: '{pid}' is not an equipment product (add `kind: equipment` to it)")
                    if isinstance(need, dict) and isinstance(need.get("spares"), str):
                        self.product(need["spares"], "nodes", nid, "equipment", pid, "spares")
            reorder = node.get("reorder")
            if isinstance(reorder, dict) and isinstance(reorder.get("level"), dict):
                for pid in reorder["level"]:
                    self.product(pid, "nodes", nid, "reorder", "level", pid, key=True)
        self._lanes()
        for kind in ("shocks", "policies"):
            items = self.data.get(kind)
            if isinstance(items, list):
                for i, item in enumerate(items):
                    if isinstance(item, dict):
                        self._selectors(kind, i, item)
        return self.problems

    def _demand(self, nid: str, demand: dict) -> None:
        products = demand.get("product")
        listed = products if isinstance(products, list) else [products]
        measure = demand.get("measure")
        for j, pid in enumerate(listed):
            path = ("nodes", nid, "demand", "product") + ((j,) if isinstance(products, list) else ())
            if not isinstance(pid, str) or not self.product(pid, *path) or not isinstance(measure, str):
                continue
            attrs = self.catalogue.get(pid)
            attrs = attrs if isinstance(attrs, dict) else {}
            value = attrs.get(measure)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                known = [k for k, v in attrs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
                self.add(self.at(*path), f"nodes.{nid}.demand: product '{pid}' has no positive '{measure}' attribute"
                                         f"{self.suggest(measure, known)}")

    def _lanes(self) -> None:
        lanes = self.data.get("lanes")
        if not isinstance(lanes, list):
            return
        holds: dict[str, set] = {nid: set() for nid in self.nodes}
        for nid, node in self.nodes.items():
            if isinstance(node, dict):
                if isinstance(node.get("produces"), str):
                    holds[nid].add(node["produces"])
                if isinstance(node.get("inventory"), dict):
                    holds[nid].update(node["inventory"])
        # ids that are not strings (lists, mappings...) are reported by the schema
        lanes = [lane if isinstance(lane, dict) and all(isinstance(lane.get(k), (str, type(None))) for k in ("from", "to", "product"))
                 else None for lane in lanes]
        for lane in lanes:
            if lane is not None and lane.get("to") in holds:
                holds[lane["to"]].add(lane.get("product"))
        shared: dict[tuple, list[int]] = {}
        for i, lane in enumerate(lanes):
            if lane is not None:
                shared.setdefault((lane.get("to"), lane.get("product")), []).append(i)
        for (dst, pid), group in shared.items():
            given = [i for i in group if lanes[i].get("share") is not None]
            if given and len(given) < len(group):
                missing = next(i for i in group if lanes[i].get("share") is None)
                self.add(self.at("lanes", missing),
                         f"lanes[{missing}]: give every lane into '{dst}' for '{pid}' a share, or none "
                         f"(lanes[{given[0]}] has one; shares are normalised among a buyer's lanes)")
        seen: dict[tuple, int] = {}
        for i, lane in enumerate(lanes):
            if not isinstance(lane, dict):
                continue
            ok = self.node(lane.get("from"), "lanes", i, "from")
            ok &= self.node(lane.get("to"), "lanes", i, "to")
            ok &= self.product(lane.get("product"), "lanes", i, "product")
            if not ok:
                continue
            src, dst, pid = lane.get("from"), lane.get("to"), lane.get("product")
            if src == dst and src is not None:
                self.add(self.at("lanes", i), f"lanes[{i}]: a lane cannot go from '{src}' to itself")
            key = (src, dst, pid)
            if key in seen and None not in key:
                self.add(self.at("lanes", i), f"lanes[{i}]: duplicate of lanes[{seen[key]}] ({src} -> {dst}, {pid}); use one lane per supplier, buyer and product")
            seen.setdefault(key, i)
            if isinstance(src, str) and pid not in holds.get(src, {pid}):
                self.add(self.at("lanes", i, "product"),
                         f"lanes[{i}]: node '{src}' never has '{pid}' to ship (it does not produce it, stock it or receive it)")

    def _selectors(self, kind: str, i: int, item: dict) -> None:
        products = item.get("product")
        if isinstance(products, str):
            self.product(products, kind, i, "product")
        elif isinstance(products, list):
            for j, pid in enumerate(products):
                self.product(pid, kind, i, "product", j)
        entities = item.get("entities") if item.get("type") == "entity_list" else None
        if isinstance(entities, (str, list)):
            for j, name in enumerate([entities] if isinstance(entities, str) else entities):
                if isinstance(name, str) and name not in self.entities:
                    path = (kind, i, "entities") if isinstance(entities, str) else (kind, i, "entities", j)
                    self.add(self.at(*path), f"{kind}[{i}].entities: unknown entity '{name}'{self.suggest(name, self.known['entity'], 'entity')}")
        for side in ("from", "to", "node"):
            sel = item.get(side)
            if isinstance(sel, str):
                self.node(sel, kind, i, side)
            elif isinstance(sel, list):
                for j, nid in enumerate(sel):
                    self.node(nid, kind, i, side, j)
            elif isinstance(sel, dict) and _well_formed_selector(sel):
                if not self._matches_any(sel):
                    what = "region" if "region" in sel else "entity"
                    self.add(self.at(kind, i, side), f"{kind}[{i}].{side}: no node matches {what} {sel.get(what)!r}{self.suggest(sel.get(what), self.known[what], what)}")

    def _matches_any(self, sel: dict) -> bool:
        """Whether a well-formed region or entity selector matches some node."""
        if "region" in sel:
            regions = [sel["region"]] if isinstance(sel["region"], str) else sel["region"]
            return any(r in self.regions for r in regions)
        if sel["entity"] in self.operators:
            return True
        if sel.get("affiliates") is None:
            return False
        key = (sel["entity"], sel["affiliates"])
        if key not in self._affiliates:
            self._affiliates[key] = bool(nodes_matching_raw(sel, self.views))
        return self._affiliates[key]


def _is_share(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _selector_view(node: dict) -> dict:
    """A node as selectors see it (region, entity, owners), with ill-typed values dropped."""
    owners = node.get("owners")
    return {
        "region": node.get("region") if isinstance(node.get("region"), str) else None,
        "entity": node.get("entity") if isinstance(node.get("entity"), str) else None,
        "owners": {k: v for k, v in owners.items() if _is_share(v)} if isinstance(owners, dict) else {},
    }


def _well_formed_selector(sel: dict) -> bool:
    """A raw {region: ...} or {entity: ...} selector of the right types (others are schema errors)."""
    if "region" in sel:
        region = sel["region"]
        return isinstance(region, str) or (isinstance(region, list) and all(isinstance(r, str) for r in region))
    if "entity" in sel:
        affiliates = sel.get("affiliates")
        return isinstance(sel["entity"], str) and (affiliates is None or _is_share(affiliates))
    return False


def _shock_problems(scenario: Scenario, data: dict, pos: PosNode) -> list[Problem]:
    """Checks that need the validated scenario: windows in day numbers, matched lanes."""
    problems = []
    for kind, items in (("shocks", scenario.shocks), ("policies", scenario.policies)):
        for i, spec in enumerate(items):
            start = day_number(spec.start, scenario.start_date)
            if spec.end is not None and day_number(spec.end, scenario.start_date) <= start:
                at = _locate((kind, i, "end"), data, pos)[2].at
                problems.append(Problem(at.file, at.line, at.col,
                                        f"{kind}[{i}].end: must come after start (start is day {start}, "
                                        f"end is day {day_number(spec.end, scenario.start_date)}; day 0 = {scenario.start_date})"))
            if isinstance(spec, TradeShockSpec) and not lanes_matching(scenario, spec):
                at = _locate((kind, i), data, pos)[2].at
                problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}] ({spec.type}): matches no lane; check product, from and to"))
            announced = getattr(spec, "announced", None)
            if announced is not None and day_number(announced, scenario.start_date) >= start:
                at = _locate((kind, i, "announced"), data, pos)[2].at
                problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}].announced: must come before start (day {start})"))
            for j, window in enumerate(spec.suspended):
                a, b = day_number(window.start, scenario.start_date), day_number(window.end, scenario.start_date)
                if b <= a:
                    at = _locate((kind, i, "suspended", j), data, pos)[2].at
                    problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}].suspended[{j}]: end (day {b}) must come after start (day {a})"))
            for where, message in spec.check(scenario):
                at = _locate((kind, i, *where), data, pos)[2].at
                field = ".".join(str(w) for w in where)
                problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}]{'.' + field if field else ''}: {message}"))
    return problems


def _one_line(problem: Problem) -> Problem:
    """The problem with control characters in its message escaped (``\\n``, ``\\x1b``) and
    a message that quotes a huge value cut short."""
    message = problem.message
    if len(message) > MAX_MESSAGE:
        message = f"{message[:MAX_MESSAGE]}... ({len(message):,} characters)"
    if _UNPRINTABLE.search(message):
        message = _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], message)
    return problem if message == problem.message else Problem(problem.file, problem.line, problem.col, message)


def load_scenario(path: str | os.PathLike, search_paths: Sequence[str | os.PathLike] = ()) -> Scenario:
    """Load, merge, validate and cross-check a scenario file.

    ``extends`` may only reach files under the folder of ``path`` or under one of
    ``search_paths``. Raises ``ScenarioError`` listing every problem with its position.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise ScenarioError([Problem(_display(path), 1, 1, "no such scenario file" if not path.exists() else "not a file")])
    except OSError as exc:  # e.g. a name too long for the file system
        raise ScenarioError([Problem(_display(path), 1, 1, f"cannot read file: {exc.strerror or exc}")]) from None
    real = Path(os.path.realpath(path))
    roots = [os.path.realpath(real.parent)] + [os.path.realpath(p) for p in search_paths]
    problems: list[Problem] = []
    sources: list[SourceFile] = []
    broken: list[str] = []
    data, pos = _read_chain(real, roots, [str(real)], sources, problems, broken)
    if data is None or broken:
        # without its parent the document is incomplete: checking it would only add
        # spurious "missing key" and "unknown node" lines
        raise ScenarioError([_one_line(p) for p in problems])
    # values the reader rejected (e.g. a forbidden tag) became null; don't report them twice
    rejected = {(p.file, p.line, p.col) for p in problems}
    checks: list[Problem] = []
    scenario = None
    suggest = _Suggester()
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        checks.extend(_pydantic_problems(exc, data, pos, suggest))
    checks.extend(_Refs(data, pos, suggest).check())
    if scenario is not None and not problems and not checks:
        checks.extend(_shock_problems(scenario, data, pos))
    problems.extend(p for p in checks if (p.file, p.line, p.col) not in rejected)
    if problems:
        raise ScenarioError([_one_line(p) for p in problems])
    # kept out of pydantic's private attributes, which == compares: a scenario must equal
    # the same scenario loaded back from its resolved copy. pydantic ignores non-field
    # entries of __dict__ in == (as it does for functools.cached_property values).
    scenario.__dict__[_SOURCES_KEY] = tuple(sources)
    return scenario


_SOURCES_KEY = "_chipsim_sources"


def scenario_sources(scenario: Scenario) -> tuple[SourceFile, ...]:
    """Files read to build ``scenario`` (empty for scenarios built in Python)."""
    return scenario.__dict__.get(_SOURCES_KEY, ())
