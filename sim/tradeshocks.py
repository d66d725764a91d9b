"""Trade shocks: measures on lanes chosen by product, sender and receiver (export bans,
entity lists, export licences), and the buyers' reaction once one is announced.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from .distributions import is_distribution
from .effects import Effect, Interval, LeverWorld, active_intervals
from .fields import (
    Anticipation,
    DayRef,
    Fraction,
    Quantity,
    ReviewDays,
    ReviewTime,
    Schedule,
)
from .paramfields import Fee
from .quantities import whole_days
from .selectorfields import ProductSelector, Selector

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .engine.world import Lane
    from .replication import BuildContext

from .leverspec import ShockSpec

# --- trade shocks -------------------------------------------------------------------

class TradeShockSpec(ShockSpec):
    """A shock that acts on lanes chosen by product, sender and receiver."""

    product: ProductSelector | None = Field(default=None, description="Product id or list; all products when absent.")
    from_: Selector | None = Field(
        default=None, alias="from",
        description="Exporting nodes: id, list, {region: ...} or {entity: ..., affiliates: 0.5}.",
    )
    to: Selector | None = Field(default=None, description="Importing nodes, same forms as `from`.")
    announced: DayRef | None = Field(default=None, description="Day the measure becomes known, before `start`.")
    anticipation: Anticipation | None = Field(default=None, description="Buyers' reaction between `announced` and `start`.")

    @model_validator(mode="after")
    def _announcement(self):
        if self.anticipation is not None and self.announced is None:
            raise ValueError("anticipation needs `announced:` (the day buyers learn of the measure)")
        if self.announced is not None and type(self.announced) is type(self.start) and not self.announced < self.start:
            raise ValueError("announced must come before start")
        return self

    def anticipation_effect(self, ctx: BuildContext, index: int, lanes: list[int]) -> Effect | None:
        """The buyers' reaction between ``announced`` and ``start``, if any."""
        if self.anticipation is None or self.announced is None:
            return None
        window = active_intervals(ctx.day(self.announced), ctx.day(self.start), [])
        return Anticipate(f"{self.display_label(index)} (announced)", window, lanes, self.anticipation.days_of_cover)


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


_LEAKAGE_HELP = ("Share (0-1) of each matched lane's normal daily volume that still gets through while the ban "
                 "lasts (secondary markets, smuggling): the buyer's daily use times the lane's share.")


class ExportBanSpec(TradeShockSpec):
    """Shipments on matching lanes are blocked; a ``leakage`` share of their normal volume still gets through."""

    type: Literal["export_ban"]
    leakage: Fraction = Field(default=0.0, description=_LEAKAGE_HELP)

    def build(self, ctx, index):
        """The ban (leakage drawn for this replication) and its anticipation, if announced."""
        lanes = ctx.matching_lanes(self, index)
        leakage = ctx.draw(self.leakage, f"{self.stream_key(ctx, index)}.leakage", 0.0, 1.0)
        return [ExportBan(self.display_label(index), self.intervals(ctx), lanes, leakage),
                self.anticipation_effect(ctx, index, lanes)]


class ExportBan(Effect):
    """Trade gate that refuses orders on its lanes beyond ``leakage`` x each lane's normal daily volume."""

    def __init__(self, label: str, intervals: list[Interval], lanes: list[int], leakage: float):
        super().__init__(label, intervals)
        self.lanes = lanes
        self.leakage = leakage  # also the lane's open share for adaptive buyers (sim.engine.sourcing)
        self._volume: dict[int, Callable[[int], float]] = {}  # lane index -> normal units/day by day

    def activate(self, world: LeverWorld) -> None:
        """Gate the lanes; their normal volume is fixed when the ban first starts."""
        start = self.intervals[0][0] if self.intervals else 0
        for lane in self.lanes:
            if self.leakage > 0.0 and lane not in self._volume:
                self._volume[lane] = world.normal_volume(lane, max(0, start))
            world.attach_gate(lane, self)

    def deactivate(self, world: LeverWorld) -> None:
        """Open the lanes again."""
        for lane in self.lanes:
            world.detach_gate(lane, self)

    def admit(self, lane: Lane, qty: float, day: int) -> float:
        """Units of an order of ``qty`` that may ship today: at most ``leakage`` x the lane's normal daily volume."""
        if self.leakage <= 0.0:
            return 0.0
        cap = self.leakage * self._volume[lane.index](day)
        return qty if qty < cap else cap


class EntityListSpec(TradeShockSpec):
    """An export ban on every lane into the listed entities (and their affiliates)."""

    type: Literal["entity_list"]
    entities: str | list[str] = Field(description="Listed entities (the `entity` of nodes).")
    affiliates: float | None = Field(
        default=None, gt=0, le=1,
        description=(
            "Also cover nodes these entities own at least this share of, directly or through other entities (the 50% "
            "rule: 0.5)."
        ),
    )
    leakage: Fraction = Field(default=0.0, description=_LEAKAGE_HELP)

    @model_validator(mode="after")
    def _buyers_by_entity(self):
        if self.to is not None:
            raise ValueError("entity_list selects buyers by `entities`; remove `to`")
        return self

    @property
    def entity_list(self) -> list[str]:
        """The listed entities, as a list."""
        return [self.entities] if isinstance(self.entities, str) else list(self.entities)

    def buyer_selectors(self):
        """One entity selector per listed entity: the buyers the ban covers."""
        return [{"entity": e, "affiliates": self.affiliates} for e in self.entity_list]

    def build(self, ctx, index):
        """The ban on lanes into the listed entities, and its anticipation, if announced."""
        lanes = ctx.matching_lanes(self, index)
        leakage = ctx.draw(self.leakage, f"{self.stream_key(ctx, index)}.leakage", 0.0, 1.0)
        return [ExportBan(self.display_label(index), self.intervals(ctx), lanes, leakage),
                self.anticipation_effect(ctx, index, lanes)]


class ExportLicenseSpec(TradeShockSpec):
    """Each matching shipment waits for review, then is approved or denied."""

    DRAWN: ClassVar[tuple[str, ...]] = ('quota', 'fee')  # drawn per replication (sim.resolution)

    type: Literal["export_license"]
    approval_rate: Schedule = Field(
        default=1.0,
        description="Per-shipment approval probability, a distribution, or a schedule [{rate: 0.25}, {after: 2m, rate: 0.6}].",
    )
    review_days: ReviewDays = Field(
        default=0, validate_default=True,
        description=(
            "Review time per shipment, calendar days (45) or working days ('45wd'); distributions are drawn per "
            "shipment."
        ),
    )
    quota: Quantity | None = Field(
        default=None,
        description="Units approved per 30-day block counted from `start`; the excess stays with the seller.",
    )
    fee: Fee = Field(default=0.0, description="Fee as a share of shipment value, added to the buyer's cost.")

    def build(self, ctx, index):
        """The licence regime (approval steps by day) and its anticipation, if announced."""
        lanes = ctx.matching_lanes(self, index)
        start = ctx.day(self.start)
        if isinstance(self.approval_rate, tuple):
            steps = []
            for step in self.approval_rate:
                day = start if step.after is None and step.from_ is None else (
                    start + step.after if step.after is not None else ctx.day(step.from_))
                steps.append((day, step.rate))
            steps.sort(key=lambda s: s[0])
        else:
            steps = [(start, ctx.draw(self.approval_rate, f"{self.stream_key(ctx, index)}.approval_rate", 0.0, 1.0))]
        licence = ExportLicense(self.display_label(index), self.intervals(ctx), lanes, start, steps, self.review_days,
                                self.quota, self.fee, ctx, ctx.stream_number("shocks", index))
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
        # several lanes may ask for one quota on the same day: their decisions are taken together
        self.shares_quota = quota is not None and len(lanes) > 1
        # whether an application can be decided on the day it is made (a review of 0 days)
        low = review.value.lowest() if is_distribution(review.value) else review.value
        self.can_skip_review = whole_days(max(0.0, float(low))) == 0
        self.fee = fee
        self._ctx = ctx
        self._index = index  # the shock's stream number (``stream_numbers``), which names its decision streams
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

    def approval_today(self, lane: Lane, day: int) -> float:
        """Approval probability (0-1) of an application on ``lane`` decided on ``day``."""
        return self.approval_rate(day)

    def approval_rate(self, day: int) -> float:
        """Approval probability (0-1) of an application made on ``day``: the latest step begun."""
        rate = self.steps[0][1]
        for when, value in self.steps:
            if when <= day:
                rate = value
        return rate

    def decide_one(self, lane: Lane, qty: float, day: int, certain: bool = False) -> float:
        """Units approved to leave today out of a lone application of ``qty`` units (0 if
        denied; capped by what is left of the quota block): ``decide`` for one application."""
        if not certain:
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

    def decide(self, apps: list[tuple[Lane, float, bool]], day: int) -> list[float]:
        """Units approved to leave today for each application ``(lane, units, certain)``
        decided today under this licence (0 if denied; capped by the quota).

        Each is approved whole with the day's approval rate (``certain``: by a general
        licence, without a draw), or denied. Then the approved units share what is left
        of the day's 30-day quota block: in order when one lane asks (a single stream of
        shipments, as it always was) or when everything fits, else pro rata to their
        units, so that no lane is served first (contract section 8)."""
        if len(apps) == 1:
            lane, qty, certain = apps[0]
            return [self.decide_one(lane, qty, day, certain)]
        rate = self.approval_rate(day)
        out = [qty if certain or rate >= 1.0 or self._rngs(lane)[0].random() < rate else 0.0
               for lane, qty, certain in apps]
        if self.quota is None:
            return out
        block = (day - self.start) // 30
        used = self.approved_in_block.get(block, 0.0)
        left = max(0.0, self.quota - used)
        asked = sum(out)
        if asked > left and len({lane.index for (lane, _, _), units in zip(apps, out, strict=True) if units > 0.0}) > 1:
            self.approved_in_block[block] = used + left
            return [units * (left / asked) for units in out]
        for k, units in enumerate(out):
            if units > 0.0:
                allowed = min(units, max(0.0, self.quota - used))
                used += allowed
                out[k] = allowed
        self.approved_in_block[block] = used
        return out
