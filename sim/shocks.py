"""Shocks: what happens to the world. One small class per type, registered by ``type``.

A shock type is a pydantic spec (its YAML schema) with a ``build`` method that turns
the validated spec into an engine ``Effect`` for one replication. Effects are switched
on and off by SimPy processes at the start of their first and last day (step 1 of the
day order), and act on the world through narrow hooks:

- ``activate(world)`` / ``deactivate(world)``: called at step 1 of the start/end day;
- ``admit(lane, qty) -> qty``: a trade gate, asked before a supplier allocates, for
  every order on a lane the effect is attached to (``world.attach_gate``).

Policies (``policies.py``) use the same mechanism.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Optional, Union

from pydantic import Field, model_validator

from .fields import DayRef, Fraction, ProductSelector, Selector, StrictModel

if TYPE_CHECKING:  # pragma: no cover
    from .engine.world import Lane, World
    from .network import BuildContext


class Effect:
    """The engine side of a shock or policy for one replication.

    ``start`` and ``end`` are day numbers; the effect is active on ``start <= d < end``
    (``end`` None: until the horizon).
    """

    def __init__(self, label: str, start: int, end: int | None):
        self.label = label
        self.start = start
        self.end = end

    def activate(self, world: "World") -> None:  # pragma: no cover - overridden
        pass

    def deactivate(self, world: "World") -> None:  # pragma: no cover - overridden
        pass


class ShockSpec(StrictModel):
    """Fields shared by every shock: when it acts and an optional label for charts."""

    kind: ClassVar[str] = "shock"
    type: str
    name: Optional[str] = Field(default=None, description="Label used in charts and briefings.")
    start: DayRef = Field(description="First day the shock acts: a date, a day number or an offset like '6m'.")
    end: Optional[DayRef] = Field(default=None, description="First day it no longer acts; open-ended when absent.")

    @model_validator(mode="after")
    def _end_after_start(self):
        start, end = self.start, self.end
        if end is not None and type(start) is type(end) and not end > start:
            raise ValueError(f"end ({end}) must come after start ({start})")
        return self

    def label(self, index: int) -> str:
        return self.name or f"{self.type} #{index + 1}"

    def build(self, ctx: "BuildContext", index: int) -> Effect:  # pragma: no cover - abstract
        raise NotImplementedError


class TradeShockSpec(ShockSpec):
    """A shock that acts on lanes chosen by product, sender and receiver."""

    product: Optional[ProductSelector] = Field(default=None, description="Product id or list; all products when absent.")
    from_: Optional[Selector] = Field(default=None, alias="from", description="Exporting nodes: id, list, {region: ...} or {entity: ..., affiliates: 0.5}.")
    to: Optional[Selector] = Field(default=None, description="Importing nodes, same forms as `from`.")


class ExportBanSpec(TradeShockSpec):
    """Shipments on matching lanes are blocked; ``leakage`` of them still get through."""

    type: Literal["export_ban"]
    leakage: Fraction = Field(default=0.0, description="Per-shipment probability that a blocked order still ships (secondary markets, smuggling).")

    def build(self, ctx: "BuildContext", index: int) -> Effect:
        lanes = ctx.matching_lanes(self, index)
        leakage = ctx.draw(self.leakage, f"shocks.{index}.leakage", 0.0, 1.0)
        return ExportBan(self.label(index), ctx.day(self.start), ctx.end_day(self.end), lanes, leakage, ctx.stream(f"shock{index}:leakage"))


class ExportBan(Effect):
    """Trade gate that refuses orders on its lanes, letting a ``leakage`` share through."""

    def __init__(self, label, start, end, lanes, leakage, rng):
        super().__init__(label, start, end)
        self.lanes = lanes
        self.leakage = leakage
        self._random = rng.random

    def activate(self, world: "World") -> None:
        for lane in self.lanes:
            world.attach_gate(lane, self)

    def deactivate(self, world: "World") -> None:
        for lane in self.lanes:
            world.detach_gate(lane, self)

    def admit(self, lane: "Lane", qty: float) -> float:
        if self.leakage > 0.0 and self._random() < self.leakage:
            return qty
        return 0.0


SHOCK_TYPES: dict[str, type[ShockSpec]] = {
    "export_ban": ExportBanSpec,
}

Shock = Annotated[Union[tuple(SHOCK_TYPES.values())], Field(discriminator="type")]
