"""The contract between levers (shocks and policies) and the engine.

A shock or policy spec builds one ``Effect`` per replication. The engine calls its hooks:

- ``prepare(world)``: at build time, reshape deterministic daily paths (demand rates,
  capacity, defect density) over the effect's active days;
- ``activate(world)`` / ``deactivate(world)``: at step 1 of the first and last day of each
  active interval (trade gates, licences, anticipation, new lanes);
- ``daily(world, day)``: at step 1 of every active day (stockpile fill and release);
- ``admit(lane, qty, day) -> qty``: as a trade gate, before a supplier allocates.

An effect reads and changes the world only through ``LeverWorld`` below; it never writes
engine attributes. Active intervals are ``start <= d < end`` minus any ``suspended``
windows (``active_intervals``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

Interval = tuple[int, int | None]


def active_intervals(start: int, end: int | None, suspended: list[tuple[int, int]]) -> list[Interval]:
    """``[start, end)`` minus the suspended windows, as sorted ``(a, b)`` day pairs (b None: open)."""
    spans: list[Interval] = [(start, end)]
    for s0, s1 in sorted(suspended):
        out: list[Interval] = []
        for a, b in spans:
            if (b is not None and s0 >= b) or s1 <= a:
                out.append((a, b))
                continue
            if s0 > a:
                out.append((a, s0))
            if b is None or s1 < b:
                out.append((s1, b))
        spans = out
    return [(a, b) for a, b in spans if b is None or b > a]


class LeverWorld(Protocol):
    """What an effect may read and change in one replication's world.

    Quantities are in the product's unit; ``slot`` is a (node, product) stock slot of the
    network; days are day numbers from the scenario's start.
    """

    horizon: int  # days simulated

    # -- build time (``prepare``): deterministic daily paths, changed in place -----------
    def demand_rate_path(self, node: str) -> np.ndarray:
        """Expected demand per day of a demand node (units/day), by day."""
        ...

    def nominal_capacity_path(self, node: str) -> np.ndarray:
        """Nominal capacity of a producer (units/day, wafers/day for fabs), by day."""
        ...

    def capacity_factor_path(self, node: str) -> np.ndarray:
        """Share of nominal capacity available (0-1) of a producer, by day."""
        ...

    def d0_path(self, node: str) -> np.ndarray:
        """Defect density of a fab (defects/cm²), by day."""
        ...

    # -- stock -----------------------------------------------------------------------------
    def free_stock(self, slot: int) -> float:
        """Units on the shelves that may be used (neither locked nor stockpiled)."""
        ...

    def stockpiled(self, slot: int) -> float:
        """Units held in the slot's stockpile."""
        ...

    def daily_use(self, slot: int, day: int) -> float:
        """Expected use of the slot's product on ``day`` (units/day)."""
        ...

    def hold(self, slot: int, qty: float) -> None:
        """Move up to ``qty`` free units into the stockpile."""
        ...

    def release(self, slot: int, qty: float, day: int) -> None:
        """Free up to ``qty`` stockpiled units; no stockpile of the slot refills on ``day``."""
        ...

    def released_on(self, slot: int, day: int) -> bool:
        """Whether a release freed (or was due to free) units of the slot on ``day``."""
        ...

    def add_holding_cost(self, slot: int, rate: float) -> None:
        """Book ``rate`` (currency per stockpiled unit per day) from now on."""
        ...

    # -- trade ---------------------------------------------------------------------------
    def attach_gate(self, lane_index: int, gate: Effect) -> None:
        """Make ``gate.admit`` filter the lane's orders."""
        ...

    def detach_gate(self, lane_index: int, gate: Effect) -> None:
        """Stop filtering the lane with ``gate``."""
        ...

    def normal_volume(self, lane_index: int, since: int) -> Callable[[int], float]:
        """The lane's normal daily volume (units/day) by day: the buyer's daily use x the
        lane's fixed share (warehouses: their mean shipments over the 30 days before ``since``)."""
        ...

    def attach_licence(self, lane_index: int, licence: Effect) -> None:
        """Put the lane under a licence regime (the earliest active one governs)."""
        ...

    def detach_licence(self, lane_index: int, licence: Effect) -> None:
        """Take the lane out of a licence regime."""
        ...

    def release_pending(self, licence: Effect) -> None:
        """Ship at once every application still under review by ``licence``."""
        ...

    def attach_general_licence(self, lane_index: int, licence: Effect) -> None:
        """From now on, licensed shipments on the lane are approved on their order day, without review."""
        ...

    def detach_general_licence(self, lane_index: int, licence: Effect) -> None:
        """Withdraw a general licence from the lane (others still in force keep acting)."""
        ...

    def approve_pending(self, lane_indices: Iterable[int]) -> None:
        """Applications under review on these lanes are decided today, approved; fee and quota apply."""
        ...

    def open_lane(self, lane_index: int, share: float | None) -> None:
        """Open a lane to the buyer's orders with ``share`` (None: an equal share)."""
        ...

    def close_lane(self, lane_index: int) -> None:
        """Close a lane opened by ``open_lane``."""
        ...

    def boost_cover(self, lane_indices: Iterable[int], owner: Effect, days: float | None) -> None:
        """Ask the buyers fed by these lanes for ``days`` of cover (None: withdraw the ask)."""
        ...

    # -- equipment -----------------------------------------------------------------------
    def block_repairs(self, node: str, equipment: str, blocked: bool) -> None:
        """Forbid (or allow again) repairs of a node's tools from spares."""
        ...


class Effect:
    """The engine side of a shock or policy for one replication (see the module doc)."""

    # set to a method ``daily(world, day)`` to act every active day
    daily: Callable[..., None] | None = None
    order: ClassVar[int] = 0  # daily effects act in increasing order (releases before fills)

    def __init__(self, label: str, intervals: list[Interval]):
        self.label = label
        self.intervals = intervals

    def prepare(self, world: LeverWorld) -> None:
        """Reshape deterministic paths before the run (default: nothing)."""

    def activate(self, world: LeverWorld) -> None:
        """Start acting (step 1 of the first day of an active interval)."""

    def deactivate(self, world: LeverWorld) -> None:
        """Stop acting (step 1 of the day an active interval ends)."""
