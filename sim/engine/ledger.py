"""Stock accounting of one replication, per (node, product) stock slot.

``inv`` is what is on the shelves (the ``inventory`` metric); ``locked`` is the part of it
that may not be used (goods awaiting a licence decision and stockpiled units, the latter
also in ``held``); ``pipeline`` is what is on its way to the slot (in transit, or awaiting a
licence at the seller); ``backlog`` is demand owed. The daily flows (``received`` ...
``energy``) are summed over one day, recorded, then cleared.

Plain Python lists, not arrays: the phases read and write single elements in the hot
loop, where list indexing is several times faster than numpy scalar access.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

EPS = 1e-9  # quantities below this are treated as zero (pro-rata splits leave dust)

STOCKS = ("inv", "locked", "held", "backlog", "pipeline")
FLOWS = ("received", "produced", "consumed", "shipped", "delivered", "demand", "shortfall", "cost", "energy",
         "requested")
MARKET = ("price", "multiplier", "destroyed", "spend")  # per slot, at market demand slots only (see Market)
LANE_FLOWS = ("flow", "fee")  # per lane, not per slot
LANE_STATES = ("share", "qualified")  # per lane, kept from day to day (adaptive buyers)


class Ledger:
    """Stocks and daily flows per slot (units of the slot's product; ``cost`` in currency,
    ``energy`` in MWh, ``requested`` the units a supplier was asked for today); per lane
    (``Lane.index``): ``flow``, the units that left on it today, and ``fee``, the licence
    fee paid on it today (currency); for the lanes of adaptive buyers, ``share``, the
    effective share (0-1) of the buyer's order it took today, and ``qualified``, 1 once a
    standby lane takes orders. At market demand slots: ``price`` (currency/unit) and
    ``multiplier`` (ratio) of the day, ``destroyed`` and ``spend``, the day's demand
    destroyed by the price (units) and what the delivered units cost at it (currency)."""

    __slots__ = ("n", "n_lanes", *STOCKS, *FLOWS, *MARKET, *LANE_FLOWS, *LANE_STATES)

    def __init__(self, n_slots: int, inventory: list[float], n_lanes: int = 0):
        self.n = n_slots
        self.n_lanes = n_lanes
        self.flow: list[float] = [0.0] * n_lanes
        self.fee: list[float] = [0.0] * n_lanes
        self.share: list[float] = [0.0] * n_lanes
        self.qualified: list[float] = [0.0] * n_lanes
        self.inv: list[float] = list(inventory)
        zeros = [0.0] * n_slots
        self.locked, self.held, self.backlog, self.pipeline = (list(zeros) for _ in range(4))
        (self.received, self.produced, self.consumed, self.shipped, self.delivered, self.demand, self.shortfall,
         self.cost, self.energy, self.requested) = (list(zeros) for _ in range(10))
        self.price, self.multiplier, self.destroyed, self.spend = (list(zeros) for _ in range(4))

    def free(self, slot: int) -> float:
        """Units of the slot that may be used now."""
        return self.inv[slot] - self.locked[slot]

    def free_measure(self, substitutes: Iterable[Any], per: Sequence[float] | None = None) -> tuple[float, float]:
        """Free stock of a compute node's substitutes in its measure (e.g. TFLOPS): the
        (domestic, foreign) totals, each substitute's free units (never below 0) times
        its ``value`` per unit, summed in the listed order; with ``per``, each divided by
        its entry (a market's fee cut, so that stock counts as the demand it serves)."""
        inv, locked = self.inv, self.locked
        domestic = foreign = 0.0
        for k, sub in enumerate(substitutes):
            avail = max(0.0, inv[sub.slot] - locked[sub.slot]) * sub.value
            if per is not None:
                avail /= per[k]
            if sub.domestic:
                domestic += avail
            else:
                foreign += avail
        return domestic, foreign
