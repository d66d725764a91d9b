"""Adaptive behaviour of a node (scenario contract section 10): producers that follow
their orders (``make_to_stock``, 10.1) and suppliers that serve some buyers first when
short (``allocation: {priority: [...]}``, 10.3). See docs/adaptive-behaviour.md.

Kept apart from ``schema`` so that the node model stays readable; ``schema.Node`` holds
one field of each model below.
"""
from __future__ import annotations

from pydantic import Field

from .fields import MAX_DAYS, Selector, StrictModel


class MakeToStock(StrictModel):
    """A producer that makes only what keeps its stock at a target: days of cover of the
    mean daily quantity its buyers asked of it over the last 30 days."""

    days_of_cover: float = Field(
        ge=0, le=MAX_DAYS,
        description="Target free stock of the output, in days of the producer's mean daily requests over the last 30 "
                    "days (before day 30: the days so far; on day 0: its nominal capacity). Each day it makes "
                    "min(capacity, what inputs allow, target - free stock), and orders inputs for "
                    "min(nominal capacity, mean requests) a day. A fab's target counts good dies.",
    )


class AllocationRule(StrictModel):
    """How a supplier splits its free stock when it cannot fill every order of the day."""

    priority: list[Selector] = Field(
        default_factory=list,
        description="Buyers served first when short, tier by tier: each entry is a node id, a list of ids, {region: ...} "
                    "or {entity: ...}; the buyers of the first entry are filled in full (pro rata among them if even "
                    "they cannot be), then the next entry's, then every other buyer pro rata. Empty: pro rata over all.",
    )
