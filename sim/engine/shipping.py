"""Lanes and shipments in transit (step 2 of the day: arrivals).

Shipments sit in an arrival calendar keyed by day rather than as SimPy events, so each
costs one list append and arrives exactly at step 2 of its day.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import is_distribution
from ..quantities import whole_days
from .ledger import Ledger

if TYPE_CHECKING:  # pragma: no cover
    from .equipment import Equipment

_LEAD_BATCH = 512  # lead times drawn per call to the sampler


class Lane:
    """Engine state of one lane: slots, price, lead-time sampler, trade gates, licence."""

    __slots__ = ("index", "src", "dst", "price", "fixed_lead", "_dist", "_rng", "_buf", "_pos",
                 "gates", "licences", "licence", "req", "name")

    def __init__(self, index: int, src: int, dst: int, price: float, lead_time: Any,
                 rng: np.random.Generator | None, name: str):
        self.index = index
        self.src = src
        self.dst = dst
        self.price = price  # currency per unit
        self.name = name
        self.gates: list = []
        self.licences: list = []  # active regimes, in the order they started
        self.licence = None       # the one that governs: the earliest still active
        self.req = 0.0            # units ordered on the lane today
        if is_distribution(lead_time):
            self.fixed_lead = 0
            self._dist, self._rng = lead_time, rng
            self._buf: list[int] = []
            self._pos = 0
        else:
            self.fixed_lead = max(1, whole_days(float(lead_time)))

    def next_lead(self) -> int:
        """Lead time of the next shipment in whole days (at least 1), drawn in batches."""
        if self._pos >= len(self._buf):
            draws = np.asarray(self._dist.sample(self._rng, _LEAD_BATCH), dtype=float)
            self._buf = np.maximum(1, np.floor(draws + 0.5)).astype(int).tolist()
            self._pos = 0
        value = self._buf[self._pos]
        self._pos += 1
        return value


class Shipping:
    """The arrival calendar: what reaches which slot on which day."""

    __slots__ = ("ledger", "horizon", "arrivals", "equipment")

    def __init__(self, ledger: Ledger, horizon: int):
        self.ledger = ledger
        self.horizon = horizon
        self.arrivals: dict[int, list[tuple[int, float]]] = {}  # day -> [(slot, units)]
        self.equipment: Equipment | None = None  # new tools go to installation on arrival

    def depart(self, lane: Lane, qty: float, day: int, fee: float) -> None:
        """Send ``qty`` units already counted in the buyer's pipeline (licensed shipments);
        the buyer pays the lane price times (1 + ``fee``)."""
        led = self.ledger
        src, dst = lane.src, lane.dst
        led.inv[src] -= qty
        if led.inv[src] < 0.0:
            led.inv[src] = 0.0
        led.shipped[src] += qty
        led.flow[lane.index] += qty
        value = qty * lane.price
        led.cost[dst] += value * (1.0 + fee)
        if fee:
            led.fee[lane.index] += value * fee
        t = day + (lane.fixed_lead or lane.next_lead())
        if t < self.horizon:
            self.arrivals.setdefault(t, []).append((dst, qty))

    def arrive(self, day: int) -> None:
        """Step 2: shipments due today reach their slots."""
        due = self.arrivals.pop(day, None)
        if not due:
            return
        led = self.ledger
        inv, received, pipeline = led.inv, led.received, led.pipeline
        equipment = self.equipment
        tool_of_slot = equipment.tool_of_slot if equipment is not None else None
        for s, q in due:
            inv[s] += q
            received[s] += q
            pipeline[s] -= q
            if tool_of_slot and s in tool_of_slot:
                equipment.schedule_install(tool_of_slot[s], q, day)  # type: ignore[union-attr]
