"""Adaptive sourcing (contract 10.2): a buyer's orders follow its lanes' effective shares.

A lane's *open share* today is what trade rules let through: the product of its gates'
leakage (an export ban or entity list without leakage, or a service ban: 0) and, under
an export licence, the approval rate a decision taken today would use (1 while a general
licence covers the lane). A preferred lane
(share > 0) asks share x open share; once any preferred lane has first fallen below its
share (day d1), each standby lane (share 0) takes orders from d1 + its qualification days
on, sharing the preferred lanes' missing share equally (times its own open share). The
shares are then renormalised to sum to 1; when none is above 0 nothing is ordered.
"""
from __future__ import annotations

from typing import Any

from .ledger import EPS
from .shipping import Lane


def open_share(lane: Lane, day: int, general: dict[int, list[Any]]) -> float:
    """Share (0-1) of an order on ``lane`` that today's trade rules let through; ``general``:
    lane index -> general licences in force (under one, approval is certain)."""
    factor = 1.0
    for gate in lane.gates:
        factor *= gate.leakage
    licence = lane.licence
    if licence is not None and not general.get(lane.index):
        factor *= licence.approval_today(lane, day)
    return factor


class AdaptiveSourcing:
    """The effective shares of one adaptive buyer's lanes for one product, day by day."""

    __slots__ = ("qualification", "first_below", "general")

    def __init__(self, qualification: dict[int, int], general: dict[int, list[Any]]):
        self.qualification = qualification  # standby lane index -> qualification days
        self.general = general  # lane index -> general licences in force (shared with Licensing)
        self.first_below: int | None = None  # d1: first day a preferred lane fell below its share

    def qualified(self, lane: Lane, day: int) -> bool:
        """Whether a standby lane takes orders on ``day``."""
        d1 = self.first_below
        return d1 is not None and day >= d1 + self.qualification.get(lane.index, 0)

    def shares(self, lanes: list[tuple[Lane, float]], day: int) -> list[tuple[Lane, float]]:
        """Today's normalised effective shares (empty: nothing may be ordered today).

        ``lanes`` are the buyer's open lanes with their fixed shares (standby lanes at 0).
        """
        effective: list[tuple[Lane, float]] = []
        standby: list[Lane] = []
        wanted = got = 0.0
        below = False
        for lane, share in lanes:
            if share <= 0.0:
                standby.append(lane)
                continue
            e = share * open_share(lane, day, self.general)
            if e < share * (1.0 - 1e-12):
                below = True
            wanted += share
            got += e
            effective.append((lane, e))
        if below and self.first_below is None:
            self.first_below = day
        missing = wanted - got
        if standby and missing > EPS and self.first_below is not None:
            ready = [lane for lane in standby if self.qualified(lane, day)]
            for lane in ready:
                effective.append((lane, missing / len(ready) * open_share(lane, day, self.general)))
        total = sum(e for _, e in effective)
        if total <= EPS:
            return []
        return [(lane, e / total) for lane, e in effective if e > 0.0]
