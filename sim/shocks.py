"""Shocks: what happens to the world. One small class per type, tagged by ``type``.

A type is a pydantic spec (its YAML schema) whose ``build`` returns the engine
``Effect`` objects that act for it in one replication, through the hooks and the
``LeverWorld`` contract of ``effects.py``. Policies (``policies.py``) use the same
base and hooks. ``Shock`` is the discriminated union of every shock spec.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional, Union, get_args

from pydantic import Field, model_validator

from .distributions import is_distribution
from .effects import Effect, Interval, LeverWorld, active_intervals
from .errors import did_you_mean
from .fields import (
    Anticipation, DayRef, Days, Fraction, ProductSelector, ReviewDays, Schedule, Selector,
    ReviewTime, StrictModel, Window,
)
from .quantities import whole_days

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .engine.world import Lane
    from .network import BuildContext


class ShockSpec(StrictModel):
    """Fields shared by every shock: when it acts, suspensions, and a label for charts."""

    kind: ClassVar[str] = "shock"
    type: str
    name: Optional[str] = Field(default=None, description="Label used in charts and briefings.")
    start: DayRef = Field(description="First day the shock acts: a date, a day number or an offset like '6m'.")
    end: Optional[DayRef] = Field(default=None, description="First day it no longer acts; open-ended when absent.")
    suspended: list[Window] = Field(default_factory=list, description="Windows during which the rule is paused (e.g. announced, suspended for a year, resumed).")

    @model_validator(mode="after")
    def _end_after_start(self):
        start, end = self.start, self.end
        if end is not None and type(start) is type(end) and not end > start:
            raise ValueError(f"end ({end}) must come after start ({start})")
        return self

    def label(self, index: int) -> str:
        return self.name or f"{self.type} #{index + 1}"

    def intervals(self, ctx: "BuildContext") -> list[tuple[int, Optional[int]]]:
        windows = [(ctx.day(w.start), ctx.day(w.end)) for w in self.suspended]
        return active_intervals(ctx.day(self.start), ctx.end_day(self.end), windows)

    def check(self, scenario) -> list[tuple[tuple, str]]:
        """Semantic problems needing the whole scenario: (path inside the item, message)."""
        return []

    def build(self, ctx: "BuildContext", index: int) -> Effect:  # pragma: no cover - abstract
        raise NotImplementedError


# --- trade shocks -------------------------------------------------------------------

class TradeShockSpec(ShockSpec):
    """A shock that acts on lanes chosen by product, sender and receiver."""

    product: Optional[ProductSelector] = Field(default=None, description="Product id or list; all products when absent.")
    from_: Optional[Selector] = Field(default=None, alias="from", description="Exporting nodes: id, list, {region: ...} or {entity: ..., affiliates: 0.5}.")
    to: Optional[Selector] = Field(default=None, description="Importing nodes, same forms as `from`.")
    announced: Optional[DayRef] = Field(default=None, description="Day the measure becomes known, before `start`.")
    anticipation: Optional[Anticipation] = Field(default=None, description="Buyers' reaction between `announced` and `start`.")

    @model_validator(mode="after")
    def _announcement(self):
        if self.anticipation is not None and self.announced is None:
            raise ValueError("anticipation needs `announced:` (the day buyers learn of the measure)")
        if self.announced is not None and type(self.announced) is type(self.start) and not self.announced < self.start:
            raise ValueError("announced must come before start")
        return self

    def anticipation_effect(self, ctx: "BuildContext", index: int, lanes: list[int]) -> Optional[Effect]:
        if self.anticipation is None or self.announced is None:
            return None
        window = active_intervals(ctx.day(self.announced), ctx.day(self.start), [])
        return Anticipate(f"{self.label(index)} (announced)", window, lanes, self.anticipation.days_of_cover)


class Anticipate(Effect):
    """Buyers on the announced lanes raise their cover until the measure starts."""

    def __init__(self, label: str, intervals: list[Interval], lanes: list[int], days_of_cover: float):
        super().__init__(label, intervals)
        self.lanes = lanes
        self.days = days_of_cover

    def activate(self, world: LeverWorld) -> None:
        """Ask the buyers on the lanes for the announced days of cover."""
        world.boost_cover(self.lanes, self, self.days)

    def deactivate(self, world: LeverWorld) -> None:
        """Withdraw the ask once the measure starts."""
        world.boost_cover(self.lanes, self, None)


class ExportBanSpec(TradeShockSpec):
    """Shipments on matching lanes are blocked; ``leakage`` of them still get through."""

    type: Literal["export_ban"]
    leakage: Fraction = Field(default=0.0, description="Per-shipment probability that a blocked order still ships (secondary markets, smuggling).")

    def build(self, ctx, index):
        lanes = ctx.matching_lanes(self, index)
        leakage = ctx.draw(self.leakage, f"shocks.{index}.leakage", 0.0, 1.0)
        return [ExportBan(self.label(index), self.intervals(ctx), lanes, leakage, ctx.stream(f"shock{index}:leakage")),
                self.anticipation_effect(ctx, index, lanes)]


class ExportBan(Effect):
    """Trade gate that refuses orders on its lanes, letting a ``leakage`` share through."""

    def __init__(self, label: str, intervals: list[Interval], lanes: list[int], leakage: float, rng: np.random.Generator):
        super().__init__(label, intervals)
        self.lanes = lanes
        self.leakage = leakage
        self._random = rng.random

    def activate(self, world: LeverWorld) -> None:
        """Gate the lanes."""
        for lane in self.lanes:
            world.attach_gate(lane, self)

    def deactivate(self, world: LeverWorld) -> None:
        """Open the lanes again."""
        for lane in self.lanes:
            world.detach_gate(lane, self)

    def admit(self, lane: Lane, qty: float) -> float:
        """Units of an order of ``qty`` that may ship: all of it with probability ``leakage``, else none."""
        if self.leakage > 0.0 and self._random() < self.leakage:
            return qty
        return 0.0


class EntityListSpec(TradeShockSpec):
    """An export ban on every lane into the listed entities (and their affiliates)."""

    type: Literal["entity_list"]
    entities: Union[str, list[str]] = Field(description="Listed entities (the `entity` of nodes).")
    affiliates: Optional[float] = Field(default=None, gt=0, le=1, description="Also cover nodes these entities own at least this share of, directly or through other entities (the 50% rule: 0.5).")
    leakage: Fraction = Field(default=0.0, description="Per-shipment probability that a blocked order still ships.")

    @model_validator(mode="after")
    def _buyers_by_entity(self):
        if self.to is not None:
            raise ValueError("entity_list selects buyers by `entities`; remove `to`")
        return self

    @property
    def entity_list(self) -> list[str]:
        return [self.entities] if isinstance(self.entities, str) else list(self.entities)

    def buyer_selectors(self):
        return [{"entity": e, "affiliates": self.affiliates} for e in self.entity_list]

    def build(self, ctx, index):
        lanes = ctx.matching_lanes(self, index)
        leakage = ctx.draw(self.leakage, f"shocks.{index}.leakage", 0.0, 1.0)
        return [ExportBan(self.label(index), self.intervals(ctx), lanes, leakage, ctx.stream(f"shock{index}:leakage")),
                self.anticipation_effect(ctx, index, lanes)]


class ExportLicenseSpec(TradeShockSpec):
    """Each matching shipment waits for review, then is approved or denied."""

    type: Literal["export_license"]
    approval_rate: Schedule = Field(default=1.0, description="Per-shipment approval probability, a distribution, or a schedule [{rate: 0.25}, {after: 2m, rate: 0.6}].")
    review_days: ReviewDays = Field(default=0, validate_default=True, description="Review time per shipment, calendar days (45) or working days ('45wd'); distributions are drawn per shipment.")
    quota: Optional[float] = Field(default=None, ge=0, description="Units approved per 30-day block counted from `start`; the excess stays with the seller.")
    fee: float = Field(default=0.0, ge=0, le=10, description="Fee as a share of shipment value, added to the buyer's cost.")

    def build(self, ctx, index):
        lanes = ctx.matching_lanes(self, index)
        start = ctx.day(self.start)
        if isinstance(self.approval_rate, tuple):
            steps = []
            for i, step in enumerate(self.approval_rate):
                day = start if step.after is None and step.from_ is None else (
                    start + step.after if step.after is not None else ctx.day(step.from_))
                steps.append((day, step.rate))
            steps.sort(key=lambda s: s[0])
        else:
            steps = [(start, ctx.draw(self.approval_rate, f"shocks.{index}.approval_rate", 0.0, 1.0))]
        licence = ExportLicense(self.label(index), self.intervals(ctx), lanes, start, steps, self.review_days,
                                self.quota, self.fee, ctx, index)
        return [licence, self.anticipation_effect(ctx, index, lanes)]


class ExportLicense(Effect):
    """Licence regime on a set of lanes: review time, approval, quota and fee.

    The world sends every allocated shipment on a licensed lane for review; the goods
    stay locked at the seller until the decision day, then leave (approved, within quota)
    or return to the seller's free stock (denied, or over quota). When the regime ends
    or is suspended, shipments still under review leave at once.
    """

    def __init__(self, label: str, intervals: list[Interval], lanes: list[int], start: int,
                 steps: list[tuple[int, Any]], review: ReviewTime, quota: float | None, fee: float,
                 ctx: BuildContext, index: int):
        super().__init__(label, intervals)
        self.lanes = lanes
        self.start = start
        self.steps = steps
        self.review = review
        self.quota = quota
        self.fee = fee
        self._ctx = ctx
        self._index = index
        self._streams: dict[int, tuple] = {}
        self.approved_in_block: dict[int, float] = {}

    def activate(self, world: LeverWorld) -> None:
        """Put the lanes under this licence regime."""
        for lane in self.lanes:
            world.attach_licence(lane, self)

    def deactivate(self, world: LeverWorld) -> None:
        """End the regime; shipments still under review leave."""
        for lane in self.lanes:
            world.detach_licence(lane, self)
        # once the regime ends (or is suspended) no licence is needed: goods still
        # waiting for a decision leave at once, without fee or quota
        world.release_pending(self)

    def _rngs(self, lane: Lane) -> tuple[np.random.Generator, np.random.Generator]:
        pair = self._streams.get(lane.index)
        if pair is None:
            pair = self._streams[lane.index] = (self._ctx.stream(f"licence{self._index}:approve:{lane.name}"),
                                                self._ctx.stream(f"licence{self._index}:review:{lane.name}"))
        return pair

    def review_days(self, lane: Lane, day: int) -> int:
        """Whole calendar days from application (``day``) to decision for one shipment."""
        value = self.review.value
        if is_distribution(value):
            value = max(0.0, float(value.sample(self._rngs(lane)[1])))
        days = whole_days(value)
        if self.review.working_days:
            return self._ctx.working_days_to_calendar(day, days)
        return days

    def approval_rate(self, day: int) -> float:
        """Approval probability (0-1) of an application made on ``day``: the latest step begun."""
        rate = self.steps[0][1]
        for when, value in self.steps:
            if when <= day:
                rate = value
        return rate

    def decide(self, lane: Lane, qty: float, day: int) -> float:
        """Units approved to leave today out of ``qty`` (0 if denied; capped by the quota)."""
        rate = self.approval_rate(day)
        if rate < 1.0 and self._rngs(lane)[0].random() >= rate:
            return 0.0
        if self.quota is None:
            return qty
        block = (day - self.start) // 30
        used = self.approved_in_block.get(block, 0.0)
        allowed = min(qty, max(0.0, self.quota - used))
        self.approved_in_block[block] = used + allowed
        return allowed


# --- node shocks ----------------------------------------------------------------------

class NodeShockSpec(ShockSpec):
    """A shock on nodes chosen by id, list, region or entity."""

    node: Selector = Field(description="Node id, list of ids, {region: ...} or {entity: ...}.")

    def check(self, scenario):
        from .selectors import nodes_matching
        if not nodes_matching(scenario, self.node):
            return [(("node",), "matches no node")]
        return []

    def _nodes_lacking(self, scenario, has, what: str) -> list:
        """A problem naming the selected nodes for which ``has(node)`` is false."""
        from .selectors import nodes_matching
        lacking = sorted(n for n in nodes_matching(scenario, self.node) if not has(scenario.nodes[n]))
        return [(("node",), f"node(s) {', '.join(lacking)} {what}")] if lacking else []


class CapacityLossSpec(NodeShockSpec):
    """Capacity falls by ``fraction`` from start to end, then recovers linearly."""

    type: Literal["capacity_loss"]
    fraction: Fraction = Field(description="Share of capacity lost while the shock lasts.")
    recovery_days: Days = Field(default=0, description="Days after `end` over which capacity returns linearly: the loss on day end+k is fraction x (1 - k/recovery_days).")

    def check(self, scenario):
        return super().check(scenario) + self._nodes_lacking(
            scenario, lambda n: n.produces is not None, "produce nothing, so they have no capacity to lose")

    def build(self, ctx, index):
        fraction = ctx.draw(self.fraction, f"shocks.{index}.fraction", 0.0, 1.0)
        return [CapacityLoss(self.label(index), self.intervals(ctx), ctx.nodes(self.node), fraction, self.recovery_days)]


class CapacityLoss(Effect):
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
    multiplier: float = Field(ge=0, description="Demand is multiplied by this (0.5 halves it, 1.3 adds 30%).")

    def check(self, scenario):
        return super().check(scenario) + self._nodes_lacking(
            scenario, lambda n: n.demand is not None, "have no demand to change")

    def build(self, ctx, index):
        return [DemandChange(self.label(index), self.intervals(ctx), ctx.nodes(self.node), self.multiplier)]


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
    d0_multiplier: float = Field(gt=0, description="D0 is multiplied by this (2 doubles defects, e.g. after losing a process tool or an EDA update).")

    def check(self, scenario):
        problems = super().check(scenario)
        from .selectors import nodes_matching
        for n in sorted(nodes_matching(scenario, self.node)):
            fab = scenario.nodes[n].fab
            if fab is None:
                problems.append((("node",), f"'{n}' is not a fab (no `fab:` block), so it has no D0 to shock"))
            elif fab.yield_model == "fixed":
                problems.append((("node",), f"'{n}' uses a fixed yield, which has no D0 to shock"))
        return problems

    def build(self, ctx, index):
        return [YieldShock(self.label(index), self.intervals(ctx), ctx.nodes(self.node), self.d0_multiplier)]


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
    from_: Optional[Selector] = Field(default=None, alias="from", description="Only spares from these suppliers are cut (e.g. {region: US}); all suppliers when absent.")
    on_site: bool = Field(default=False, description="Also forbid repairs from spares already on hand (vendor engineers withdrawn).")

    def targets(self, scenario) -> list[str]:
        from .selectors import nodes_matching
        chosen = nodes_matching(scenario, self.to)
        return [n for n in scenario.nodes if n in chosen and self.equipment in scenario.nodes[n].equipment]

    def spares_lanes(self, scenario) -> list[int]:
        from .selectors import all_lanes, nodes_matching
        wanted = {(n, scenario.nodes[n].equipment[self.equipment].spares) for n in self.targets(scenario)}
        senders = None if self.from_ is None else nodes_matching(scenario, self.from_)
        return [i for i, (src, dst, pid) in enumerate(all_lanes(scenario))
                if (dst, pid) in wanted and (senders is None or src in senders)]

    def check(self, scenario):
        if self.equipment not in scenario.products:
            return [(("equipment",), f"unknown product '{self.equipment}'{did_you_mean(self.equipment, scenario.products)}")]
        if not self.targets(scenario):
            return [(("to",), f"no selected node uses '{self.equipment}'")]
        if not self.on_site and not self.spares_lanes(scenario):
            return [((), f"no lane brings spares of '{self.equipment}' to the selected nodes, so the ban changes nothing; "
                         "add spares lanes or set on_site: true")]
        return []

    def build(self, ctx, index):
        scenario = ctx.net.scenario
        return [ServiceBan(self.label(index), self.intervals(ctx), self.spares_lanes(scenario),
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

    def admit(self, lane: Lane, qty: float) -> float:
        """No spares ship while the ban lasts."""
        return 0.0


Shock = Annotated[
    Union[ExportBanSpec, ExportLicenseSpec, EntityListSpec, CapacityLossSpec, DemandChangeSpec, YieldShockSpec,
          ServiceBanSpec],
    Field(discriminator="type"),
]


def registry_of(union: Any) -> dict[str, type[ShockSpec]]:
    """``type`` tag -> spec class of a discriminated union of specs, in the union's order."""
    (members, *_) = get_args(union)
    return {get_args(spec.model_fields["type"].annotation)[0]: spec for spec in get_args(members)}


SHOCK_TYPES = registry_of(Shock)
