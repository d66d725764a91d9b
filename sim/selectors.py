"""Which nodes and lanes a shock or policy selects: ids, lists, regions and entities.

Selectors work on plain node views (mappings with ``region``, ``entity`` and ``owners``),
so the loader can match them on raw, possibly invalid data before the schema has
accepted the file, and the model on a validated ``Scenario``. An entity selector with
``affiliates`` also picks nodes the entity owns at least that share of, directly or
through other entities (integrated ownership, solved as a fixed point).

This module needs the schema only for type hints, so the schema's shock and policy
specs can use it without an import cycle.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .selectorfields import EntitySelector, RegionSelector

if TYPE_CHECKING:  # pragma: no cover
    from .generallicence import GeneralLicenceSpec
    from .schema import Scenario
    from .tradeshocks import TradeShockSpec

# fixed-point sweeps for the affiliates rule; shares converge long before this
_MAX_SWEEPS = 200
_CONVERGED = 1e-12  # largest change of a share in a sweep once solved
# a tiny tolerance so that 0.6 * 0.9 against 0.54 is not lost to rounding
_SHARE_TOLERANCE = 1e-12


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _entity_owners(nodes: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Owners of each entity, gathered from the ``owners`` of every node it operates."""
    owners: dict[str, dict[str, float]] = {}
    for node in nodes.values():
        entity = node.get("entity")
        if isinstance(entity, str) and isinstance(node.get("owners"), Mapping):
            merged = owners.setdefault(entity, {})
            for owner, share in node["owners"].items():
                if _is_number(share):
                    merged[owner] = max(merged.get(owner, 0.0), float(share))
    return owners


def _stakes(owners: Mapping[str, Any]) -> dict[str, float]:
    """The numeric shares (0-1) of an owners mapping; others are the schema's to report."""
    return {o: float(s) for o, s in owners.items() if _is_number(s)}


def entity_shares(entity: str, by_entity: dict[str, dict[str, float]]) -> dict[str, float]:
    """Share (0-1) ``entity`` holds in every other entity: direct stakes plus stakes held
    via other entities, multiplied along each chain and summed (the affiliates rule).

    Solved as a fixed point s = A s + b over the entity graph (integrated ownership), so
    cross-holdings cost polynomial time instead of enumerating every chain; values are
    capped at 1."""
    names = list(by_entity)
    held = dict.fromkeys(names, 0.0)
    stakes = {e: _stakes(by_entity[e]) for e in names}
    for _ in range(_MAX_SWEEPS):
        changed = 0.0
        for e in names:
            value = 0.0
            for owner, share in stakes[e].items():
                value += share * (1.0 if owner == entity else held.get(owner, 0.0))
            value = min(value, 1.0)
            changed = max(changed, abs(value - held[e]))
            held[e] = value
        if changed < _CONVERGED:
            break
    return held


def ownership_share(entity: str, node: Mapping[str, Any], by_entity: dict[str, dict[str, float]],
                    held: dict[str, float] | None = None) -> float:
    """Share (0-1) of ``node`` held by ``entity`` (1 for the entity's own nodes)."""
    if node.get("entity") == entity:
        return 1.0
    held = entity_shares(entity, by_entity) if held is None else held
    operator = node.get("entity")
    owners = dict(by_entity.get(operator, {})) if isinstance(operator, str) else {}
    owners.update(node.get("owners") or {})
    total = sum(share * (1.0 if owner == entity else held.get(owner, 0.0)) for owner, share in _stakes(owners).items())
    return min(total, 1.0)


def nodes_matching_raw(selector: Any, nodes: Mapping[str, Any]) -> set[str]:
    """Node ids chosen by a selector; ``nodes`` maps id -> dict-like with region/entity/owners."""
    if isinstance(selector, RegionSelector):
        selector = {"region": selector.region}
    elif isinstance(selector, EntitySelector):
        selector = {"entity": selector.entity, "affiliates": selector.affiliates}
    if isinstance(selector, str):
        return {selector} if selector in nodes else set()
    if isinstance(selector, (list, tuple)):
        return {n for n in selector if n in nodes}
    if not isinstance(selector, Mapping):
        return set()
    valid = {nid: n for nid, n in nodes.items() if isinstance(n, Mapping)}
    if "region" in selector:
        regions = selector["region"]
        regions = {regions} if isinstance(regions, str) else set(regions or ())
        return {nid for nid, n in valid.items() if n.get("region") in regions}
    entity: Any = selector.get("entity")  # a malformed one matches nothing below
    threshold = selector.get("affiliates")
    chosen = {nid for nid, n in valid.items() if n.get("entity") == entity}
    if isinstance(threshold, (int, float)):
        by_entity = _entity_owners(valid)
        held = entity_shares(entity, by_entity)
        for nid, n in valid.items():
            if ownership_share(entity, n, by_entity, held) >= threshold - _SHARE_TOLERANCE:
                chosen.add(nid)
    return chosen


def _node_views(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """What selectors read of each node of a validated scenario."""
    return {nid: {"region": n.region, "entity": n.entity, "owners": n.owners} for nid, n in scenario.nodes.items()}


def nodes_matching(scenario: Scenario, selector: Any) -> set[str]:
    """Node ids of a validated scenario chosen by a selector."""
    return nodes_matching_raw(selector, _node_views(scenario))


def all_lanes(scenario: Scenario) -> list[tuple[str, str, str]]:
    """(from, to, product) of every lane: the scenario's, then those opened by policies."""
    lanes = [(lane.from_, lane.to, lane.product) for lane in scenario.lanes]
    lanes += [(p.from_, p.to, p.product) for p in scenario.policies if p.type == "new_lane"]
    return lanes


def lanes_matching(scenario: Scenario, spec: TradeShockSpec | GeneralLicenceSpec) -> list[int]:
    """Indices (into ``all_lanes``) of the lanes chosen by a trade shock's (or a general licence's) product/from/to."""
    views = _node_views(scenario)
    products = None if spec.product is None else ({spec.product} if isinstance(spec.product, str) else set(spec.product))
    senders = None if spec.from_ is None else nodes_matching_raw(spec.from_, views)
    buyer_selectors: Iterable[Any] | None = getattr(spec, "buyer_selectors", lambda: None)()
    if buyer_selectors is not None:  # entity_list: buyers are the listed entities' nodes
        receivers: set[str] | None = set().union(*(nodes_matching_raw(s, views) for s in buyer_selectors))
    else:
        receivers = None if spec.to is None else nodes_matching_raw(spec.to, views)
    return [
        i for i, (src, dst, pid) in enumerate(all_lanes(scenario))
        if (products is None or pid in products)
        and (senders is None or src in senders)
        and (receivers is None or dst in receivers)
    ]
