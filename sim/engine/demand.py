"""Final demand (step 4 of the day): backlog first, then today's demand.

Demand for a product is served from free stock at the node; compute demand is counted in
a measure (e.g. TFLOPS) and served from the substitutes in order of preference, keeping
the domestic share of what is delivered at least the mandate's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import DemandDef
from .ledger import EPS, Ledger


@dataclass(slots=True)
class DemandLine:
    """One demand node's daily demand (units/day, or measure units/day for compute)."""

    spec: DemandDef
    slot: int            # the product's slot, or the measure's slot for compute demand
    carry: bool          # unmet demand is backlogged (else lost)
    draws: list[float]   # demand by day: Poisson draws around the rate path, or the path


def demand_lines(demands: list[DemandDef], rates: list[np.ndarray], streams) -> list[DemandLine]:
    """Demand by day of every demand node, drawn from its (reshaped) rate path."""
    lines = []
    for dem, path in zip(demands, rates, strict=True):
        draws = streams.get(f"demand:{dem.node}").poisson(path).astype(float) if dem.poisson else path
        lines.append(DemandLine(dem, dem.slot, dem.backlog, draws.tolist()))
    return lines


class Demand:
    """Serves every demand node once a day."""

    __slots__ = ("ledger", "plain", "compute")

    def __init__(self, ledger: Ledger, lines: list[DemandLine]):
        self.ledger = ledger
        # market demand (``spec.market``) is served by ``Market``, which prices it first
        self.plain = [(d.slot, d.carry, d.draws) for d in lines if not d.spec.measure and d.spec.market is None]
        # so is compute demand with a priced substitute
        self.compute = [d for d in lines if d.spec.measure and not any(s.market for s in d.spec.substitutes)]

    def serve(self, day: int) -> None:
        """Step 4: backlog first (oldest demand first), then today's demand."""
        led = self.ledger
        inv, locked, backlog = led.inv, led.locked, led.backlog
        delivered, demand, shortfall = led.delivered, led.demand, led.shortfall
        for s, carry, draws in self.plain:
            want = draws[day]
            avail = inv[s] - locked[s]
            owed = backlog[s]
            old = owed if owed < avail else avail
            if old < 0.0:
                old = 0.0
            avail -= old
            new = want if want < avail else (avail if avail > 0.0 else 0.0)
            inv[s] -= old + new
            if inv[s] < 0.0:
                inv[s] = 0.0
            delivered[s] += old + new
            demand[s] += want
            short = want - new
            if short < EPS:
                short = 0.0
            shortfall[s] += short
            backlog[s] = owed - old + short if carry else 0.0
        for line in self.compute:
            self._serve_compute(line.spec, line.carry, line.draws[day])

    def _serve_compute(self, dem: DemandDef, carry: bool, want: float) -> None:
        led = self.ledger
        inv, locked, m = led.inv, led.locked, dem.slot
        owed = led.backlog[m]
        domestic, foreign = led.free_measure(dem.substitutes)
        total = min(owed + want, domestic + foreign)
        budget = float("inf")
        share = dem.min_domestic
        if share is not None:
            if share > 0.0:
                total = min(total, domestic / share)
            budget = min(foreign, (1.0 - share) * total)
        left = total
        for sub in dem.substitutes:
            if left <= EPS:
                break
            avail = max(0.0, inv[sub.slot] - locked[sub.slot]) * sub.value
            if not sub.domestic:
                avail = min(avail, budget)
            take = min(avail, left)
            if take <= 0.0:
                continue
            units = take / sub.value
            inv[sub.slot] -= units
            if inv[sub.slot] < 0.0:
                inv[sub.slot] = 0.0
            led.delivered[sub.slot] += units
            led.energy[m] += units * sub.power_kw * 24.0 / 1000.0
            left -= take
            if not sub.domestic:
                budget -= take
        served = total - max(left, 0.0)
        old = min(owed, served)
        short = want - (served - old)
        if short < EPS:
            short = 0.0
        led.demand[m] += want
        led.delivered[m] += served
        led.shortfall[m] += short
        led.backlog[m] = owed - old + short if carry else 0.0
