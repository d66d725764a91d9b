"""Annotated types for trade selectors: which nodes (``from`` / ``to``) and products a
shock, policy or allocation priority names, validated at the edge.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PlainValidator, ValidationError, WithJsonSchema

from .fields import StrictModel, _first_error


class RegionSelector(StrictModel):
    """Every node whose ``region`` is one of the given codes."""

    region: str | list[str]

    @property
    def regions(self) -> tuple[str, ...]:
        """The region codes, as a tuple."""
        return (self.region,) if isinstance(self.region, str) else tuple(self.region)


class EntitySelector(StrictModel):
    """Nodes of an entity; with ``affiliates``, also nodes it owns at least that share of."""

    entity: str
    affiliates: float | None = Field(default=None, gt=0, le=1)


def _validate_selector(value: Any):
    if isinstance(value, (RegionSelector, EntitySelector)):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):  # a tuple: an already validated list (a re-validated dump)
        if not value or not all(isinstance(v, str) for v in value):
            raise ValueError("a list of nodes must hold node ids (strings) and not be empty")
        return tuple(value)
    if isinstance(value, dict):
        model = RegionSelector if "region" in value else EntitySelector if "entity" in value else None
        if model is None:
            raise ValueError("a selector mapping needs 'region' or 'entity', e.g. {region: CN} or {entity: Huawei, affiliates: "
                             "0.5}")
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise ValueError(_first_error(exc)) from None
    raise ValueError(f"expected a node id, a list of node ids, {{region: ...}} or {{entity: ...}}, got {value!r}")


Selector = Annotated[
    Any,
    PlainValidator(_validate_selector),
    WithJsonSchema({
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "object",
             "properties": {"region": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
             "required": ["region"], "additionalProperties": False},
            {"type": "object",
             "properties": {"entity": {"type": "string"},
                            "affiliates": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}},
             "required": ["entity"], "additionalProperties": False},
        ],
        "description": "A node id, a list of node ids, {region: CN} or {entity: NAME, affiliates: 0.5}.",
    }),
]


def _validate_products(value: Any):
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"expected a product id or a non-empty list of product ids, got {value!r}")


ProductSelector = Annotated[
    Any,
    PlainValidator(_validate_products),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                    "description": "A product id or a list of product ids."}),
]
