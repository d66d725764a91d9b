"""Checks across items of a scenario: ids that must exist (on the raw, possibly invalid
document) and the windows and matches of shocks and policies (on the validated one).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .errors import Problem
from .generallicence import GeneralLicenceSpec
from .metrics import LANE_SERIES, NODE_SERIES
from .problems import Suggester, dotted, locate
from .quantities import day_number
from .schema import Scenario
from .selectors import lanes_matching, nodes_matching_raw
from .tradeshocks import TradeShockSpec
from .triggers import trigger_problems
from .yamlsource import Loc, PosNode

# the keys of a `market` block that set a compute node's one multiplier, with their defaults
MARKET_DEFAULTS = (("elasticity", None), ("max_multiplier", 10), ("window_days", 30))
# the keys of a `market` block that only plain demand nodes use (docs/markets.md, sections 7, 8 and 10)
COMPUTE_UNSUPPORTED = ("signal", "signal_weight", "thrift", "cover")


class CrossRefs:
    """Checks that ids used in the merged document exist, on raw (possibly invalid) data."""

    def __init__(self, data: dict, pos: PosNode, suggest: Suggester):
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
        """File position of the value at a document path."""
        return locate(tuple(path), self.data, self.pos)[2].at

    def key_at(self, *path) -> Loc:
        """File position of the key at a document path."""
        node = locate(tuple(path[:-1]), self.data, self.pos)[2]
        return node.keys.get(path[-1], node.at)

    def add(self, loc: Loc, message: str) -> None:
        """Record a problem at ``loc``."""
        self.problems.append(Problem(loc.file, loc.line, loc.col, message))

    def product(self, pid, *path, key: bool = False) -> bool:
        """Whether a product id is known; records a problem if not."""
        if isinstance(pid, str) and pid not in self.products:
            loc = self.key_at(*path) if key else self.at(*path)
            self.add(loc, f"{dotted(list(path))}: unknown product '{pid}'{self.suggest(pid, self.products, 'product')}")
            return False
        return True

    def node(self, nid, *path) -> bool:
        """Whether a node id is known; records a problem if not."""
        if isinstance(nid, str) and nid not in self.nodes:
            self.add(self.at(*path), f"{dotted(list(path))}: unknown node '{nid}'{self.suggest(nid, self.nodes, 'node')}")
            return False
        return True

    def _one_line_names(self) -> None:
        """Ids and names are printed inside terminal lines: a line break in one would let a
        file forge whole lines of chipsim's output, so they must be one line (labels and
        descriptions may wrap)."""
        for kind in ("nodes", "products"):
            block = self.data.get(kind)
            for key in block if isinstance(block, dict) else ():
                if _breaks_line(key):
                    self.add(self.key_at(kind, key), f"{kind}: the id {key!r} holds a line break; ids must be one line")
        if _breaks_line(self.data.get("name")):
            self.add(self.at("name"), "name: holds a line break; the scenario's name must be one line")
        for kind in ("shocks", "policies", "headlines"):
            items = self.data.get(kind)
            for i, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict) and _breaks_line(item.get("name")):
                    self.add(self.at(kind, i, "name"), f"{kind}[{i}].name: holds a line break; names must be one line")

    def check(self) -> list[Problem]:
        """Every cross-reference problem of the document, in document order."""
        self._one_line_names()
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
                                     f"nodes.{nid}.equipment.{pid}: '{pid}' is not an equipment product (add `kind: equipment` "
                                     "to it)")
                    if isinstance(need, dict) and isinstance(need.get("spares"), str):
                        self.product(need["spares"], "nodes", nid, "equipment", pid, "spares")
            reorder = node.get("reorder")
            if isinstance(reorder, dict) and isinstance(reorder.get("level"), dict):
                for pid in reorder["level"]:
                    self.product(pid, "nodes", nid, "reorder", "level", pid, key=True)
            if isinstance(reorder, dict) and isinstance(reorder.get("speculation"), dict):
                self._speculation(nid, reorder["speculation"])
            allocation = node.get("allocation")
            priority = allocation.get("priority") if isinstance(allocation, dict) else None
            for j, sel in enumerate(priority if isinstance(priority, list) else []):
                self._selector(sel, "nodes", nid, "allocation", "priority", j)
        self._lanes()
        for kind in ("shocks", "policies"):
            items = self.data.get(kind)
            if isinstance(items, list):
                for i, item in enumerate(items):
                    if isinstance(item, dict):
                        self._selectors(kind, i, item)
        self._reference_shock()
        headlines = self.data.get("headlines")
        if isinstance(headlines, list):
            seen: dict[str, int] = {}
            for i, item in enumerate(headlines):
                if isinstance(item, dict):
                    self._headline(i, item, seen)
        return self.problems

    def _reference_shock(self) -> None:
        ref = self.data.get("reference_shock")
        if not isinstance(ref, str):
            return
        shocks = self.data.get("shocks")
        raw = [s.get("name") for s in shocks if isinstance(s, dict)] if isinstance(shocks, list) else []
        names: list[str] = [n for n in raw if isinstance(n, str)]
        if ref not in names:
            known = f"; shock names: {', '.join(names)}" if names else "; no shock has a `name`"
            self.add(self.at("reference_shock"), f"reference_shock: no shock is named '{ref}'"
                                                 f"{self.suggest(ref, names)}{known}")

    def _lane_exists(self, src: str, dst: str) -> bool:
        pairs = set()
        for kind in ("lanes", "policies"):
            items = self.data.get(kind)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and (kind == "lanes" or item.get("type") == "new_lane"):
                    pairs.add((item.get("from"), item.get("to")))
        return (src, dst) in pairs

    def _headline(self, i: int, item: dict, seen: dict[str, int]) -> None:
        name = item.get("name")
        if isinstance(name, str):
            if name in seen:
                self.add(self.at("headlines", i, "name"), f"headlines[{i}].name: '{name}' is already the name of "
                                                          f"headlines[{seen[name]}]")
            seen.setdefault(name, i)
        metric, lane = item.get("metric"), item.get("lane")
        known = LANE_SERIES if lane is not None else NODE_SERIES
        if isinstance(metric, str) and metric not in known:
            where = "on a lane" if lane is not None else "at a node"
            other = " (flow and fee are lane metrics: give `lane: from->to`)" if metric in LANE_SERIES else ""
            self.add(self.at("headlines", i, "metric"), f"headlines[{i}].metric: '{metric}' is not a daily metric {where}"
                                                        f"{self.suggest(metric, known)}{other}; one of: {', '.join(known)}")
        self.node(item.get("node"), "headlines", i, "node")
        self.product(item.get("product"), "headlines", i, "product")
        ends, ok = None, False
        if isinstance(lane, str) and "->" in lane:
            ends = tuple(x.strip() for x in lane.split("->", 1))
            ok = self.node(ends[0], "headlines", i, "lane") & self.node(ends[1], "headlines", i, "lane")
        elif isinstance(lane, dict) and all(isinstance(lane.get(k), str) for k in ("from", "to")):
            ends = (lane["from"], lane["to"])
            ok = self.node(ends[0], "headlines", i, "lane", "from") & self.node(ends[1], "headlines", i, "lane", "to")
        if ends is not None and ok and not self._lane_exists(*ends):
            self.add(self.at("headlines", i, "lane"), f"headlines[{i}].lane: no lane goes from '{ends[0]}' to '{ends[1]}'")

    def _demand(self, nid: str, demand: dict) -> None:
        products = demand.get("product")
        listed = products if isinstance(products, list) else [products]
        measure = demand.get("measure")
        blocks: dict[tuple, str] = {}  # the market blocks of the substitutes -> the first product with each
        for j, pid in enumerate(listed):
            path = ("nodes", nid, "demand", "product") + ((j,) if isinstance(products, list) else ())
            if not isinstance(pid, str) or not self.product(pid, *path) or not isinstance(measure, str):
                continue
            attrs = self.catalogue.get(pid)
            attrs = attrs if isinstance(attrs, dict) else {}
            market = attrs.get("market")
            if isinstance(market, dict) and any(market.get(k) not in (None, "shelves", "notional") for k in COMPUTE_UNSUPPORTED):
                self.add(self.at(*path), f"nodes.{nid}.demand: product '{pid}' is a substitute of a compute demand, "
                                         f"where `signal`, `thrift` and `cover` of its `market` are not supported (they "
                                         f"apply at plain demand nodes: docs/markets.md, sections 7, 8 and 10)")
            if isinstance(market, dict):  # one multiplier per compute node: its priced substitutes must agree
                block = tuple(market.get(k, d) for k, d in MARKET_DEFAULTS)
                if blocks and block not in blocks:
                    first = next(iter(blocks.values()))
                    self.add(self.at(*path), f"nodes.{nid}.demand: the substitutes with a `market` must share "
                                             f"elasticity, max_multiplier and window_days (the node has one price "
                                             f"multiplier), but '{pid}' and '{first}' differ")
                blocks.setdefault(block, pid)
            value = attrs.get(measure)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                known = [k for k, v in attrs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
                self.add(self.at(*path), f"nodes.{nid}.demand: product '{pid}' has no positive '{measure}' attribute"
                                         f"{self.suggest(measure, known)}")
            also = demand.get("also_measure")
            for extra in [also] if isinstance(also, str) else also if isinstance(also, list) else []:
                value = attrs.get(extra) if isinstance(extra, str) else None
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                    self.add(self.at(*path), f"nodes.{nid}.demand.also_measure: product '{pid}' has no '{extra}' "
                                             f"attribute (a number >= 0){self.suggest(str(extra), list(attrs))}")

    def _speculation(self, nid: str, spec: dict) -> None:
        """A trader's ``speculation.market`` must be a plain demand node of a market product."""
        market = spec.get("market")
        path = ("nodes", nid, "reorder", "speculation", "market")
        if not isinstance(market, str) or not self.node(market, *path):
            return
        node = self.nodes.get(market)
        demand = node.get("demand") if isinstance(node, dict) else None
        pid = demand.get("product") if isinstance(demand, dict) else None
        attrs = self.catalogue.get(pid) if isinstance(pid, str) else None
        if not isinstance(demand, dict) or demand.get("measure") is not None or not isinstance(pid, str):
            self.add(self.at(*path), f"{dotted(list(path))}: '{market}' is not a plain demand node (one product, no "
                                     "`measure`), so it has no price a trader can watch")
        elif not isinstance(attrs, dict) or not isinstance(attrs.get("market"), dict):
            self.add(self.at(*path), f"{dotted(list(path))}: '{market}' demands '{pid}', which has no `market` and so "
                                     "no price; give the product a `market:` block")
        elif not any(isinstance(lane, dict) and lane.get("to") == nid and lane.get("product") == pid
                     for lane in (self.data.get("lanes") or [])):
            self.add(self.at(*path), f"{dotted(list(path))}: '{nid}' buys no '{pid}' (no lane into it carries it), so "
                                     f"it has nothing to hold on '{market}''s price")

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
        lanes = [lane if isinstance(lane, dict) and all(isinstance(lane.get(k), (str, type(None)))
                                                        for k in ("from", "to", "product"))
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
            elif given and all(_zero(lanes[i].get("share")) for i in group):
                self.add(self.at("lanes", group[0], "share"),
                         f"lanes[{group[0]}]: every lane into '{dst}' for '{pid}' has share 0; give at least one "
                         "lane a share above 0 (share 0 marks a standby supplier of an adaptive buyer)")
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
                self.add(self.at("lanes", i), f"lanes[{i}]: duplicate of lanes[{seen[key]}] ({src} -> {dst}, {pid}); use one "
                                              "lane per supplier, buyer and product")
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
                    self.add(self.at(*path), f"{kind}[{i}].entities: unknown entity "
                                             f"'{name}'{self.suggest(name, self.known['entity'], 'entity')}")
        for side in ("from", "to", "node"):
            self._selector(item.get(side), kind, i, side)

    def _selector(self, sel, *path) -> None:
        """A node selector at ``path``: its node ids exist, its region or entity matches a node."""
        if isinstance(sel, str):
            self.node(sel, *path)
        elif isinstance(sel, list):
            for j, nid in enumerate(sel):
                self.node(nid, *path, j)
        elif isinstance(sel, dict) and _well_formed_selector(sel):
            if not self._matches_any(sel):
                what = "region" if "region" in sel else "entity"
                self.add(self.at(*path), f"{dotted(list(path))}: no node matches {what} "
                                         f"{sel.get(what)!r}{self.suggest(sel.get(what), self.known[what], what)}")

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


_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines() splits on


def _breaks_line(value: object) -> bool:
    return isinstance(value, str) and any(c in _LINE_BREAKS for c in value)


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


def _off_calendar(scenario: Scenario, data: dict, pos: PosNode) -> list[Problem]:
    """Days that fall outside the calendar's years 1 to 9999 (the horizon's last day, and
    every start, end, announcement and pause of a shock or policy)."""
    first, last = _dt.date.min.toordinal(), _dt.date.max.toordinal()
    origin = scenario.start_date.toordinal()
    problems = []

    def check(day: int, path: tuple) -> None:
        if not first <= origin + day <= last:
            at = locate(path, data, pos)[2].at
            problems.append(Problem(at.file, at.line, at.col, f"{dotted(list(path))}: day {day} from "
                                    f"{scenario.start_date} falls outside the calendar (years 1 to 9999)"))

    check(scenario.horizon - 1, ("horizon",))
    for kind, items in (("shocks", scenario.shocks), ("policies", scenario.policies)):
        for i, spec in enumerate(items):
            refs: list[tuple[tuple, Any]] = [(("start",), spec.start), (("end",), spec.end),
                                             (("announced",), getattr(spec, "announced", None))]
            refs += [(("suspended", j, side), getattr(w, side))
                     for j, w in enumerate(spec.suspended) for side in ("start", "end")]
            for where, ref in refs:
                if ref is not None and not isinstance(ref, _dt.date):
                    check(int(ref), (kind, i, *where))
    return problems


def lever_problems(scenario: Scenario, data: dict, pos: PosNode) -> list[Problem]:
    """Checks that need the validated scenario: windows in day numbers, matched lanes."""
    problems = _off_calendar(scenario, data, pos)
    if problems:  # the checks below convert days to dates
        return problems
    for kind, items in (("shocks", scenario.shocks), ("policies", scenario.policies)):
        for i, spec in enumerate(items):
            start = None if spec.start is None else day_number(spec.start, scenario.start_date)
            if start is not None and spec.end is not None and day_number(spec.end, scenario.start_date) <= start:
                at = locate((kind, i, "end"), data, pos)[2].at
                problems.append(Problem(at.file, at.line, at.col,
                                        f"{kind}[{i}].end: must come after start (start is day {start}, "
                                        f"end is day {day_number(spec.end, scenario.start_date)}; day 0 = "
                                        f"{scenario.start_date})"))
            if isinstance(spec, (TradeShockSpec, GeneralLicenceSpec)) and not lanes_matching(scenario, spec):
                at = locate((kind, i), data, pos)[2].at
                problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}] ({spec.type}): matches no lane; check product, "
                                                                  "from and to"))
            announced = getattr(spec, "announced", None)
            if announced is not None and start is not None and day_number(announced, scenario.start_date) >= start:
                at = locate((kind, i, "announced"), data, pos)[2].at
                problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}].announced: must come before start (day {start})"))
            for j, window in enumerate(spec.suspended):
                a, b = day_number(window.start, scenario.start_date), day_number(window.end, scenario.start_date)
                if b <= a:
                    at = locate((kind, i, "suspended", j), data, pos)[2].at
                    problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}].suspended[{j}]: end (day {b}) must come "
                                                                      f"after start (day {a})"))
            for where, message in spec.check(scenario) + trigger_problems(spec, scenario):
                at = locate((kind, i, *where), data, pos)[2].at
                field = ".".join(str(w) for w in where)
                problems.append(Problem(at.file, at.line, at.col, f"{kind}[{i}]{'.' + field if field else ''}: {message}"))
    return problems




_BARE_DURATION = re.compile(r"^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*[dwmy]\s*$")


def _is_date(value) -> bool:
    if isinstance(value, _dt.date):
        return True
    try:
        _dt.date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return False
    return isinstance(value, str)


def lever_warnings(data: dict, pos: PosNode) -> list[str]:
    """Warnings, ``FILE:LINE:COL: warning: message``: an ``end`` written as a bare duration
    (``9m``) next to a date ``start`` means a day number counted from ``start_date``."""
    out = []
    for kind in ("shocks", "policies"):
        items = data.get(kind)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            end = item.get("end")
            if isinstance(end, str) and _BARE_DURATION.match(end) and _is_date(item.get("start")):
                at = locate((kind, i, "end"), data, pos)[2].at
                out.append(f"{at.file}:{at.line}:{at.col}: warning: {kind}[{i}].end: '{end.strip()}' next to a date start "
                           f"is a day number counted from start_date, not from start; write `duration: {end.strip()}` "
                           "to mean that long after start, or give end as a date")
    return out


def _zero(share: object) -> bool:
    """Whether a lane's share, as written, is the number 0."""
    return isinstance(share, (int, float)) and not isinstance(share, bool) and share == 0
