"""Producers and fabs (step 3b of the day: production).

Capacity is nominal (with expansions) times a factor (losses), by day; both paths are
reshaped by effects before the run. A producer makes min(effective capacity, what its
inputs allow); a fab turns wafers into good dies with its yield of the day. A producer
with ``make_to_stock`` also stops at a target stock of its recent requests (contract
10.1, see ``StockMaker``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fab import d0_learning_curve, murphy_yield, poisson_yield
from ..network import FabDef, ProducerDef
from ..replication import BuildContext
from .ledger import Ledger


@dataclass(slots=True)
class FabLine:
    """A fab's yield by day: good dies per wafer started (expected), or binomial draws."""

    good_per_wafer: list[float]     # expected good dies per wafer, by day
    dies_per_wafer: int             # gross dies on the usable wafer
    yield_path: np.ndarray          # die yield (0-1), by day
    rng: np.random.Generator | None  # binomial sampling of good dies when stochastic


@dataclass(slots=True)
class Producer:
    """One producing node: the slot it fills and the inputs it consumes per unit."""

    node: str
    out_slot: int
    inputs: tuple[tuple[int, float], ...]  # (slot, units consumed per unit made)
    base_capacity: float                   # units/day (wafers/day for fabs), before policies
    nominal: np.ndarray                    # nominal capacity by day (expansions add to it)
    factor: np.ndarray                     # share of nominal available by day (losses)
    d0: np.ndarray | None = None        # defect density by day (defects/cm²), fabs only
    fab: FabLine | None = None
    cover: float | None = None          # make_to_stock: days of mean daily requests (None: full capacity)


def build_producer(p: ProducerDef, ctx: BuildContext, horizon: int) -> Producer:
    """A producer's parameters drawn for this replication (paths not yet reshaped)."""
    cap = ctx.draw(p.capacity, f"nodes.{p.node}.capacity", 0.0)
    inputs = tuple((s, ctx.draw(a, f"nodes.{p.node}.consumes.{pid}", 0.0)) for s, pid, a in p.inputs)
    d0 = None
    if p.fab is not None and p.fab.model != "fixed":
        spec = p.fab.d0
        days = np.arange(horizon, dtype=float)
        d0 = (d0_learning_curve(spec.start, spec.end, spec.halflife, days) if hasattr(spec, "halflife")
              else np.full(horizon, float(spec)))
    cover = None if p.make_to_stock is None else ctx.draw(p.make_to_stock, f"nodes.{p.node}.make_to_stock.days_of_cover", 0.0)
    return Producer(p.node, p.out_slot, inputs, cap, np.full(horizon, cap), np.ones(horizon), d0, None, cover)


def fab_line(fab: FabDef, d0: np.ndarray | None, horizon: int, rng: np.random.Generator | None) -> FabLine:
    """The yield by day of a fab, from its (reshaped) defect-density path."""
    if fab.model == "fixed":
        y = np.full(horizon, float(fab.fixed_yield))  # type: ignore[arg-type]
    elif fab.model == "poisson":
        y = poisson_yield(fab.area_cm2, d0)
    else:
        y = murphy_yield(fab.area_cm2, d0)
    return FabLine((fab.dies_per_wafer * y).tolist(), fab.dies_per_wafer, y, rng)


REQUEST_WINDOW = 30  # days of requests a make-to-stock producer averages (contract 10.1)


class StockMaker:
    """A ``make_to_stock`` producer's memory of what its buyers asked of it.

    On day d its mean daily requests are the mean of the requests of days
    max(0, d-30) .. d-1 (min(d, 30) days; on day 0 its nominal output), in units of its
    output (good dies for a fab). Its target free stock is ``cover`` x that mean.
    """

    __slots__ = ("k", "out", "cover", "nominal", "fab", "ring", "input_paths", "mean", "target")

    def __init__(self, k: int, producer: Producer):
        self.k = k
        self.out = producer.out_slot
        assert producer.cover is not None, f"{producer.node} does not make to stock"
        self.cover = producer.cover  # days of mean daily requests
        self.nominal = producer.nominal.tolist()  # units/day (wafers/day for a fab), by day
        self.fab = producer.fab
        self.ring = [0.0] * REQUEST_WINDOW  # requests of day t at t % 30 (units/day)
        # (daily-use path of an input's order line, units of input per unit of capacity):
        # day d of each path is rewritten with min(nominal, mean requests) x amount
        self.input_paths: list[tuple[list[float], float]] = []
        self.mean = 0.0    # today's mean daily requests (output units/day)
        self.target = 0.0  # today's target free stock (output units)

    def per_capacity_unit(self, day: int) -> float:
        """Output units one unit of capacity makes on ``day``: 1, or a fab's expected good dies per wafer."""
        return 1.0 if self.fab is None else self.fab.good_per_wafer[day]

    def mean_requests(self, day: int) -> float:
        """Mean daily requests (output units/day) over days max(0, day-30) .. day-1; on day 0
        the nominal capacity (in output units)."""
        if day == 0:
            return self.nominal[0] * self.per_capacity_unit(0)
        return sum(self.ring) / (day if day < REQUEST_WINDOW else REQUEST_WINDOW)


class Production:
    """Today's capacity of every producer, and the day's production."""

    __slots__ = ("ledger", "producers", "capacity", "nominal", "wafers", "_dynamic", "_steps", "has_fabs",
                 "stock_makers")

    def __init__(self, ledger: Ledger, producers: list[Producer], horizon: int):
        self.ledger = ledger
        self.producers = producers
        paths = [p.nominal * p.factor for p in producers]
        self.capacity = [float(path[0]) if horizon else 0.0 for path in paths]  # effective, units/day
        self.nominal = list(self.capacity)  # today's capacity before equipment gating
        self.wafers = [0.0] * len(producers)  # wafers started today, fabs only
        self._dynamic = [(k, path.tolist()) for k, path in enumerate(paths) if horizon and np.ptp(path) > 0]
        # producers at full capacity; make-to-stock producers run after them (each producer
        # touches only its own slots, so the order does not matter)
        self._steps = [(k, p.out_slot, p.inputs, p.fab) for k, p in enumerate(producers) if p.cover is None]
        self.stock_makers = [StockMaker(k, p) for k, p in enumerate(producers) if p.cover is not None]
        self.has_fabs = any(p.fab is not None for p in producers)

    def reshape(self, since: int) -> None:
        """A policy reshaped nominal capacity or its factor while the run goes on (a fired
        trigger): take days ``since`` on of every producer's paths again."""
        dynamic = dict(self._dynamic)
        for k, p in enumerate(self.producers):
            path = p.nominal * p.factor
            if k in dynamic:
                dynamic[k][since:] = path[since:].tolist()
            elif np.ptp(path) > 0:  # constant until now: days before ``since`` are unchanged
                dynamic[k] = path.tolist()
        self._dynamic = sorted(dynamic.items())
        for m in self.stock_makers:
            m.nominal[since:] = self.producers[m.k].nominal[since:].tolist()

    def set_capacity(self, day: int) -> None:
        """Step 1: capacities that change over time take today's value."""
        capacity, nominal = self.capacity, self.nominal
        for k, path in self._dynamic:
            capacity[k] = nominal[k] = path[day]

    def produce(self, day: int) -> None:
        """Step 3b: min(effective capacity, what the inputs allow); fabs make good dies."""
        led = self.ledger
        inv, locked, consumed, produced = led.inv, led.locked, led.consumed, led.produced
        capacity, wafers = self.capacity, self.wafers
        for k, out, inputs, fab in self._steps:
            q = capacity[k]
            for s, a in inputs:
                avail = inv[s] - locked[s]
                if avail < q * a:
                    q = avail / a if avail > 0.0 else 0.0
            if q > 0.0:
                for s, a in inputs:
                    use = q * a
                    inv[s] -= use
                    consumed[s] += use
                    if inv[s] < 0.0:  # q = avail / a can overshoot by one ulp
                        inv[s] = 0.0
                if fab is not None:
                    wafers[k] = q
                    if fab.rng is None:
                        q = q * fab.good_per_wafer[day]
                    else:
                        q = float(fab.rng.binomial(int(q * fab.dies_per_wafer), fab.yield_path[day]))
                inv[out] += q
                produced[out] += q
            elif fab is not None:
                wafers[k] = 0.0
        if self.stock_makers:
            self._produce_to_stock(day)

    def _produce_to_stock(self, day: int) -> None:
        """Step 3b of make-to-stock producers: min(effective capacity, what the inputs allow,
        (target - free stock of the output) in capacity units); their input order lines
        take today's daily use, min(nominal capacity, mean requests) x recipe amount."""
        inv, locked = self.ledger.inv, self.ledger.locked
        capacity = self.capacity
        for m in self.stock_makers:
            mean = m.mean = m.mean_requests(day)
            m.target = m.cover * mean
            per_unit = m.per_capacity_unit(day)  # output units per unit of capacity
            use = min(m.nominal[day], mean / per_unit) if per_unit > 0.0 else m.nominal[day]
            for path, a in m.input_paths:
                path[day] = use * a
            gap = m.target - (inv[m.out] - locked[m.out])
            if gap <= 0.0:
                q = 0.0
            else:
                q = min(capacity[m.k], gap / per_unit if per_unit > 0.0 else math.inf)
            self._make(m.k, q, day)

    def _make(self, k: int, q: float, day: int) -> None:
        """Producer ``k`` makes up to ``q`` units of capacity (wafers for a fab), as inputs allow."""
        led = self.ledger
        inv, locked = led.inv, led.locked
        p = self.producers[k]
        for s, a in p.inputs:
            avail = inv[s] - locked[s]
            if avail < q * a:
                q = avail / a if avail > 0.0 else 0.0
        fab = p.fab
        if fab is not None:
            self.wafers[k] = q
        if q <= 0.0:
            return
        for s, a in p.inputs:
            use = q * a
            inv[s] -= use
            led.consumed[s] += use
            if inv[s] < 0.0:  # q = avail / a can overshoot by one ulp
                inv[s] = 0.0
        if fab is not None:
            q = q * fab.good_per_wafer[day] if fab.rng is None else float(
                fab.rng.binomial(int(q * fab.dies_per_wafer), fab.yield_path[day]))
        inv[p.out_slot] += q
        led.produced[p.out_slot] += q

    def remember_requests(self, day: int) -> None:
        """After allocation (step 5): what the buyers asked of each make-to-stock producer today."""
        requested = self.ledger.requested
        ring = day % REQUEST_WINDOW
        for m in self.stock_makers:
            m.ring[ring] = requested[m.out]
