"""Policies: what a government or firm does. Same mechanism and hooks as ``shocks.py``."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from .distributions import range_end
from .effects import Effect, Interval, LeverWorld, active_intervals
from .errors import did_you_mean
from .fields import CoverDays, LeadTime, Quantity, Rate
from .generallicence import GeneralLicencePolicySpec
from .leverspec import registry_of
from .paramfields import DrawnDays, InnerShare
from .triggers import PolicyTiming


class PolicySpec(PolicyTiming):
    """Fields shared by every policy; a policy starts on day 0 unless told otherwise, or
    when its ``trigger`` fires (``sim.triggers``)."""

    kind: ClassVar[str] = "policy"


class _AtNode(PolicySpec):
    node: str = Field(description="Node id.")
    product: str = Field(description="Product id.")

    def check(self, scenario):
        problems = []
        if self.node not in scenario.nodes:
            problems.append((("node",), f"unknown node '{self.node}'{did_you_mean(self.node, scenario.nodes)}"))
        if self.product not in scenario.products:
            problems.append((("product",), f"unknown product '{self.product}'{did_you_mean(self.product, scenario.products)}"))
        return problems


class StockpileSpec(_AtNode):
    """Build a strategic stock of a product at a node, at most ``fill_rate`` a day.

    Stockpiled units stay on the node's shelves (they count in ``inventory`` and in the
    ``stockpile`` metric) but are not used for production, demand or shipments until a
    ``stockpile_release`` frees them. The node's normal ordering refills what the
    stockpile takes, so the purchases appear in ``cost`` as they arrive. Filling skips
    every day on which a release of the same node and product is active (inside its
    window, whether or not a cover condition lets it release that day), even if the
    stockpile is empty, so the two never fight and a stockpile without ``end`` does not
    refill in the middle of its own release.
    ``end`` stops the filling; units already held stay in reserve (and keep their
    holding cost) until a release frees them.
    """

    DRAWN: ClassVar[tuple[str, ...]] = ('holding_cost', 'initial')  # drawn per replication (sim.resolution)

    type: Literal["stockpile"]
    target: Quantity = Field(description="Units to hold in the stockpile.")
    fill_rate: Rate | None = Field(
        default=None,
        description="Most units moved into the stockpile per day; unlimited when absent.",
    )
    holding_cost: Quantity = Field(
        default=0.0,
        description="Cost per stockpiled unit per day, booked in the node's cost metric.",
    )
    initial: Quantity = Field(
        default=0.0,
        description="Units of the node's opening inventory already in the stockpile at day 0.",
    )

    def check(self, scenario):
        """Problems of the node and product, and an initial stockpile above the opening stock."""
        problems = super().check(scenario)
        node = scenario.nodes.get(self.node)
        initial = range_end(self.initial)  # a distribution's largest draw (it may take any value of its range)
        if node is not None and initial > 0:
            stock = node.inventory.get(self.product, 0.0)
            if isinstance(stock, (int, float)) and stock < initial:
                problems.append((("initial",), f"'{self.node}' opens with {stock} of '{self.product}', less than the initial "
                                               f"stockpile {initial:g}"))
        return problems

    def build(self, ctx, index):
        """One stockpile effect; target and fill rate (units, units/day) drawn for this replication."""
        target = ctx.draw(self.target, f"{self.stream_key(ctx, index)}.target", 0.0)
        rate = None if self.fill_rate is None else ctx.draw(self.fill_rate, f"{self.stream_key(ctx, index)}.fill_rate", 0.0)
        return [Stockpile(self.display_label(index), self.intervals(ctx), ctx.slot(self.node, self.product), target, rate,
                          self.holding_cost, self.initial)]


class Stockpile(Effect):
    """Fills a slot's stockpile toward ``target`` units, at most ``rate`` units/day."""

    def __init__(self, label: str, intervals: list[Interval], slot: int, target: float, rate: float | None,
                 holding_cost: float, initial: float):
        super().__init__(label, intervals)
        self.slot, self.target, self.rate, self.holding_cost, self.initial = slot, target, rate, holding_cost, initial

    def prepare(self, world: LeverWorld) -> None:
        """Set the opening stockpile aside and book its holding cost from day 0."""
        world.hold(self.slot, self.initial)
        if self.holding_cost:
            world.add_holding_cost(self.slot, self.holding_cost)

    def daily(self, world: LeverWorld, day: int) -> None:
        """Move free units into the stockpile, up to the target and the fill rate."""
        if world.released_on(self.slot, day):
            return  # a release is freeing units today: do not take them back
        room = self.target - world.stockpiled(self.slot)
        if self.rate is not None:
            room = min(room, self.rate)
        world.hold(self.slot, room)


class StockpileReleaseSpec(_AtNode):
    """Free stockpiled units at ``rate`` a day, from ``start`` or whenever cover is low."""

    DRAWN: ClassVar[tuple[str, ...]] = ('when_cover_below',)  # drawn per replication (sim.resolution)

    type: Literal["stockpile_release"]
    rate: Rate = Field(description="Units released per day while the release is active.")
    when_cover_below: CoverDays | None = Field(
        default=None,
        description="Release only while free stock covers fewer than this many days of the node's own use.",
    )

    def check(self, scenario):
        """Problems of the node and product, and a cover condition on a product the node does not use."""
        problems = super().check(scenario)
        node = scenario.nodes.get(self.node)
        if node is not None and self.when_cover_below is not None:
            uses = set(node.consumes) | (set(node.demand.products) if node.demand else set())
            if self.product not in uses:
                problems.append((("when_cover_below",), f"'{self.node}' neither consumes nor has demand for '{self.product}', so "
                                                        "its cover is undefined"))
        return problems

    def build(self, ctx, index):
        """One release effect; the rate (units/day) drawn for this replication."""
        rate = ctx.draw(self.rate, f"{self.stream_key(ctx, index)}.rate", 0.0)
        return [StockpileRelease(self.display_label(index), self.intervals(ctx), ctx.slot(self.node, self.product), rate,
                                 self.when_cover_below)]


class StockpileRelease(Effect):
    """Frees up to ``rate`` stockpiled units/day, only while cover is low if a threshold is set."""

    order = -1  # releases act before stockpiles fill on the same day

    def __init__(self, label: str, intervals: list[Interval], slot: int, rate: float, when_cover_below: float | None):
        super().__init__(label, intervals)
        self.slot, self.rate, self.threshold = slot, rate, when_cover_below

    def daily(self, world: LeverWorld, day: int) -> None:
        """Release today if the release is unconditional or free stock covers too few days.

        Every active day is marked (``release`` of 0 units when cover is high enough), so
        a stockpile of the slot never refills inside the release's window: not from
        scarce stock once it is empty, nor between the days a threshold release acts."""
        if self.threshold is not None:
            use = world.daily_use(self.slot, day)
            if use <= 0 or world.free_stock(self.slot) >= self.threshold * use:
                world.release(self.slot, 0.0, day)
                return
        world.release(self.slot, self.rate, day)


class CapacityExpansionSpec(PolicySpec):
    """New capacity: decided at ``start``, built over ``build_days``, ramped over ``ramp_days``."""

    DRAWN: ClassVar[tuple[str, ...]] = ('build_days', 'ramp_days')  # drawn per replication (sim.resolution)

    type: Literal["capacity_expansion"]
    node: str = Field(description="Producing node that gains capacity.")
    capacity: Rate = Field(description="Capacity added at full ramp, in the node's output units per day.")
    build_days: DrawnDays = Field(default=0, description="Days from `start` until the first output.")
    ramp_days: DrawnDays = Field(
        default=0,
        description="Days from first output to full added capacity (linear; day k of the ramp adds (k+1)/ramp_days).",
    )

    def check(self, scenario):
        """A problem if the node is unknown or produces nothing."""
        node = scenario.nodes.get(self.node)
        if node is None:
            return [(("node",), f"unknown node '{self.node}'{did_you_mean(self.node, scenario.nodes)}")]
        if node.produces is None:
            return [(("node",), f"'{self.node}' produces nothing; capacity_expansion needs a producing node")]
        return []

    def build(self, ctx, index):
        """One expansion effect; the added capacity (units/day) drawn for this replication."""
        added = ctx.draw(self.capacity, f"{self.stream_key(ctx, index)}.capacity", 0.0)
        # a build, not a rule: its own start and end, whatever `suspended` says
        span = [(ctx.day(self.start), ctx.end_day(self.end))]
        return [CapacityExpansion(self.display_label(index), span, self.node, added, self.build_days, self.ramp_days)]


class CapacityExpansion(Effect):
    """Adds ``added`` units/day of nominal capacity to a node, after the build and the ramp."""

    def __init__(self, label: str, intervals: list[Interval], node: str, added: float, build_days: int, ramp_days: int):
        super().__init__(label, intervals)
        self.node, self.added, self.build_days, self.ramp_days = node, added, build_days, ramp_days

    def prepare(self, world: LeverWorld) -> None:
        """Raise the node's nominal capacity path from the first output day on."""
        # a build, not a rule: counted from the decision day (even before day 0); `end`
        # retires the capacity; suspensions do not apply
        path = world.nominal_capacity_path(self.node)
        start, end = self.intervals[0][0], self.intervals[-1][1]
        online = start + self.build_days
        stop = world.horizon if end is None else min(end, world.horizon)
        for d in range(max(online, 0), stop):
            k = d - online
            share = 1.0 if self.ramp_days == 0 else min(1.0, (k + 1) / self.ramp_days)
            path[d] += self.added * share


class NewLaneSpec(PolicySpec):
    """Alternative sourcing: a lane that opens ``qualification_days`` after ``start``."""

    DRAWN: ClassVar[tuple[str, ...]] = ('share', 'qualification_days')  # drawn per replication (sim.resolution)

    type: Literal["new_lane"]
    from_: str = Field(alias="from", description="Supplier node id.")
    to: str = Field(description="Buyer node id (needs a `reorder` rule).")
    product: str
    lead_time: LeadTime = Field(default=1, description="Days in transit, drawn per shipment.")
    share: InnerShare | None = Field(
        default=None,
        description=(
            "Share of the buyer's orders for the product sent to this lane once open (the other lanes keep their "
            "proportions); equal split when absent."
        ),
    )
    qualification_days: DrawnDays = Field(default=0,
                                          description="Days from `start` until the first order (supplier qualification).")

    def check(self, scenario):
        """Problems: unknown ids, a buyer that would never order, a seller that never has the product, a duplicate lane."""
        problems = []
        for field, value in (("from", self.from_), ("to", self.to)):
            if value not in scenario.nodes:
                problems.append(((field,), f"unknown node '{value}'{did_you_mean(value, scenario.nodes)}"))
        if self.product not in scenario.products:
            problems.append((("product",), f"unknown product '{self.product}'{did_you_mean(self.product, scenario.products)}"))
        buyer = scenario.nodes.get(self.to)
        if buyer is not None and buyer.reorder is None:
            problems.append((("to",), f"'{self.to}' has no reorder rule, so it would never order on the new lane"))
        elif buyer is not None and isinstance(buyer.reorder.level, dict) and self.product not in buyer.reorder.level:
            problems.append((("to",), f"'{self.to}' reorder level gives no level for '{self.product}', so it would never order "
                                      "it"))
        seller = scenario.nodes.get(self.from_)
        if seller is not None and self.product in scenario.products:
            holds = (seller.produces == self.product or self.product in seller.inventory
                     or any(lane.to == self.from_ and lane.product == self.product for lane in scenario.lanes))
            if not holds:
                problems.append((("from",), f"'{self.from_}' never has '{self.product}' to ship (it does not produce, stock or "
                                            "receive it)"))
        if any(lane.from_ == self.from_ and lane.to == self.to and lane.product == self.product for lane in scenario.lanes):
            problems.append(((), f"a lane {self.from_} -> {self.to} for {self.product} already exists"))
        return problems

    def intervals(self, ctx):
        """Active day intervals, starting after qualification (``qualification_days`` after ``start``)."""
        windows = [(ctx.day(w.start), ctx.day(w.end)) for w in self.suspended]
        return active_intervals(ctx.day(self.start) + self.qualification_days, ctx.end_day(self.end), windows)

    def build(self, ctx, index):
        """One effect that opens the policy's lane."""
        return [NewLane(self.display_label(index), self.intervals(ctx), ctx.policy_lane(index), self.share)]


class NewLane(Effect):
    """Opens a policy lane to the buyer's orders for its active days."""

    def __init__(self, label: str, intervals: list[Interval], lane: int, share: float | None):
        super().__init__(label, intervals)
        self.lane, self.share = lane, share

    def activate(self, world: LeverWorld) -> None:
        """Open the lane with its share."""
        world.open_lane(self.lane, self.share)

    def deactivate(self, world: LeverWorld) -> None:
        """Close the lane."""
        world.close_lane(self.lane)


Policy = Annotated[
    StockpileSpec | StockpileReleaseSpec | CapacityExpansionSpec | NewLaneSpec | GeneralLicencePolicySpec,
    Field(discriminator="type"),
]
POLICY_TYPES = registry_of(Policy)
