"""Licence applications under review (step 5a of the day: decisions due today).

A shipment on a licensed lane is locked at the seller and counted in the buyer's pipeline
until its decision day; approved units then leave, denied units stay with the seller.
"""
from __future__ import annotations

from typing import Any

from .ledger import Ledger
from .shipping import Lane, Shipping


class Licensing:
    """The calendar of pending licence decisions."""

    __slots__ = ("ledger", "shipping", "decisions")

    def __init__(self, ledger: Ledger, shipping: Shipping):
        self.ledger = ledger
        self.shipping = shipping
        self.decisions: dict[int, list[tuple[Lane, float, Any]]] = {}  # day -> [(lane, units, licence)]

    def apply(self, lane: Lane, qty: float, day: int) -> None:
        """A shipment of ``qty`` units on a licensed lane: lock it until the decision day."""
        led = self.ledger
        led.locked[lane.src] += qty
        led.pipeline[lane.dst] += qty
        licence = lane.licence
        assert licence is not None, "apply() is only called on licensed lanes"
        wait = licence.review_days(lane, day)
        if wait <= 0:
            self.decide(lane, qty, licence, day)
        else:
            self.decisions.setdefault(day + wait, []).append((lane, qty, licence))

    def decide(self, lane: Lane, qty: float, licence: Any, day: int) -> None:
        """The licence decides on an application of ``qty`` units today."""
        led = self.ledger
        led.locked[lane.src] -= qty
        approved = licence.decide(lane, qty, day)
        if approved < qty:
            led.pipeline[lane.dst] -= qty - approved  # denied: the goods stay with the seller
        if approved > 0.0:
            self.shipping.depart(lane, approved, day, licence.fee)

    def decide_due(self, day: int) -> None:
        """Step 5a: decisions due today; approved goods leave, denied ones stay."""
        due = self.decisions.pop(day, None)
        if due:
            for lane, q, licence in due:
                self.decide(lane, q, licence, day)

    def release_pending(self, licence: Any, day: int) -> None:
        """Ship at once (no fee) every application still under review by ``licence``."""
        decisions = self.decisions
        for when in sorted(decisions):
            kept = []
            for lane, qty, owner in decisions[when]:
                if owner is licence:
                    self.ledger.locked[lane.src] -= qty
                    self.shipping.depart(lane, qty, day, 0.0)
                else:
                    kept.append((lane, qty, owner))
            if kept:
                decisions[when] = kept
            else:
                del decisions[when]
