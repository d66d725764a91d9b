"""The scenario format as pydantic v2 models: the one source of truth.

Every model forbids unknown keys. Quantities accept the friendly spellings of
``fields.py``; anything numeric may be a distribution drawn once per replication
(lead times: per shipment). ``chipsim schema`` prints the JSON Schema generated here.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import json
import math
from typing import Literal, Optional, Union

from pydantic import ConfigDict, Field, field_validator, model_validator

from .fields import (
    Fraction, Horizon, LeadTime, PerUnit, Quantity, Rate, StrictModel,
    distribution_json_schema,
)
from .policies import Policy
from .shocks import Shock

DEFAULT_START_DATE = _dt.date(2025, 1, 1)
Id = str


class Product(StrictModel):
    """A good that moves through the chain. Extra numeric attributes are allowed."""

    model_config = ConfigDict(extra="allow", frozen=True)
    unit: str = Field(default="unit", description="Unit of quantities of this product (t, die, chip, tool, ...).")
    kind: Literal["material", "equipment"] = Field(default="material", description="material is consumed by recipes; equipment is a capital stock.")
    price: Optional[float] = Field(default=None, ge=0, description="Value per unit, used by the cost metric (what buyers pay).")

    @model_validator(mode="after")
    def _numeric_extras(self):
        known = [n for n in type(self).model_fields]
        for key, value in (self.model_extra or {}).items():
            close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.75)
            if close:
                raise ValueError(f"unknown product field '{key}' (did you mean '{close[0]}'?)")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(
                    f"extra product attribute '{key}' must be a finite number (e.g. tflops_bf16: 989), got {value!r}"
                )
        return self

    @property
    def attributes(self) -> dict[str, float]:
        """The free numeric attributes (performance, power, ...)."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}


class Reorder(StrictModel):
    """Base-stock replenishment: order up to a level on the inventory position."""

    policy: Literal["base_stock"] = "base_stock"
    days_of_cover: Optional[float] = Field(default=None, ge=0, description="Order-up-to level in days of the node's own daily use.")
    level: Optional[Union[float, dict[str, float]]] = Field(default=None, description="Order-up-to level in units; a number for every ordered product or a mapping per product.")

    @model_validator(mode="after")
    def _one_rule(self):
        if (self.days_of_cover is None) == (self.level is None):
            raise ValueError("reorder needs exactly one of days_of_cover or level")
        levels = self.level.values() if isinstance(self.level, dict) else [self.level] if self.level is not None else []
        for value in levels:
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"reorder level must be a finite number >= 0, got {value}")
        return self


class Demand(StrictModel):
    """Final demand drawn from the node's stock each day."""

    product: Id = Field(description="Product consumed by final demand.")
    rate: Rate = Field(description="Units per day at day 0 (or '90000/month').")
    growth: float = Field(default=0.0, gt=-1, description="Growth per year, compounded daily as (1+growth)^(day/365).")
    distribution: Literal["deterministic", "poisson"] = Field(default="deterministic", description="Daily demand is the rate itself or a Poisson draw around it.")
    backlog: bool = Field(default=False, description="Carry unmet demand (true) or lose it (false).")


class Node(StrictModel):
    """A facility or an aggregated sector: source, producer, warehouse or demand."""

    region: str = Field(default="", description="Region code used by selectors and mandates (e.g. CN, US, JP).")
    entity: Optional[str] = Field(default=None, description="Owning firm, for entity-list rules.")
    owners: dict[str, float] = Field(default_factory=dict, description="Shares (0..1) held by other entities, for the affiliates rule.")
    produces: Optional[Id] = Field(default=None, description="Product made here.")
    capacity: Optional[Rate] = Field(default=None, description="Output units per day (strings like '1200/month' allowed).")
    consumes: dict[Id, PerUnit] = Field(default_factory=dict, description="Inputs per unit of output.")
    inventory: dict[Id, Quantity] = Field(default_factory=dict, description="Stock on hand at day 0, per product.")
    reorder: Optional[Reorder] = Field(default=None, description="Replenishment rule; a node without one does not order.")
    demand: Optional[Demand] = Field(default=None, description="Final demand served from this node's stock.")

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
        return self


class Lane(StrictModel):
    """Who ships what to whom, with a lead time drawn per shipment."""

    from_: Id = Field(alias="from", description="Supplier node id.")
    to: Id = Field(description="Buyer node id.")
    product: Id
    lead_time: LeadTime = Field(default=1, description="Days in transit, drawn per shipment; whole days, at least 1.")
    share: Optional[float] = Field(default=None, gt=0, description="Share of the buyer's orders for this product sent to this lane; normalised over the buyer's lanes.")


class Scenario(StrictModel):
    """A complete, validated scenario (after ``extends`` has been merged)."""

    name: str = Field(description="Short title, shown on charts and briefings.")
    description: str = ""
    start_date: _dt.date = Field(default=DEFAULT_START_DATE, description="Calendar date of day 0.")
    horizon: Horizon = Field(description="Days simulated (0..horizon-1): a number or '90d', '18m', '3y'.")
    replications: int = Field(default=1, ge=1, le=100_000, description="Monte Carlo runs.")
    seed: int = Field(default=0, ge=0, description="Root seed; every replication and stream is spawned from it.")
    products: dict[Id, Product] = Field(default_factory=dict)
    nodes: dict[Id, Node] = Field(default_factory=dict)
    lanes: list[Lane] = Field(default_factory=list)
    shocks: list[Shock] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)

    def to_document(self) -> dict:
        """The scenario as plain data, every default filled in; loads back to an equal Scenario."""
        return json.loads(self.model_dump_json(by_alias=True, exclude_none=True))


def _swap_placeholders(node) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value.get("x-chipsim-distribution"):
                node[key] = {"$ref": "#/$defs/Distribution"}
            else:
                _swap_placeholders(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict) and value.get("x-chipsim-distribution"):
                node[i] = {"$ref": "#/$defs/Distribution"}
            else:
                _swap_placeholders(value)


def scenario_json_schema() -> dict:
    """JSON Schema of a scenario file (for editors and `chipsim schema`)."""
    schema = Scenario.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    dist = distribution_json_schema()
    defs = schema.setdefault("$defs", {})
    defs.update(dist.pop("$defs", {}))
    defs["Distribution"] = dist
    _swap_placeholders(schema)
    schema["properties"]["extends"] = {"type": "string", "description": "Parent scenario file, relative to this one; deep-merged under this file."}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "chipsim scenario"
    return schema
