"""Where the network map puts each node: stage columns (longest chain of lanes from a
source) and region bands, one row per node so that no two nodes or labels share a spot."""
from __future__ import annotations

from ..selectors import all_lanes


def stages(scenario) -> dict[str, int]:
    """Stage of each node: longest chain of lanes from a node nobody supplies."""
    suppliers: dict[str, set] = {n: set() for n in scenario.nodes}
    for src, dst, _ in all_lanes(scenario):
        suppliers[dst].add(src)
    stage: dict[str, int] = {}

    def depth(n: str, seen: frozenset) -> int:
        if n in stage:
            return stage[n]
        ups = [u for u in suppliers[n] if u not in seen]
        value = 0 if not ups else 1 + max(depth(u, seen | {n}) for u in ups)
        stage[n] = value
        return value

    for n in scenario.nodes:
        depth(n, frozenset({n}))
    return stage


def map_positions(sc, stage: dict[str, int]) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, int]]]:
    """Node positions (stage, row) with each region in its own band, one row per node of
    the region's busiest stage so no two nodes share a spot; and each band's (top, height)."""
    regions = sorted({n.region or "other" for n in sc.nodes.values()})
    count: dict[tuple, int] = {}
    for nid, node in sc.nodes.items():
        key = (stage[nid], node.region or "other")
        count[key] = count.get(key, 0) + 1
    bands: dict[str, tuple[float, int]] = {}
    top = 0.0
    for r in regions:
        height = max([c for (st, reg), c in count.items() if reg == r] or [1])
        bands[r] = (top, height)
        top += height
    slots: dict[tuple, int] = {}
    pos = {}
    for nid, node in sc.nodes.items():
        key = (stage[nid], node.region or "other")
        k = slots.get(key, 0)
        slots[key] = k + 1
        y0, height = bands[key[1]]
        pos[nid] = (float(stage[nid]), y0 + (height - count[key]) / 2 + k + 0.5)
    return pos, bands
