"""What the engine records each day, declared once, and the replication's output array.

Each per-slot series names the ledger list it copies, its unit and whether it is a daily
flow (summed over the day, then cleared) or a stock (the end-of-day level). A series is
recorded only when the network can make it non-zero (no demand node: no demand series),
which keeps the day's recording cost proportional to what the scenario uses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import COMPUTE_METRICS, Network
from .equipment import Equipment
from .ledger import Ledger
from .production import Production


@dataclass(frozen=True)
class SlotSeries:
    """A daily series per stock slot, copied from a ``Ledger`` list at the end of the day."""

    metric: str    # name in the tidy table
    source: str    # Ledger attribute
    unit: str      # "unit" is the slot's product unit
    flow: bool     # summed over the day and cleared after recording (else an end-of-day stock)
    needs: str     # recorded when the network has: "any", "demand", "compute", "stockpile" or "market"


SLOT_SERIES = (
    SlotSeries("inventory", "inv", "unit", False, "any"),
    SlotSeries("received", "received", "unit/day", True, "any"),
    SlotSeries("produced", "produced", "unit/day", True, "any"),
    SlotSeries("consumed", "consumed", "unit/day", True, "any"),
    SlotSeries("shipped", "shipped", "unit/day", True, "any"),
    SlotSeries("cost", "cost", "currency/day", True, "any"),
    SlotSeries("delivered", "delivered", "unit/day", True, "demand"),
    SlotSeries("demand", "demand", "unit/day", True, "demand"),
    SlotSeries("shortfall", "shortfall", "unit/day", True, "demand"),
    SlotSeries("backlog", "backlog", "unit", False, "demand"),
    SlotSeries("energy_mwh", "energy", "MWh/day", True, "compute"),
    SlotSeries("stockpile", "held", "unit", False, "stockpile"),
    # market demand slots (contract section 11); ``price_multiplier`` is filled day by day,
    # so that a trigger may read ``by_metric["price_multiplier"][day]`` on the same day
    SlotSeries("price", "price", "currency/unit", False, "market"),
    SlotSeries("price_multiplier", "multiplier", "ratio", False, "market"),
    SlotSeries("demand_destroyed", "destroyed", "unit/day", True, "market"),
    SlotSeries("spend", "spend", "currency/day", True, "market"),
)
# Series per lane, recorded from ``Ledger.flow`` and ``Ledger.fee`` (named ``from->to``
# in the tidy table): flow (unit/day, shipments that left, licensed ones at departure)
# and fee (currency/day, the licence fee paid, also part of the buyer's ``cost``); for the
# lanes of adaptive buyers, lane_share (0-1, from ``Ledger.share``) and, for standby
# lanes, qualified (0 or 1).

# Series of producers and tools, recorded from the phases rather than the ledger:
#   capacity (unit/day, wafers/day for fabs), wafers_started (wafers/day), yield (0-1,
#   fabs), installed (tools in service), target_stock (unit: the target free stock of a
#   make_to_stock producer's output, good dies for a fab); good_dies is a fab's ``produced``.
PER_PRODUCER = ("capacity", "wafers_started", "yield", "installed", "target_stock")


class Recorder:
    """Copies the day's state into (horizon, n) arrays, then clears the daily flows."""

    __slots__ = ("horizon", "ledger", "production", "equipment", "wanted", "present", "fees", "_by_metric", "_rows",
                 "_clear", "_zeros", "_capacity", "_wafers", "_installed", "_flow", "_fee", "_lane_zeros", "_share",
                 "_qualified", "_target")

    def __init__(self, ledger: Ledger, production: Production, equipment: Equipment, horizon: int,
                 present: set[str], fees: bool = False):
        """``present``: what the network has among "demand", "compute", "stockpile",
        "adaptive" and "market"; ``fees``: some lane may pay a licence fee (else ``fee`` is not recorded).
        The arrays are allocated on first use (the engine kernel writes its own output)."""
        self.horizon = horizon
        self.ledger, self.production, self.equipment = ledger, production, equipment
        self.present, self.fees = present, fees
        self.wanted = [s for s in SLOT_SERIES if s.needs == "any" or s.needs in present]  # recorded series
        self._by_metric: dict[str, np.ndarray] | None = None

    def _allocate(self) -> dict[str, np.ndarray]:
        horizon, ledger, production = self.horizon, self.ledger, self.production
        wanted = self.wanted
        by_metric = self._by_metric = {s.metric: np.zeros((horizon, ledger.n)) for s in SLOT_SERIES}
        self._rows = [(by_metric[s.metric], getattr(ledger, s.source)) for s in wanted]
        self._clear = [getattr(ledger, s.source) for s in wanted if s.flow]
        self._zeros = [0.0] * ledger.n
        self._capacity = np.zeros((horizon, len(production.producers)))
        self._wafers = np.zeros((horizon, len(production.producers)))
        self._installed = np.zeros((horizon, len(self.equipment.tools)))
        self._target = np.zeros((horizon, len(production.stock_makers)))
        self._flow = np.zeros((horizon, ledger.n_lanes))
        self._fee = np.zeros((horizon, ledger.n_lanes)) if self.fees else None
        self._lane_zeros = [0.0] * ledger.n_lanes
        adaptive = "adaptive" in self.present
        self._share = np.zeros((horizon, ledger.n_lanes)) if adaptive else None
        self._qualified = np.zeros((horizon, ledger.n_lanes)) if adaptive else None
        return by_metric

    @property
    def by_metric(self) -> dict[str, np.ndarray]:
        """Recorded per-slot series by metric name, each (horizon, slots)."""
        return self._by_metric if self._by_metric is not None else self._allocate()

    @property
    def capacity_by_day(self) -> np.ndarray:
        """Recorded capacity (units/day, wafers/day for fabs), shape (horizon, producers)."""
        if self._by_metric is None:
            self._allocate()
        return self._capacity

    def record(self, day: int) -> None:
        """The end of ``day``: record every series, then clear the daily flows."""
        if self._by_metric is None:
            self._allocate()
        for array, source in self._rows:
            array[day] = source
        zeros = self._zeros
        for source in self._clear:
            source[:] = zeros
        led = self.ledger
        if led.n_lanes:
            self._flow[day] = led.flow
            led.flow[:] = self._lane_zeros
            if self._fee is not None:
                self._fee[day] = led.fee
                led.fee[:] = self._lane_zeros
            if self._share is not None:
                self._share[day] = led.share
                self._qualified[day] = led.qualified  # type: ignore[index]
        self._capacity[day] = self.production.capacity
        if self.production.has_fabs:
            self._wafers[day] = self.production.wafers
        tools = self.equipment.tools
        if tools:
            self._installed[day] = [t.installed for t in tools]
        makers = self.production.stock_makers
        if makers:
            self._target[day] = [m.target for m in makers]

    def output(self, net: Network) -> np.ndarray:
        """The reported series (``Network.series``) as one (horizon, n_series) array."""
        if self._by_metric is None:
            self._allocate()
        H, n = self.horizon, self.ledger.n
        makers = self.production.stock_makers
        by_slot = {m: np.zeros((H, n)) for m in PER_PRODUCER if m != "target_stock" or makers}
        for k, producer in enumerate(self.production.producers):
            by_slot["capacity"][:, producer.out_slot] = self._capacity[:, k]
            if producer.fab is not None:
                by_slot["wafers_started"][:, producer.out_slot] = self._wafers[:, k]
                by_slot["yield"][:, producer.out_slot] = producer.fab.yield_path
        for i, tool in enumerate(self.equipment.tools):
            by_slot["installed"][:, tool.slot] = self._installed[:, i]
        for i, maker in enumerate(makers):
            by_slot["target_stock"][:, maker.out] = self._target[:, i]
        # a lane's series sit at its row of ``net.slots`` (after every stock slot)
        lane_of_row = {row: k for k, row in enumerate(net.lane_slots)}
        lanes = {"flow": self._flow, "fee": self._fee, "lane_share": self._share, "qualified": self._qualified}
        # one fancy-indexing gather per metric (row-major arrays), not one per column
        values = np.empty((H, len(net.series)))
        groups: dict[str, tuple[list[int], list[int]]] = {}
        for k, (s, metric) in enumerate(net.series):
            slots, positions = groups.setdefault(metric, ([], []))
            slots.append(s)
            positions.append(k)
        for metric, (slots, positions) in groups.items():
            if metric in lanes:
                lane_source = lanes[metric]
                assert lane_source is not None
                values[:, positions] = lane_source[:, [lane_of_row[s] for s in slots]]
                continue
            if metric in ("facility_energy_mwh", "capability_delivered"):  # derived after the run (capability.py)
                values[:, positions] = 0.0
                continue
            if metric in by_slot:
                source = by_slot[metric]
            elif metric == "good_dies":
                source = self.by_metric["produced"]
            else:
                source = self.by_metric[COMPUTE_METRICS.get(metric, metric)]
            values[:, positions] = source[:, slots]
        return values
