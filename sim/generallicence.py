"""General licences (contract section 10.5): a shock or a policy that lifts the review of
export licences on the lanes it selects.

While a general licence is active, every shipment on a matched lane that an
``export_license`` covers is approved with certainty on the day it is ordered, with no
review (the licence's ``approval_rate`` and ``review_days`` do not apply); the licence's
fee and quota still apply. Applications already under review when it starts are
decided that day (step 5a), approved, within fee and quota. Matched lanes that no
export licence covers are unaffected.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .effects import Effect, Interval, LeverWorld
from .fields import DayRef
from .leverspec import ShockSpec
from .selectorfields import ProductSelector, Selector
from .triggers import PolicyTiming


class GeneralLicenceSpec(ShockSpec):
    """While active, licensed shipments on the matched lanes are approved on their order
    day without review; fee and quota still apply."""

    type: Literal["general_licence"]
    product: ProductSelector | None = Field(default=None, description="Product id or list; all products when absent.")
    from_: Selector | None = Field(
        default=None, alias="from",
        description="Exporting nodes: id, list, {region: ...} or {entity: ..., affiliates: 0.5}; all when absent.",
    )
    to: Selector | None = Field(default=None, description="Importing nodes, same forms as `from`; all when absent.")

    def build(self, ctx, index):
        """One general-licence effect on the matched lanes."""
        return [GeneralLicence(self.display_label(index), self.intervals(ctx), ctx.matching_lanes(self, index))]


class GeneralLicencePolicySpec(GeneralLicenceSpec, PolicyTiming):
    """A general licence granted as a policy (under ``policies:``); it starts on day 0
    unless told otherwise, or when its ``trigger`` fires."""

    kind: ClassVar[str] = "policy"
    # the policies' timing (``PolicyTiming``), which GeneralLicenceSpec's required `start` would shadow
    start: DayRef | None = Field(default=None, description=PolicyTiming.model_fields["start"].description)


class GeneralLicence(Effect):
    """Lifts the review on its lanes: licensed shipments leave on their order day."""

    def __init__(self, label: str, intervals: list[Interval], lanes: list[int]):
        super().__init__(label, intervals)
        self.lanes = lanes

    def activate(self, world: LeverWorld) -> None:
        """Grant the licence on the lanes; applications under review there are approved today."""
        for lane in self.lanes:
            world.attach_general_licence(lane, self)
        world.approve_pending(self.lanes)

    def deactivate(self, world: LeverWorld) -> None:
        """Withdraw it: new shipments on the lanes go to review again."""
        for lane in self.lanes:
            world.detach_general_licence(lane, self)
