"""Adaptive behaviour (scenario contract section 10): producers that follow their orders
(``make_to_stock``, 10.1) and suppliers that serve some buyers first when short
(``allocation: {priority: [...]}``, 10.3), see docs/adaptive-behaviour.md; and markets
(section 11): a product's ``market`` block, see docs/markets.md.

Kept apart from ``schema`` so that the node and product models stay readable;
``schema.Node`` and ``schema.Product`` hold one field of each model below.
"""
from __future__ import annotations

from pydantic import Field

from .fields import MAX_DAYS, StrictModel
from .selectorfields import Selector


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


class Market(StrictModel):
    """A product whose price at each demand node that draws it follows scarcity, and whose
    demand falls as the price rises (contract section 11; the rule is in docs/markets.md)."""

    elasticity: float = Field(
        lt=0, description="Price elasticity of demand (< 0): demand at price = notional x (price / base)^elasticity.",
    )
    max_multiplier: float = Field(
        default=10.0, ge=1,
        description="Cap on the scarcity price multiplier (>= 1); beyond it the unmet gap is shortfall.",
    )
    window_days: int = Field(
        default=30, ge=1, le=MAX_DAYS,
        description="Days of past supply the multiplier averages over (whole days, 1 to 100,000).",
    )
