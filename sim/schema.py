"""The scenario format as pydantic v2 models: the one source of truth.

Every model forbids unknown keys. Quantities accept the friendly spellings of
``fields.py``; anything numeric may be a distribution drawn once per replication
(lead times: per shipment). ``chipsim schema`` prints the JSON Schema generated here.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Annotated, ClassVar, Literal

from pydantic import (
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictInt,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .behaviour import AllocationRule, MakeToStock, Speculation
from .distributions import range_end
from .fab import dies_per_wafer
from .fields import (
    AtLeastOne,
    CoverDays,
    DayRef,
    EfficiencyGain,
    Fraction,
    Growth,
    Horizon,
    LeadTime,
    PerUnit,
    Quantity,
    Rate,
    Share,
    StrictModel,
)
from .paramfields import Amount, DrawnDays, DrawnDaysAtLeastOne, PositiveSize
from .policies import Policy
from .product import Product
from .shocks import Shock

DEFAULT_START_DATE = _dt.date(2025, 1, 1)
LOAD_WARNINGS_KEY = "_chipsim_load_warnings"
MAX_NODES = 20_000
MAX_LANES = 200_000
Id = str


class Precaution(StrictModel):
    """Hoarding while a trade control on one of the node's inbound lanes looms or lasts."""

    DRAWN: ClassVar[tuple[str, ...]] = ('relax_days',)  # drawn per replication (sim.resolution)

    days_of_cover: CoverDays = Field(
        description=("Days of own use ordered up to while a matching export_ban, export_license or entity_list is "
                     "announced or active, and for relax_days after it ends (the larger of this and the normal "
                     "level applies); a distribution is drawn once per replication."),
    )
    relax_days: DrawnDays = Field(default=0, description="Days after the control ends that the precaution lasts.")


class Reorder(StrictModel):
    """Base-stock replenishment: order up to a level on the inventory position."""

    policy: Literal["base_stock"] = "base_stock"
    days_of_cover: CoverDays | None = Field(
        default=None, description="Order-up-to level in days of the node's own daily use (or a distribution).")
    level: Quantity | dict[str, Quantity] | None = Field(
        default=None,
        description=("Order-up-to level in units; a number (or distribution) for every ordered product or a mapping "
                     "per product."),
    )
    sourcing: Literal["fixed", "adaptive"] = Field(
        default="fixed",
        description=("fixed: each lane keeps its share of the orders; adaptive: orders shift away from blocked and "
                     "licensed lanes, and standby lanes (share: 0) take over after their qualification_days."),
    )
    precaution: Precaution | None = Field(default=None, description="Extra cover while a trade control on an inbound lane "
                                                                     "looms, lasts or just ended.")
    speculation: Speculation | None = Field(
        default=None, description=("A trader (a warehouse) that buys and holds back extra stock while the price at a "
                                   "named market rises (docs/markets.md, section 9)."))

    @model_validator(mode="after")
    def _one_rule(self):
        if (self.days_of_cover is None) == (self.level is None):
            raise ValueError("reorder needs exactly one of days_of_cover or level")
        levels = self.level.values() if isinstance(self.level, dict) else [self.level] if self.level is not None else []
        for value in levels:
            if isinstance(value, float) and (not math.isfinite(value) or value < 0):
                raise ValueError(f"reorder level must be a finite number >= 0, got {value}")
        return self


class Mandate(StrictModel):
    """A minimum share of delivered compute that must come from domestic products."""

    DRAWN: ClassVar[tuple[str, ...]] = ('min_share',)  # drawn per replication (sim.resolution)

    region: str = Field(description="Region whose products count as domestic (every node making the product is there).")
    min_share: Fraction = Field(description="Minimum share of delivered compute from domestic products.")


class Demand(StrictModel):
    """Final demand drawn from the node's stock each day.

    With ``measure``, demand is counted in that product attribute (e.g. tflops_bf16) and
    served from the listed substitutes in order of preference.
    """

    product: Id | list[Id] = Field(description="Product, or substitutes in order of preference (needs `measure`).")
    measure: str | None = Field(
        default=None,
        description="Product attribute demand is counted in (e.g. tflops_bf16); rate is then in these units per day.",
    )
    mandate: Mandate | None = Field(default=None, description="Minimum domestic share of delivered compute (needs `measure`).")
    rate: Rate = Field(description="Units per day at day 0 (or '90000/month'); measure units with `measure`.")
    growth: Growth = Field(default=0.0, description="Growth per year, compounded daily as (1+growth)^(day/365); may be a "
                                                  "distribution, drawn once per replication.")
    distribution: Literal["deterministic", "poisson"] = Field(
        default="deterministic",
        description="Daily demand is the rate itself or a Poisson draw around it.",
    )
    backlog: bool = Field(default=False, description="Carry unmet demand (true) or lose it (false).")
    also_measure: Id | list[Id] | None = Field(
        default=None, description="Further attributes delivered compute is also reported in (e.g. memory_bandwidth_tbs): "
                                  "`capability_delivered` rows with that product; needs `measure`.")
    efficiency_gain: EfficiencyGain | None = Field(
        default=None, description="Algorithmic efficiency gain per year: the rate path is divided by "
                                  "(1+gain)^(day/365); needs `measure`.")

    @model_validator(mode="after")
    def _substitutes(self):
        if (self.also_measure is not None or self.efficiency_gain is not None) and self.measure is None:
            raise ValueError("also_measure and efficiency_gain need `measure:` (they count compute)")
        extra = self.also_measures
        if self.measure in extra or len(set(extra)) != len(extra):
            raise ValueError("also_measure repeats the measure or itself; list each other attribute once")
        if isinstance(self.product, list):
            if not self.product:
                raise ValueError("product list is empty")
            if len(set(self.product)) != len(self.product):
                raise ValueError("a product is listed twice")
            if self.measure is None:
                raise ValueError("substitute products need `measure:` (the attribute demand is counted in, e.g. tflops_bf16)")
        if self.mandate is not None and self.measure is None:
            raise ValueError("a mandate needs `measure:` (the share is of delivered compute)")
        return self

    @property
    def products(self) -> list[str]:
        """The demanded product ids, in order of preference."""
        return [self.product] if isinstance(self.product, str) else list(self.product)

    @property
    def also_measures(self) -> list[str]:
        """The further measures delivered compute is reported in (may be empty)."""
        return [self.also_measure] if isinstance(self.also_measure, str) else list(self.also_measure or [])


class D0Curve(StrictModel):
    """Defect-density learning: from ``start`` toward ``end``, halving the gap every ``halflife``."""

    DRAWN: ClassVar[tuple[str, ...]] = ('start', 'end', 'halflife')  # drawn per replication (sim.resolution)

    start: Amount = Field(description="D0 on day 0, defects per cm^2.")
    end: Amount = Field(description="D0 the process tends to, defects per cm^2.")
    halflife: DrawnDaysAtLeastOne = Field(description="Days for the gap to the end value to halve (e.g. '1y').")


def _d0_kind(value) -> str:
    # one branch per input, so that a bad value gets the one message of the form it tried
    if isinstance(value, D0Curve) or (isinstance(value, dict) and "dist" not in value):
        return "learning-curve"
    return "defect-density"


DefectDensity = Annotated[
    Annotated[D0Curve, Tag("learning-curve")] | Annotated[Amount, Tag("defect-density")],
    Discriminator(_d0_kind),
]


class Fab(StrictModel):
    """Wafer fab: capacity counts wafer starts per day; output is good dies."""

    DRAWN: ClassVar[tuple[str, ...]] = ('wafer_diameter_mm', 'die_area_mm2', 'edge_exclusion_mm', 'yield_', 'd0_per_cm2')

    wafer_diameter_mm: PositiveSize = Field(default=300.0, description="Wafer diameter, mm.")
    die_area_mm2: PositiveSize = Field(description="Die area, mm^2.")
    edge_exclusion_mm: Amount = Field(default=0.0, description="Unusable rim of the wafer, mm.")
    yield_model: Literal["murphy", "poisson", "fixed"] = Field(
        default="murphy",
        description="murphy: ((1-exp(-A D0))/(A D0))^2; poisson: exp(-A D0); fixed: `yield`.",
    )
    yield_: Fraction | None = Field(
        default=None, alias="yield",
        description="Share of good dies with yield_model fixed.",
    )
    d0_per_cm2: DefectDensity | None = Field(
        default=None,
        description="Defect density, defects per cm^2: a number, a distribution or {start, end, halflife}.",
    )
    stochastic: bool | None = Field(
        default=None,
        description="Sample good dies (binomial) instead of the expected value; defaults to the node's `stochastic`, else false.",
    )

    @model_validator(mode="after")
    def _model_inputs(self):
        if self.yield_model == "fixed" and self.yield_ is None:
            raise ValueError("yield_model fixed needs `yield:` (a share 0..1)")
        if self.yield_model != "fixed" and self.d0_per_cm2 is None:
            raise ValueError(f"yield_model {self.yield_model} needs `d0_per_cm2:` (a number or {{start, end, halflife}})")
        sizes = (self.wafer_diameter_mm, self.die_area_mm2, self.edge_exclusion_mm)
        if not all(math.isfinite(range_end(v)) and math.isfinite(range_end(v, low=True)) for v in sizes):
            raise ValueError("a wafer diameter, die area or edge exclusion drawn from an unbounded distribution (normal, "
                             "lognormal) can make a die larger than the wafer; use one with both ends (uniform or "
                             "triangular)")
        diameter, area, edge = sizes
        if range_end(area, low=True) <= 0:
            raise ValueError("die_area_mm2 can be drawn as 0; give a distribution whose low end is above 0")
        try:  # the fewest dies the ranges allow (smallest wafer, largest die, widest rim), and the most
            dies = dies_per_wafer(range_end(diameter, low=True), range_end(area), range_end(edge))
            dies_per_wafer(range_end(diameter), range_end(area, low=True), range_end(edge, low=True))
        except (OverflowError, ValueError):  # e.g. wafer_diameter_mm: 1e200
            raise ValueError("wafer_diameter_mm, die_area_mm2 and edge_exclusion_mm give no finite number of dies per "
                             "wafer") from None
        if dies < 1:
            raise ValueError("not a single die fits on the wafer; check die_area_mm2, wafer_diameter_mm and edge_exclusion_mm")
        return self


class EquipmentNeed(StrictModel):
    """A stock of tools a node needs: capacity x min(1, installed / required)."""

    DRAWN: ClassVar[tuple[str, ...]] = ('required', 'installed', 'install_days')  # drawn per replication (sim.resolution)

    required: PositiveSize = Field(description="Tools needed for full nominal capacity (scales with capacity_expansion).")
    installed: Amount = Field(description="Tools in service on day 0.")
    attrition: Fraction = Field(default=0.0, description="Daily failure probability of an installed tool, or a distribution "
                                                     "drawn once per replication.")
    spares: str | None = Field(default=None, description="Product consumed to restore one failed tool.")
    install_days: DrawnDays = Field(default=0, description="Days from a new tool's arrival to its installation.")


class Node(StrictModel):
    """A facility or an aggregated sector: source, producer, warehouse or demand."""

    label: str | None = Field(default=None, description="Display text for charts and briefings (default: derived from the id).")
    region: str = Field(default="", description="Region code used by selectors and mandates (e.g. CN, US, JP).")
    entity: str | None = Field(default=None, description="Owning firm, for entity-list rules.")
    owners: dict[str, float] = Field(
        default_factory=dict,
        description="Shares (0..1) held by other entities, for the affiliates rule.",
    )
    produces: Id | None = Field(default=None, description="Product made here.")
    capacity: Rate | None = Field(default=None, description="Output units per day (strings like '1200/month' allowed).")
    consumes: dict[Id, PerUnit] = Field(default_factory=dict, description="Inputs per unit of output.")
    inventory: dict[Id, Quantity] = Field(default_factory=dict, description="Stock on hand at day 0, per product.")
    reorder: Reorder | None = Field(default=None, description="Replenishment rule; a node without one does not order.")
    demand: Demand | None = Field(default=None, description="Final demand served from this node's stock.")
    fab: Fab | None = Field(
        default=None,
        description="Makes the node a wafer fab: capacity in wafer starts per day, consumes per wafer, output in good dies.",
    )
    equipment: dict[Id, EquipmentNeed] = Field(
        default_factory=dict,
        description="Tools that gate capacity, by equipment product.",
    )
    stochastic: bool | None = Field(
        default=None,
        description="Random tool failures (default) or expected values (false); true also samples fab yield.",
    )
    make_to_stock: MakeToStock | None = Field(
        default=None,
        description="Produce only up to a target stock of recent orders (needs `produces:`); default: full capacity "
                    "every day.",
    )
    allocation: AllocationRule | None = Field(
        default=None, description="Which buyers a short supplier serves first (`priority:`); default: pro rata over all buyers.")
    pue: AtLeastOne | None = Field(default=None, description="Facility power over IT power (>= 1) of a compute demand "
                                                             "node; gives facility_energy_mwh.")
    server_overhead: AtLeastOne | None = Field(
        default=None, description="Server IT power per watt of accelerator board power (>= 1); gives facility_energy_mwh.")

    @field_validator("make_to_stock")
    @classmethod
    def _makes_something(cls, value: MakeToStock | None, info: ValidationInfo):
        # `produces` is declared earlier, so it is in info.data unless it failed itself
        if value is not None and "produces" in info.data and info.data["produces"] is None:
            raise ValueError("make_to_stock needs a node that produces; add `produces:` and `capacity:`, or remove it")
        return value

    @field_validator("owners")
    @classmethod
    def _shares(cls, owners: dict[str, float]):
        for owner, share in owners.items():
            if not 0 <= share <= 1:
                raise ValueError(f"ownership share of '{owner}' must be between 0 and 1, got {share}")
        return owners

    @model_validator(mode="after")
    def _production_block(self):
        if self.produces is not None and self.capacity is None:
            raise ValueError("a node that produces needs a capacity (units of output per day)")
        if self.produces is None and self.capacity is not None:
            raise ValueError("capacity is given but the node produces nothing; add `produces:`")
        if self.consumes and self.produces is None:
            raise ValueError("consumes is given but the node produces nothing; add `produces:`")
        if self.fab is not None and self.produces is None:
            raise ValueError("a fab needs `produces:` (the die it makes) and `capacity:` in wafer starts per day")
        if self.equipment and self.produces is None:
            raise ValueError("equipment gates production capacity; the node produces nothing")
        if (self.pue is not None or self.server_overhead is not None) and (self.demand is None or not self.demand.measure):
            raise ValueError("pue and server_overhead belong to a compute demand node (a `demand:` with `measure:`)")
        if self.reorder is not None and self.reorder.speculation is not None and (self.produces or self.demand):
            raise ValueError("reorder.speculation is for a trader: a warehouse node, with neither `produces:` nor "
                             "`demand:` (docs/markets.md, section 9)")
        if (self.demand is not None and self.demand.measure and self.reorder is not None
                and isinstance(self.reorder.level, dict) and set(self.reorder.level) & set(self.demand.products)):
            raise ValueError(f"compute demand orders in {self.demand.measure}: give reorder.level as one number in "
                             f"{self.demand.measure} (or use days_of_cover), not per product")
        return self


class Lane(StrictModel):
    """Who ships what to whom, with a lead time drawn per shipment."""

    DRAWN: ClassVar[tuple[str, ...]] = ('qualification_days',)  # drawn per replication (sim.resolution)

    from_: Id = Field(alias="from", description="Supplier node id.")
    to: Id = Field(description="Buyer node id.")
    product: Id
    lead_time: LeadTime = Field(default=1, description="Days in transit, drawn per shipment; whole days, at least 1.")
    share: Share | None = Field(
        default=None,
        description=("Share of the buyer's orders for this product sent to this lane; normalised over the buyer's "
                     "lanes. 0 makes a standby supplier, used only by a buyer with `sourcing: adaptive`."),
    )
    qualification_days: DrawnDays | None = Field(
        default=None,
        description=("A standby lane (share 0) of an adaptive buyer takes orders this many days after a preferred "
                     "lane first falls below its share (default 0)."),
    )


HEADLINE_STATS = ("sum", "mean", "max")


def _validate_lane_ref(value):
    if isinstance(value, tuple) and len(value) == 2:
        return value
    if isinstance(value, str) and "->" in value:
        src, _, dst = value.partition("->")
        if src.strip() and dst.strip():
            return (src.strip(), dst.strip())
    if isinstance(value, dict) and set(value) == {"from", "to"} and all(isinstance(v, str) for v in value.values()):
        return (value["from"], value["to"])
    raise ValueError(f"a lane is written 'from->to' or {{from: ..., to: ...}}, got {value!r}")


LaneRef = Annotated[
    tuple[str, str],
    PlainValidator(_validate_lane_ref),
    PlainSerializer(lambda v: f"{v[0]}->{v[1]}"),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": "->"},
                              {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                               "required": ["from", "to"], "additionalProperties": False}],
                    "description": "A lane: 'from->to' or {from: NODE, to: NODE}."}),
]


class Headline(StrictModel):
    """A named quantity a scenario asks about: a daily metric at a node or on a lane,
    reduced over a span of days by ``stat``."""

    name: Id = Field(description="Identifier of the headline.")
    label: str | None = Field(default=None, description="Display text (default: derived from the name).")
    metric: str = Field(description="Daily metric (e.g. delivered, shortfall, flow, fee, compute_delivered).")
    node: Id | None = Field(default=None, description="Node the metric is read at (node metrics).")
    lane: LaneRef | None = Field(default=None, description="Lane the metric is read on ('from->to'; flow and fee).")
    product: Id | None = Field(default=None, description="Product (default: every product of the node or lane).")
    from_: DayRef | None = Field(default=None, alias="from", description="First day counted (default: day 0).")
    to: DayRef | None = Field(default=None, description="First day no longer counted (default: the end of the run).")
    stat: Literal["sum", "mean", "max"] = Field(default="sum", description="sum, mean or max over the days.")

    @model_validator(mode="after")
    def _one_place(self):
        if (self.node is None) == (self.lane is None):
            raise ValueError("a headline needs exactly one of `node` or `lane`")
        if self.from_ is not None and self.to is not None and type(self.from_) is type(self.to) \
                and not self.to > self.from_:
            raise ValueError(f"to ({self.to}) must come after from ({self.from_})")
        return self


class Scenario(StrictModel):
    """A complete, validated scenario (after ``extends`` has been merged)."""

    name: str = Field(description="Short title, shown on charts and briefings.")
    description: str = ""
    start_date: _dt.date = Field(default=DEFAULT_START_DATE, description="Calendar date of day 0.")
    horizon: Horizon = Field(description="Days simulated (0..horizon-1): a number or '90d', '18m', '3y'.")
    replications: StrictInt = Field(default=1, ge=1, le=100_000, description="Monte Carlo runs.")
    seed: StrictInt = Field(default=0, ge=0, description="Root seed; every replication and stream is spawned from it.")
    products: dict[Id, Product] = Field(default_factory=dict)
    nodes: dict[Id, Node] = Field(default_factory=dict,
                                  description="Facilities or sectors, by id; a scenario needs at least one.")
    lanes: list[Lane] = Field(default_factory=list)
    shocks: list[Shock] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    reference_shock: str | None = Field(
        default=None,
        description="`name` of the shock that survive and recover times count from (default: the earliest shock "
                    "starting on or after day 0).",
    )
    short_day_threshold: float = Field(
        default=0.0, ge=0, le=1,
        description="A day counts as short for survive/recover times only when its shortfall exceeds this share of "
                    "that day's demand.",
    )
    headlines: list[Headline] = Field(default_factory=list, description="Named question-specific quantities of the run.")

    @field_validator("start_date", mode="before")
    @classmethod
    def _a_date_not_a_number(cls, value: object) -> object:
        # pydantic would read 0 as 1970-01-01 (a Unix timestamp): a number here is a mistake
        if isinstance(value, bool):
            raise ValueError(f"expected a date such as 2025-01-01, got {str(value).lower()}")
        if isinstance(value, int | float):
            raise ValueError(f"expected a date such as 2025-01-01, got the number {value!r}")
        return value

    @property
    def load_warnings(self) -> tuple[str, ...]:
        """Warnings of loading, each ``FILE:LINE:COL: warning: message`` (empty when built in Python).

        Not a field: kept in the instance ``__dict__`` (set by the loader), which pydantic's
        ``==`` ignores, so a scenario equals its resolved copy loaded back.
        """
        return self.__dict__.get(LOAD_WARNINGS_KEY, ())

    @model_validator(mode="after")
    def _sizes(self):
        # far above any real network; a typo like `horizon: 3000y` should not start a run
        if len(self.nodes) > MAX_NODES:
            raise ValueError(f"{len(self.nodes)} nodes; chipsim handles at most {MAX_NODES}")
        if len(self.lanes) > MAX_LANES:
            raise ValueError(f"{len(self.lanes)} lanes; chipsim handles at most {MAX_LANES}")
        return self

    def to_document(self) -> dict:
        """The scenario as plain data, every default filled in; loads back to an equal Scenario."""
        return json.loads(self.model_dump_json(by_alias=True, exclude_none=True))

