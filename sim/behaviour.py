"""Adaptive behaviour (scenario contract section 10): producers that follow their orders
(``make_to_stock``, 10.1) and suppliers that serve some buyers first when short
(``allocation: {priority: [...]}``, 10.3), see docs/adaptive-behaviour.md; and markets
(section 11): a product's ``market`` block, see docs/markets.md.

Kept apart from ``schema`` so that the node and product models stay readable;
``schema.Node`` and ``schema.Product`` hold one field of each model below.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from .fields import CoverDays, StrictModel
from .paramfields import Elasticity, Exponent, HoldDays, OpenFraction, PriceCap, WholeDays
from .selectorfields import Selector


class MakeToStock(StrictModel):
    """A producer that makes only what keeps its stock at a target: days of cover of the
    mean daily quantity its buyers asked of it over the last 30 days."""

    days_of_cover: CoverDays = Field(
        description="Target free stock of the output, in days of the producer's mean daily requests over the last 30 "
                    "days (before day 30: the days so far; on day 0: its nominal capacity). Each day it makes "
                    "min(capacity, what inputs allow, target - free stock), and orders inputs for "
                    "min(nominal capacity, mean requests) a day. A fab's target counts good dies. A distribution is "
                    "drawn once per replication.",
    )


class AllocationRule(StrictModel):
    """How a supplier splits its free stock when it cannot fill every order of the day."""

    priority: list[Selector] = Field(
        default_factory=list,
        description="Buyers served first when short, tier by tier: each entry is a node id, a list of ids, {region: ...} "
                    "or {entity: ...}; the buyers of the first entry are filled in full (pro rata among them if even "
                    "they cannot be), then the next entry's, then every other buyer pro rata. Empty: pro rata over all.",
    )


class Thrift(StrictModel):
    """Demand that a price spike destroys for longer than the spike (thrifting, substitution
    outside the model, stock run down): contract section 11 extended, docs/markets.md section 8."""

    DRAWN: ClassVar[tuple[str, ...]] = ('share', 'recovery_days')  # drawn per replication (sim.resolution)

    share: OpenFraction = Field(
        description="Share (0 < share <= 1) of the demand destroyed by the scarcity multiplier that stays away: "
                    "the lasting cut is share x (1 - multiplier^elasticity) on the day it is set.",
    )
    recovery_days: WholeDays = Field(
        description="Whole days (1 to 100,000) over which a lasting cut returns to 0, linearly, once the "
                    "price no longer renews it.",
    )


class Market(StrictModel):
    """A product whose price at each demand node that draws it follows scarcity, and whose
    demand falls as the price rises (contract section 11; the rule is in docs/markets.md)."""

    DRAWN: ClassVar[tuple[str, ...]] = ('elasticity', 'max_multiplier', 'window_days', 'signal_weight')  # sim.resolution

    elasticity: Elasticity = Field(
        description="Price elasticity of demand (< 0): demand at price = notional x (price / base)^elasticity.",
    )
    max_multiplier: PriceCap = Field(
        default=10.0,
        description="Cap on the scarcity price multiplier (>= 1); beyond it the unmet gap is shortfall.",
    )
    window_days: WholeDays = Field(
        default=30,
        description="Days of past supply the multiplier averages over (whole days, 1 to 100,000).",
    )
    signal: Literal["shelves", "orders"] | None = Field(
        default=None,
        description="What the supply ratio counts: `shelves` (the default) the node's free stock against its "
                    "notional demand; `orders` also the share of what the node's orders asked for over the window "
                    "that they obtained (shipped), so that orders held in licence review, refused or cut by a quota "
                    "raise the price before the shelves empty (docs/markets.md, section 7).",
    )
    signal_weight: OpenFraction | None = Field(
        default=None,
        description="With `signal: orders`: the weight w (0 < w <= 1, default 1) of the order ratio; the mean "
                    "supply ratio is (1 - w) x shelves + w x min(shelves, orders).",
    )
    thrift: Thrift | None = Field(
        default=None,
        description="Lasting demand destruction: a share of the demand the price destroys stays away after the "
                    "spike and returns linearly over `recovery_days` (docs/markets.md, section 8).",
    )
    cover: Literal["notional", "at_price"] | None = Field(
        default=None,
        description="What a buyer's base-stock cover counts: `notional` (the default) its notional daily use; "
                    "`at_price` the use it keeps at today's price, notional x demand at price / notional demand, so "
                    "that a buyer whose demand the price cuts does not restock a full cover (docs/markets.md, "
                    "section 10).",
    )

    @model_validator(mode="after")
    def _weight_needs_orders(self) -> Market:
        if self.signal_weight is not None and self.signal != "orders":
            raise ValueError("`signal_weight` weighs the order ratio and needs `signal: orders`")
        return self


class Speculation(StrictModel):
    """A trader's speculative stock: extra stock it buys and holds back from sale while the
    price at a named market rises (docs/markets.md, section 9)."""

    DRAWN: ClassVar[tuple[str, ...]] = ('days_of_cover', 'exponent', 'momentum_days')  # sim.resolution

    market: str = Field(
        min_length=1,
        description="The plain demand node whose price multiplier of the ordered product the trader watches "
                    "(that product needs a `market`).",
    )
    days_of_cover: HoldDays = Field(
        description="S: the largest hold, in days of the market node's expected demand (units/day): the trader "
                    "holds S x demand x min(1, r^exponent - 1) units when the price signal r is above 1, nothing "
                    "otherwise.",
    )
    exponent: Exponent = Field(
        description="k (0 < k <= 100): how strongly the hold follows the price signal r.",
    )
    momentum_days: WholeDays | None = Field(
        default=None,
        description="T: without it the signal r is today's multiplier M_d; with it r = M_d / M_(d-T), the rise over "
                    "the last T days (M = 1 before day 0), so that the hold is sold once the price stops rising.",
    )
