"""Which shocks bear on a briefing's question: those that touch the focus node's supply
chain (the node and every node that ships to it, directly or through others) or a buyer
that competes with it for that chain's output.

A baseline such as 2025-26 as it happened carries every real event of the period, most of
them on chips; a briefing about EU magnet users should name the magnet events and count
the rest, not list thirty chip controls as "what drives the result".
"""
from __future__ import annotations

from typing import Any

from ..selectors import all_lanes, lanes_matching, nodes_matching


def supply_chain(scenario: Any, node: str) -> set[str]:
    """``node``, every node upstream of it over the scenario's lanes (its own and the
    policies' new lanes), and every other buyer of those nodes: what can change what
    reaches it, whatever the product."""
    lanes = all_lanes(scenario)
    suppliers: dict[str, set[str]] = {}
    for src, dst, _ in lanes:
        suppliers.setdefault(dst, set()).add(src)
    seen, todo = {node}, [node]
    while todo:
        for src in suppliers.get(todo.pop(), ()):
            if src not in seen:
                seen.add(src)
                todo.append(src)
    # a buyer of the same suppliers competes for their output (its demand, its licences)
    return seen | {dst for src, dst, _ in lanes if src in seen}


def touches(spec: Any, scenario: Any, nodes: set[str]) -> bool:
    """Whether a shock (or policy) acts on one of ``nodes`` or on a lane between two of
    them; a kind this cannot place is kept (listed rather than hidden)."""
    try:
        if getattr(spec, "type", "") == "service_ban":
            return bool(set(spec.targets(scenario)) & nodes)
        if hasattr(spec, "from_") and hasattr(spec, "product") and not hasattr(spec, "node"):
            lanes = all_lanes(scenario)
            return any(lanes[i][1] in nodes for i in lanes_matching(scenario, spec))
        if hasattr(spec, "node"):
            return bool(nodes_matching(scenario, spec.node) & nodes)
    except (AttributeError, KeyError, TypeError, ValueError):
        return True
    return True
