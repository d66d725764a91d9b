"""Traders that speculate (docs/markets.md, section 9): a warehouse whose reorder has
``speculation`` buys and holds back extra stock while the price at a named market rises.

On day d at step 5, before the orders (5b) and the allocation (5c), with M_d the price
multiplier that step 4 set at the market node for the product:

    r_d = M_d                    (no ``momentum_days``)
    r_d = M_d / M_(d-T)          (``momentum_days: T``; M = 1 before day 0)
    H_d = S x N_d x min(1, max(0, r_d^k - 1))     units

N_d is the market node's expected demand rate of the day (units/day, with growth), S the
``days_of_cover`` (so the hold is at most S days of the market's demand, reached when
r^k >= 2) and k the ``exponent``. The trader holds back h_d = min(H_d, its stock not
locked otherwise) from sale (its suppliers' allocation cannot sell it) and orders up to its
normal level plus H_d on an inventory position that counts the held stock. When H_d falls,
the released units are free and go to the buyers that order from it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .ledger import Ledger


class Speculator:
    """One trader's speculative hold of one product, set each day before the orders."""

    __slots__ = ("slot", "market_slot", "rate", "days", "exponent", "momentum", "seen", "target", "hold")

    def __init__(self, slot: int, market_slot: int, rate: list[float], days: float, exponent: float,
                 momentum: int | None, horizon: int):
        """``slot``: the trader's stock slot; ``market_slot``: the market node's demand slot of
        the product; ``rate``: its expected demand by day (units/day); ``days``: S (days);
        ``exponent``: k; ``momentum``: T (days) or None."""
        self.slot, self.market_slot, self.rate = slot, market_slot, rate
        self.days, self.exponent, self.momentum = days, exponent, momentum
        self.seen = [1.0] * horizon if momentum is not None else None  # M_d by day, for the momentum
        self.target = 0.0  # H_d, units
        self.hold = 0.0    # h_d, units held back (part of the ledger's ``locked``)

    def signal(self, mult: float, day: int) -> float:
        """r_d: today's multiplier, or its ratio to the multiplier ``momentum`` days ago."""
        seen = self.seen
        if seen is None:
            return mult
        seen[day] = mult
        back = day - self.momentum  # type: ignore[operator]
        return mult / seen[back] if back >= 0 else mult

    def set_hold(self, led: Ledger, day: int) -> None:
        """Step 5, before the orders: today's target H_d and the stock held back, h_d."""
        r = self.signal(led.multiplier[self.market_slot], day)
        rise = r ** self.exponent - 1.0 if r > 1.0 else 0.0
        self.target = self.days * self.rate[day] * (rise if rise < 1.0 else 1.0)
        s = self.slot
        other = led.locked[s] - self.hold  # locked for other reasons (licences, stockpiles)
        free = led.inv[s] - other
        hold = self.target if self.target < free else free
        if hold < 0.0:
            hold = 0.0
        led.locked[s] = other + hold
        self.hold = hold


def speculator(line: Any, slot_of: dict[tuple[str, str], int], rate_path: Callable[[str], Any],
               horizon: int) -> Speculator | None:
    """The ``Speculator`` of an order line (``network.OrderLine``) whose reorder has
    ``speculation``, or None (no speculation, or a market node that does not draw the product)."""
    spec = line.speculation
    if spec is None:
        return None
    market, days, exponent, momentum = spec
    market_slot = slot_of.get((market, line.product))
    if market_slot is None:
        return None
    return Speculator(line.slot, market_slot, [float(x) for x in rate_path(market)], days, exponent, momentum, horizon)
