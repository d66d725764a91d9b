"""Shocks: what happens to the world. One small class per type, tagged by ``type``.

A type is a pydantic spec (its YAML schema, base ``leverspec.ShockSpec``) whose ``build``
returns the engine ``Effect`` objects that act for it in one replication, through the
hooks and the ``LeverWorld`` contract of ``effects.py``. Trade shocks are in
``tradeshocks.py``; the node shocks (capacity, demand, yield, servicing) are here.
``Shock`` is the discriminated union of every shock spec.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field

from .effects import Effect, Interval, LeverWorld
from .errors import did_you_mean
from .fields import Fraction, Multiplier, PositiveMultiplier
from .generallicence import GeneralLicenceSpec
from .leverspec import ShockSpec, registry_of
from .paramfields import DrawnDays
from .selectorfields import Selector
from .selectors import all_lanes, nodes_matching
from .tradeshocks import EntityListSpec, ExportBanSpec, ExportLicenseSpec
from .tradeshocks import TradeShockSpec as TradeShockSpec  # re-exported: a name other code imports from here

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .engine.world import Lane


# --- node shocks ----------------------------------------------------------------------

class NodeShockSpec(ShockSpec):
    """A shock on nodes chosen by id, list, region or entity."""

    node: Selector = Field(description="Node id, list of ids, {region: ...} or {entity: ...}.")

    def check(self, scenario):
        """A problem if the selector matches no node."""
        if not nodes_matching(scenario, self.node):
            return [(("node",), "matches no node")]
        return []

    def _nodes_lacking(self, scenario, has, what: str) -> list:
        """A problem naming the selected nodes for which ``has(node)`` is false."""
        lacking = sorted(n for n in nodes_matching(scenario, self.node) if not has(scenario.nodes[n]))
        return [(("node",), f"node(s) {', '.join(lacking)} {what}")] if lacking else []


class CapacityLossSpec(NodeShockSpec):
    """Capacity falls by ``fraction`` from start to end, then recovers linearly."""

    DRAWN: ClassVar[tuple[str, ...]] = ('recovery_days',)  # drawn per replication (sim.resolution)

    type: Literal["capacity_loss"]
    fraction: Fraction = Field(description="Share of capacity lost while the shock lasts.")
    recovery_days: DrawnDays = Field(
        default=0,
        description=(
            "Days after `end` over which capacity returns linearly: the loss on day end+k is fraction x (1 - "
            "k/recovery_days)."
        ),
    )

    def check(self, scenario):
        """Problems for selected nodes that produce nothing."""
        return super().check(scenario) + self._nodes_lacking(
            scenario, lambda n: n.produces is not None, "produce nothing, so they have no capacity to lose")

    def build(self, ctx, index):
        """One capacity-loss effect with the lost share drawn for this replication."""
        fraction = ctx.draw(self.fraction, f"{self.stream_key(ctx, index)}.fraction", 0.0, 1.0)
        return [CapacityLoss(self.display_label(index), self.intervals(ctx), ctx.nodes(self.node), fraction, self.recovery_days)]


class CapacityLoss(Effect):
    """Multiplies producers' capacity factor by 1 - fraction while active, then ramps back."""

    def __init__(self, label: str, intervals: list[Interval], nodes: list[str], fraction: float, recovery_days: int):
        super().__init__(label, intervals)
        self.nodes = nodes
        self.fraction = fraction
        self.recovery = recovery_days

    def prepare(self, world: LeverWorld) -> None:
        """Cut the capacity factor over the active days and ramp it back after each."""
        horizon = world.horizon
        for node in self.nodes:
            factor = world.capacity_factor_path(node)
            for a, b in self.intervals:
                stop = horizon if b is None else min(b, horizon)
                for d in range(max(a, 0), stop):
                    factor[d] *= 1.0 - self.fraction
                if b is not None:
                    for k in range(self.recovery):
                        d = b + k
                        if 0 <= d < horizon:
                            factor[d] *= 1.0 - self.fraction * (1.0 - k / self.recovery)


class DemandChangeSpec(NodeShockSpec):
    """Scales final demand at the selected nodes while active."""

    type: Literal["demand_change"]
    multiplier: Multiplier = Field(
        description="Demand is multiplied by this (0.5 halves it, 1.3 adds 30%); may be a distribution.")

    def check(self, scenario):
        """Problems for selected nodes that have no demand."""
        return super().check(scenario) + self._nodes_lacking(
            scenario, lambda n: n.demand is not None, "have no demand to change")

    def build(self, ctx, index):
        """One demand-scaling effect on the selected nodes."""
        multiplier = ctx.draw(self.multiplier, f"{self.stream_key(ctx, index)}.multiplier", 0.0)
        return [DemandChange(self.display_label(index), self.intervals(ctx), ctx.nodes(self.node), multiplier)]


class ScaleNodePath(Effect):
    """Multiplies a per-node daily path of the world (the one ``path`` picks) on active days."""

    def __init__(self, label: str, intervals: list[Interval], nodes: list[str], multiplier: float):
        super().__init__(label, intervals)
        self.nodes = nodes
        self.multiplier = multiplier

    def path(self, world: LeverWorld, node: str) -> np.ndarray:  # pragma: no cover - abstract
        """The node's daily path this effect scales, changed in place."""
        raise NotImplementedError

    def prepare(self, world: LeverWorld) -> None:
        """Scale the path over the active days."""
        for node in self.nodes:
            path = self.path(world, node)
            for a, b in self.intervals:
                path[max(a, 0):(world.horizon if b is None else b)] *= self.multiplier


class DemandChange(ScaleNodePath):
    """Scales the expected demand (units/day) of its nodes."""

    def path(self, world: LeverWorld, node: str) -> np.ndarray:
        """Expected demand per day of the node (units/day)."""
        return world.demand_rate_path(node)


class YieldShockSpec(NodeShockSpec):
    """Multiplies the defect density D0 of the selected fabs while active."""

    type: Literal["yield_shock"]
    d0_multiplier: PositiveMultiplier = Field(
        description="D0 is multiplied by this (2 doubles defects, e.g. after losing a process tool or an EDA update).",
    )

    def check(self, scenario):
        """Problems for selected nodes that are not fabs, or have a fixed yield."""
        problems = super().check(scenario)
        for n in sorted(nodes_matching(scenario, self.node)):
            fab = scenario.nodes[n].fab
            if fab is None:
                problems.append((("node",), f"'{n}' is not a fab (no `fab:` block), so it has no D0 to shock"))
            elif fab.yield_model == "fixed":
                problems.append((("node",), f"'{n}' uses a fixed yield, which has no D0 to shock"))
        return problems

    def build(self, ctx, index):
        """One D0-scaling effect on the selected fabs."""
        multiplier = ctx.draw(self.d0_multiplier, f"{self.stream_key(ctx, index)}.d0_multiplier", 1e-12)
        return [YieldShock(self.display_label(index), self.intervals(ctx), ctx.nodes(self.node), multiplier)]


class YieldShock(ScaleNodePath):
    """Scales the defect density D0 (defects/cm²) of its fabs."""

    def path(self, world: LeverWorld, node: str) -> np.ndarray:
        """Defect density of the fab (defects/cm²), by day."""
        return world.d0_path(node)


class ServiceBanSpec(ShockSpec):
    """Cuts the spares of one kind of equipment to the selected nodes, so tools that fail
    there are no longer repaired and installed capacity erodes."""

    type: Literal["service_ban"]
    equipment: str = Field(description="Equipment product whose servicing is banned.")
    to: Selector = Field(description="Nodes that lose servicing: id, list, {region: ...} or {entity: ...}.")
    from_: Selector | None = Field(
        default=None, alias="from",
        description="Only spares from these suppliers are cut (e.g. {region: US}); all suppliers when absent.",
    )
    on_site: bool = Field(
        default=False,
        description="Also forbid repairs from spares already on hand (vendor engineers withdrawn).",
    )

    def targets(self, scenario) -> list[str]:
        """Selected node ids that use the equipment, in scenario order."""
        chosen = nodes_matching(scenario, self.to)
        return [n for n in scenario.nodes if n in chosen and self.equipment in scenario.nodes[n].equipment]

    def spares_lanes(self, scenario) -> list[int]:
        """Indices (into ``all_lanes``) of the lanes that bring the equipment's spares to the targets."""
        wanted = {(n, scenario.nodes[n].equipment[self.equipment].spares) for n in self.targets(scenario)}
        senders = None if self.from_ is None else nodes_matching(scenario, self.from_)
        return [i for i, (src, dst, pid) in enumerate(all_lanes(scenario))
                if (dst, pid) in wanted and (senders is None or src in senders)]

    def check(self, scenario):
        """Problems: unknown equipment, no target using it, or nothing to cut."""
        if self.equipment not in scenario.products:
            return [(("equipment",), f"unknown product '{self.equipment}'{did_you_mean(self.equipment, scenario.products)}")]
        if not self.targets(scenario):
            return [(("to",), f"no selected node uses '{self.equipment}'")]
        if not self.on_site and not self.spares_lanes(scenario):
            return [((), f"no lane brings spares of '{self.equipment}' to the selected nodes, so the ban changes nothing; "
                         "add spares lanes or set on_site: true")]
        return []

    def build(self, ctx, index):
        """One service-ban effect on the spares lanes and the targets' tools."""
        scenario = ctx.net.scenario
        return [ServiceBan(self.display_label(index), self.intervals(ctx), self.spares_lanes(scenario),
                           [(n, self.equipment) for n in self.targets(scenario)], self.on_site)]


class ServiceBan(Effect):
    """Trade gate that stops spares on its lanes; ``on_site`` also blocks repairs from stock."""

    def __init__(self, label: str, intervals: list[Interval], lanes: list[int], tools: list[tuple[str, str]],
                 on_site: bool):
        super().__init__(label, intervals)
        self.lanes, self.tools, self.on_site = lanes, tools, on_site

    def activate(self, world: LeverWorld) -> None:
        """Stop the spares (and, on site, repairs)."""
        for lane in self.lanes:
            world.attach_gate(lane, self)
        if self.on_site:
            for node, equipment in self.tools:
                world.block_repairs(node, equipment, True)

    def deactivate(self, world: LeverWorld) -> None:
        """Let spares and repairs resume."""
        for lane in self.lanes:
            world.detach_gate(lane, self)
        if self.on_site:
            for node, equipment in self.tools:
                world.block_repairs(node, equipment, False)

    leakage = 0.0  # a lane's open share under the ban, for adaptive buyers

    def admit(self, lane: Lane, qty: float, day: int) -> float:
        """No spares ship while the ban lasts."""
        return 0.0


Shock = Annotated[
    ExportBanSpec | ExportLicenseSpec | EntityListSpec | CapacityLossSpec | DemandChangeSpec | YieldShockSpec | ServiceBanSpec
    | GeneralLicenceSpec,
    Field(discriminator="type"),
]




SHOCK_TYPES = registry_of(Shock)

