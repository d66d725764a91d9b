"""Which (slot, metric) series a network reports: those that can be non-zero, in a
stable order (stock slots first, lane rows last), so that every replication of a
scenario, and every engine, fills the same columns."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .metrics import LANE_SERIES, MARKET_SERIES, NODE_SERIES
from .selectors import lanes_matching

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

METRICS = NODE_SERIES + LANE_SERIES

COMPUTE_METRICS = {"compute_demand": "demand", "compute_delivered": "delivered",
                   "compute_shortfall": "shortfall", "compute_backlog": "backlog", "energy_mwh": "energy_mwh"}


def reported_series(net: Network) -> list[tuple[int, str]]:
    """The (slot, metric) pairs that can be non-zero, in a stable order."""
    measure_slots = {d.slot for d in net.demands if d.measure} | {s for d in net.demands for s in d.also_slots}
    lane_rows = set(net.lane_slots)
    wanted: dict[int, set[str]] = {s: ({"inventory"} if s not in measure_slots | lane_rows else set())
                                   for s in range(len(net.slots))}
    fees = feed_lanes(net)
    for lane in net.lanes:
        wanted[lane.src_slot].add("shipped")
        wanted[lane.dst_slot].update(("received", "cost"))
        if net.lane_slots:
            wanted[net.lane_slots[lane.index]].update(("flow", "fee") if lane.index in fees else ("flow",))
    adaptive = {(line.node, line.product) for line in net.order_lines if line.adaptive}
    for lane in net.lanes:
        if (lane.dst, lane.product) in adaptive:
            wanted[net.lane_slots[lane.index]].add("lane_share")
            if lane.share <= 0.0 and lane.policy is None:
                wanted[net.lane_slots[lane.index]].add("qualified")
    for p in net.producers:
        wanted[p.out_slot].update(("produced", "capacity"))
        if p.make_to_stock is not None:
            wanted[p.out_slot].add("target_stock")
        for s, _, _ in p.inputs:
            wanted[s].add("consumed")
    for p in net.producers:
        if p.fab is not None:
            wanted[p.out_slot].update(("wafers_started", "good_dies", "yield"))
        for eq in p.equipment:
            wanted[eq.slot].update(("installed", "consumed"))
            if eq.spares_slot is not None:
                wanted[eq.spares_slot].add("consumed")
    for d in net.demands:
        if d.measure:
            wanted[d.slot].update(COMPUTE_METRICS)
            if d.facility is not None:
                wanted[d.slot].add("facility_energy_mwh")
            for s in d.also_slots:
                wanted[s].add("capability_delivered")
            for sub in d.substitutes:
                wanted[sub.slot].add("delivered")
                if sub.market is not None:  # priced substitutes; the node's multiplier and destroyed demand
                    wanted[sub.slot].update(("price", "price_multiplier", "spend"))
                    wanted[d.slot].update(("price_multiplier", "demand_destroyed"))
        else:
            wanted[d.slot].update(("demand", "delivered", "shortfall", "backlog") + (MARKET_SERIES if d.market else ()))
    for policy in net.scenario.policies:
        if policy.type in ("stockpile", "stockpile_release"):
            wanted[net.slot_of[(policy.node, policy.product)]].update(("stockpile", "cost"))
    return [(s, m) for s in range(len(net.slots)) for m in METRICS if m in wanted[s]]


def feed_lanes(net: Network) -> set[int]:
    """Indices of the lanes an export licence with a fee may govern (they report ``fee``)."""
    shocks: list[Any] = list(net.scenario.shocks)
    return {i for shock in shocks if shock.type == "export_license" and shock.fee
            for i in lanes_matching(net.scenario, shock)}

