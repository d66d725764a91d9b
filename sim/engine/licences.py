"""Licence applications under review (step 5a of the day: decisions due today).

A shipment on a licensed lane is locked at the seller and counted in the buyer's pipeline
until its decision day; approved units then leave, denied units stay with the seller.

Decisions are taken in batches, one per decision point of the day: those due at step 5a,
then those with no review (review 0 days, or a general licence) at the end of step 5c's
allocation. Within a batch each licence decides all of its applications together, so
the applications sharing one quota share what is left of it pro rata (contract section 8).
Applications due after review under a quota that today's no-review applications may also
draw on (the licence's review can be 0 days, or a general licence acts on one of its
lanes) are decided in the second batch with them, so that no lane is served first.
"""
from __future__ import annotations

from typing import Any

from .ledger import Ledger
from .shipping import Lane, Shipping

# one application: (lane, units, licence that governs it, approved with certainty)
Application = tuple[Lane, float, Any, bool]


class Licensing:
    """The calendar of pending licence decisions, and the general licences in force."""

    __slots__ = ("ledger", "shipping", "decisions", "today", "general")

    def __init__(self, ledger: Ledger, shipping: Shipping):
        self.ledger = ledger
        self.shipping = shipping
        self.decisions: dict[int, list[Application]] = {}  # decision day -> applications
        self.today: list[Application] = []  # no review, under a shared quota: decided after today's allocation
        self.general: dict[int, list[Any]] = {}  # lane index -> general licences in force on it

    def apply(self, lane: Lane, qty: float, day: int) -> None:
        """A shipment of ``qty`` units on a licensed lane: lock it until the decision day.

        Under a general licence it is decided today, approved with certainty, with no
        review draw. A decision due today under a quota that covers several lanes waits
        for the end of today's allocation (``decide_today``), so that the lanes share it."""
        led = self.ledger
        led.locked[lane.src] += qty
        led.pipeline[lane.dst] += qty
        licence = lane.licence
        assert licence is not None, "apply() is only called on licensed lanes"
        certain = lane.index in self.general
        wait = 0 if certain else licence.review_days(lane, day)
        if wait > 0:
            self.decisions.setdefault(day + wait, []).append((lane, qty, licence, False))
        elif licence.shares_quota:
            self.today.append((lane, qty, licence, certain))
        else:  # nothing to share with another lane: decided at once
            self._settle(lane, qty, licence.decide_one(lane, qty, day, certain), licence.fee, day)

    def _settle(self, lane: Lane, qty: float, approved: float, fee: float, day: int) -> None:
        """Unlock an application of ``qty`` units: ``approved`` units leave, the rest stays."""
        led = self.ledger
        led.locked[lane.src] -= qty
        if approved < qty:
            led.pipeline[lane.dst] -= qty - approved  # denied: the goods stay with the seller
        if approved > 0.0:
            self.shipping.depart(lane, approved, day, fee)

    def _decide(self, batch: list[Application], day: int) -> None:
        """Decide a batch of applications today: each licence decides its own together,
        then every application is settled in the batch's order."""
        if len(batch) == 1:
            lane, qty, licence, certain = batch[0]
            self._settle(lane, qty, licence.decide_one(lane, qty, day, certain), licence.fee, day)
            return
        by_licence: dict[Any, list[int]] = {}
        for k, app in enumerate(batch):
            by_licence.setdefault(app[2], []).append(k)
        approved = [0.0] * len(batch)
        for licence, ks in by_licence.items():
            got = licence.decide([(batch[k][0], batch[k][1], batch[k][3]) for k in ks], day)
            for k, units in zip(ks, got, strict=True):
                approved[k] = units
        for (lane, qty, licence, _), units in zip(batch, approved, strict=True):
            self._settle(lane, qty, units, licence.fee, day)

    def decide_due(self, day: int) -> None:
        """Step 5a: decisions due today; approved goods leave, denied ones stay."""
        due = self.decisions.pop(day, None)
        if not due:
            return
        now: list[Application] = []
        later: list[Application] = []  # decided with today's no-review applications, so that they share the quota
        for app in due:
            (later if self._may_share_today(app[2]) else now).append(app)
        if later:
            self.today = later + self.today
        if now:
            self._decide(now, day)

    def _may_share_today(self, licence: Any) -> bool:
        """Whether applications due today under ``licence`` may have to share its quota
        with applications that need no review (a review of 0 days, or a general licence
        on one of its lanes): then they wait for the end of today's allocation."""
        if not licence.shares_quota:
            return False
        return licence.can_skip_review or any(lane in self.general for lane in licence.lanes)

    def decide_today(self, day: int) -> None:
        """End of step 5c: decisions on today's applications that need no review, under a shared quota."""
        batch = self.today
        if batch:
            self.today = []
            self._decide(batch, day)

    def release_pending(self, licence: Any, day: int) -> None:
        """Ship at once (no fee) every application still under review by ``licence``."""
        decisions = self.decisions
        for when in sorted(decisions):
            kept = []
            for app in decisions[when]:
                lane, qty, owner, _ = app
                if owner is licence:
                    self.ledger.locked[lane.src] -= qty
                    self.shipping.depart(lane, qty, day, 0.0)
                else:
                    kept.append(app)
            if kept:
                decisions[when] = kept
            else:
                del decisions[when]

    def grant_general(self, lane: int, licence: Any) -> None:
        """A general licence starts acting on the lane (index)."""
        self.general.setdefault(lane, []).append(licence)

    def withdraw_general(self, lane: int, licence: Any) -> None:
        """A general licence stops acting on the lane (index)."""
        active = self.general.get(lane, [])
        if licence in active:
            active.remove(licence)
        if not active:
            self.general.pop(lane, None)

    def expedite(self, lanes: set[int], day: int) -> None:
        """Every application under review on these lanes (indices) is decided today at
        step 5a, approved with certainty (a general licence starts); fee and quota apply."""
        moved: list[Application] = []
        for when in sorted(self.decisions):
            kept = []
            for app in self.decisions[when]:
                if app[0].index in lanes:
                    moved.append((app[0], app[1], app[2], True))
                else:
                    kept.append(app)
            if kept:
                self.decisions[when] = kept
            else:
                del self.decisions[when]
        if moved:
            self.decisions.setdefault(day, []).extend(moved)
