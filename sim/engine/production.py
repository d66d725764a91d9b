"""Producers and fabs (step 3b of the day: production).

Capacity is nominal (with expansions) times a factor (losses), by day; both paths are
reshaped by effects before the run. A producer makes min(effective capacity, what its
inputs allow); a fab turns wafers into good dies with its yield of the day.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fab import d0_learning_curve, murphy_yield, poisson_yield
from ..network import BuildContext, FabDef, ProducerDef
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
    return Producer(p.node, p.out_slot, inputs, cap, np.full(horizon, cap), np.ones(horizon), d0)


def fab_line(fab: FabDef, d0: np.ndarray | None, horizon: int, rng: np.random.Generator | None) -> FabLine:
    """The yield by day of a fab, from its (reshaped) defect-density path."""
    if fab.model == "fixed":
        y = np.full(horizon, float(fab.fixed_yield))  # type: ignore[arg-type]
    elif fab.model == "poisson":
        y = poisson_yield(fab.area_cm2, d0)
    else:
        y = murphy_yield(fab.area_cm2, d0)
    return FabLine((fab.dies_per_wafer * y).tolist(), fab.dies_per_wafer, y, rng)


class Production:
    """Today's capacity of every producer, and the day's production."""

    __slots__ = ("ledger", "producers", "capacity", "nominal", "wafers", "_dynamic", "_steps", "has_fabs")

    def __init__(self, ledger: Ledger, producers: list[Producer], horizon: int):
        self.ledger = ledger
        self.producers = producers
        paths = [p.nominal * p.factor for p in producers]
        self.capacity = [float(path[0]) if horizon else 0.0 for path in paths]  # effective, units/day
        self.nominal = list(self.capacity)  # today's capacity before equipment gating
        self.wafers = [0.0] * len(producers)  # wafers started today, fabs only
        self._dynamic = [(k, path.tolist()) for k, path in enumerate(paths) if horizon and np.ptp(path) > 0]
        self._steps = [(k, p.out_slot, p.inputs, p.fab) for k, p in enumerate(producers)]
        self.has_fabs = any(p.fab is not None for p in producers)

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
