"""Scenario files in, a validated ``Scenario`` out, or every problem with its position.

Stages: read each file of the ``extends`` chain safely (``yamlsource``), deep-merge child
over parent while carrying positions along, validate with the pydantic schema, then
check cross-references (ids of nodes, products, lanes, selectors). Problems from all
stages are collected and raised together as one ``ScenarioError``.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from .distributions import DIST_TYPES
from .errors import Problem, ScenarioError, did_you_mean
from .network import lanes_matching, nodes_matching_raw
from .quantities import day_number
from .policies import POLICY_TYPES
from .schema import Demand, Lane, Node, Product, Reorder, Scenario
from .shocks import SHOCK_TYPES, TradeShockSpec
from .yamlsource import Loc, PosNode, read_yaml

APPENDED_LISTS = ("lanes", "shocks", "policies")
# contract types (scenario-format.md, section 7) that later versions implement
CONTRACT_TYPES = {"export_ban", "export_license", "entity_list", "capacity_loss", "yield_shock",
                  "demand_change", "service_ban", "stockpile", "stockpile_release",
                  "capacity_expansion", "new_lane"}
PLANNED_TYPES = CONTRACT_TYPES - set(SHOCK_TYPES) - set(POLICY_TYPES)


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
                if not (isinstance(lane, dict) and ({lane.get("from"), lane.get("to")} & removed_nodes)
                        and i < len(parent.get("lanes") or []))]
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
    target = Path(os.path.realpath(path.parent / parent_ref))
    where = (ext_loc.file, ext_loc.line, ext_loc.col)
    if not _within(str(target), roots):
        problems.append(Problem(*where, f"extends '{parent_ref}' points outside the scenario folder {roots[0]}; pass --search-path to allow another folder"))
        broken.append(display)
        return data, pos
    if str(target) in chain:
        cycle = " -> ".join(_display(Path(p)) for p in chain[chain.index(str(target)):] + [str(target)])
        problems.append(Problem(*where, f"extends forms a cycle: {cycle}"))
        broken.append(display)
        return data, pos
    if not target.is_file():
        siblings = [p.name for p in target.parent.glob("*.yaml")] if target.parent.is_dir() else []
        problems.append(Problem(*where, f"extends '{parent_ref}': no such file{did_you_mean(Path(parent_ref).name, siblings)}"))
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
        if kind in registry:
            return names(registry[kind])
    return []


def _dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(exc: ValidationError, data: dict, pos: PosNode) -> list[Problem]:
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
            msg = f"unknown key '{key}'{did_you_mean(key, _model_keys(path, data))}"
        elif kind == "missing":
            msg = f"missing required key '{path[-1]}'"
            path = path[:-1]
        elif kind == "union_tag_invalid":
            registry = SHOCK_TYPES if path and path[0] == "shocks" else POLICY_TYPES
            tag = err["ctx"]["tag"]
            what = path[0][:-1] if path else "item"
            if tag in PLANNED_TYPES:
                msg = f"{what} type '{tag}' is part of the scenario format but not implemented in this version; available: {', '.join(registry) or 'none yet'}"
            else:
                msg = f"unknown {what} type '{tag}'{did_you_mean(tag, registry)}; known types: {', '.join(registry)}"
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

    def __init__(self, data: dict, pos: PosNode):
        self.data = data
        self.pos = pos
        self.problems: list[Problem] = []
        products = data.get("products")
        nodes = data.get("nodes")
        self.products = set(products) if isinstance(products, dict) else set()
        self.nodes = nodes if isinstance(nodes, dict) else {}

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
            self.add(loc, f"{_dotted(list(path))}: unknown product '{pid}'{did_you_mean(pid, self.products)}")
            return False
        return True

    def node(self, nid, *path) -> bool:
        if isinstance(nid, str) and nid not in self.nodes:
            self.add(self.at(*path), f"{_dotted(list(path))}: unknown node '{nid}'{did_you_mean(nid, self.nodes)}")
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
                        kind = (self.data.get("products") or {}).get(pid, {})
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
        catalogue = self.data.get("products") if isinstance(self.data.get("products"), dict) else {}
        for j, pid in enumerate(listed):
            path = ("nodes", nid, "demand", "product") + ((j,) if isinstance(products, list) else ())
            if not self.product(pid, *path) or not isinstance(measure, str):
                continue
            attrs = catalogue.get(pid)
            value = attrs.get(measure) if isinstance(attrs, dict) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                known = [k for k, v in (attrs or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
                self.add(self.at(*path), f"nodes.{nid}.demand: product '{pid}' has no positive '{measure}' attribute"
                                         f"{did_you_mean(measure, known)}")

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
        for lane in lanes:
            if isinstance(lane, dict) and lane.get("to") in holds:
                holds[lane["to"]].add(lane.get("product"))
        shared: dict[tuple, list[int]] = {}
        for i, lane in enumerate(lanes):
            if isinstance(lane, dict):
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
            known = {n.get("entity") for n in self.nodes.values() if isinstance(n, dict)} | {
                o for n in self.nodes.values() if isinstance(n, dict) and isinstance(n.get("owners"), dict) for o in n["owners"]}
            for j, name in enumerate([entities] if isinstance(entities, str) else entities):
                if isinstance(name, str) and name not in known:
                    path = (kind, i, "entities") if isinstance(entities, str) else (kind, i, "entities", j)
                    self.add(self.at(*path), f"{kind}[{i}].entities: unknown entity '{name}'{did_you_mean(name, sorted(k for k in known if isinstance(k, str)))}")
        for side in ("from", "to", "node"):
            sel = item.get(side)
            if isinstance(sel, str):
                self.node(sel, kind, i, side)
            elif isinstance(sel, list):
                for j, nid in enumerate(sel):
                    self.node(nid, kind, i, side, j)
            elif isinstance(sel, dict):
                if not nodes_matching_raw(sel, self.nodes):
                    what = "region" if "region" in sel else "entity"
                    known = sorted({n.get(what) for n in self.nodes.values() if isinstance(n, dict) and isinstance(n.get(what), str)})
                    if what == "entity":
                        known = sorted(set(known) | {o for n in self.nodes.values() if isinstance(n, dict) and isinstance(n.get("owners"), dict) for o in n["owners"]})
                    self.add(self.at(kind, i, side), f"{kind}[{i}].{side}: no node matches {what} {sel.get(what)!r}{did_you_mean(sel.get(what), known)}")


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


def load_scenario(path: str | os.PathLike, search_paths: Sequence[str | os.PathLike] = ()) -> Scenario:
    """Load, merge, validate and cross-check a scenario file.

    ``extends`` may only reach files under the folder of ``path`` or under one of
    ``search_paths``. Raises ``ScenarioError`` listing every problem with its position.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Problem(_display(path), 1, 1, "no such scenario file" if not path.exists() else "not a file")])
    real = Path(os.path.realpath(path))
    roots = [os.path.realpath(real.parent)] + [os.path.realpath(p) for p in search_paths]
    problems: list[Problem] = []
    sources: list[SourceFile] = []
    broken: list[str] = []
    data, pos = _read_chain(real, roots, [str(real)], sources, problems, broken)
    if data is None or broken:
        # without its parent the document is incomplete: checking it would only add
        # spurious "missing key" and "unknown node" lines
        raise ScenarioError(problems)
    # values the reader rejected (e.g. a forbidden tag) became null; don't report them twice
    rejected = {(p.file, p.line, p.col) for p in problems}
    checks: list[Problem] = []
    scenario = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        checks.extend(_pydantic_problems(exc, data, pos))
    checks.extend(_Refs(data, pos).check())
    if scenario is not None and not problems and not checks:
        checks.extend(_shock_problems(scenario, data, pos))
    problems.extend(p for p in checks if (p.file, p.line, p.col) not in rejected)
    if problems:
        raise ScenarioError(problems)
    # kept out of pydantic's private attributes, which == compares: a scenario must equal
    # the same scenario loaded back from its resolved copy. pydantic ignores non-field
    # entries of __dict__ in == (as it does for functools.cached_property values).
    scenario.__dict__[_SOURCES_KEY] = tuple(sources)
    return scenario


_SOURCES_KEY = "_chipsim_sources"


def scenario_sources(scenario: Scenario) -> tuple[SourceFile, ...]:
    """Files read to build ``scenario`` (empty for scenarios built in Python)."""
    return scenario.__dict__.get(_SOURCES_KEY, ())
