"""Field types shared by the scenario schema: quantities, distributions, selectors.

Each type parses the friendly spellings analysts write (``"1200/month"``, ``"90d"``,
``{dist: ...}``) into one plain value, and fails with a single clear message, so the
loader can report one line per problem rather than a cascade of union errors.
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Annotated, Any, Callable, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, TypeAdapter, ValidationError, WithJsonSchema

from .distributions import DIST_TYPES, Distribution, is_distribution
from .quantities import parse_duration_days, parse_number, parse_rate_per_day, whole_days

_DIST_ADAPTER = TypeAdapter(Distribution)
# pydantic cannot follow a hand-written $ref inside WithJsonSchema, so distribution slots
# carry this marker and scenario_json_schema() swaps in the reference afterwards.
DIST_PLACEHOLDER = {"type": "object", "x-chipsim-distribution": True}


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"] if not isinstance(p, int) and p not in DIST_TYPES)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "union_tag_invalid":
        msg = f"unknown distribution {err['ctx']['tag']}; use one of: {', '.join(DIST_TYPES)}"
    elif err["type"] == "extra_forbidden":
        msg = f"unexpected distribution parameter '{where}'"
        where = ""
    return f"{where}: {msg}" if where else msg


def _parse_dist(value: dict, param_parser: Callable[[object, str], float] | None):
    if "dist" not in value:
        raise ValueError(
            "a mapping here must be a distribution with a 'dist' key, e.g. "
            "{dist: uniform, low: 1, high: 2}"
        )
    if param_parser is not None:
        value = {
            k: (param_parser(v, f"distribution parameter '{k}'") if k != "dist" and isinstance(v, str) else v)
            for k, v in value.items()
        }
    try:
        return _DIST_ADAPTER.validate_python(value)
    except ValidationError as exc:
        raise ValueError(_first_error(exc)) from None


def _bounds_text(lo: float | None, lo_strict: bool, hi: float | None) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_strict else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"<= {hi:g}")
    return " and ".join(parts)


def param_type(
    parse: Callable[[object, str], float],
    *,
    lo: float | None = None,
    lo_strict: bool = False,
    hi: float | None = None,
    allow_dist: bool = True,
    dist_lo: float | None = None,
    description: str,
    example: object = None,
):
    """An annotated type for a number that may also be a string form or a distribution.

    Distributions are accepted when ``allow_dist``; their lower end is checked against
    ``lo`` where it is bounded, and draws are clipped into range by the network builder.
    """

    def check(x: float) -> float:
        if lo is not None and (x < lo or (lo_strict and x == lo)):
            raise ValueError(f"must be {_bounds_text(lo, lo_strict, hi)}, got {x:g}")
        if hi is not None and x > hi:
            raise ValueError(f"must be {_bounds_text(lo, lo_strict, hi)}, got {x:g}")
        return x

    def validate(value: Any):
        if is_distribution(value):
            return value
        if isinstance(value, dict):
            if not allow_dist:
                raise ValueError("a distribution is not allowed here; give a fixed value")
            dist = _parse_dist(value, parse)
            low, floor = dist.lowest(), lo if dist_lo is None else dist_lo
            if floor is not None and math.isfinite(low) and low < floor:
                raise ValueError(f"distribution can fall below the allowed range (>= {floor:g})")
            if hi is not None and math.isfinite(dist.highest()) and dist.highest() > hi:
                raise ValueError(f"distribution can rise above the allowed range (<= {hi:g})")
            return dist
        return check(parse(value, "value"))

    any_of: list[dict] = [{"type": "number"}]
    if parse is not parse_number:
        any_of.append({"type": "string"})
    if allow_dist:
        any_of.append(DIST_PLACEHOLDER)
    schema: dict = {"anyOf": any_of, "description": description}
    if example is not None:
        schema["examples"] = [example]
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


Rate = param_type(
    parse_rate_per_day, lo=0,
    description="Units per day: a number, a string such as '1200/month' (30 d) or '5e4/year' (365 d), or a distribution drawn once per replication.",
    example="1200/month",
)
Quantity = param_type(
    parse_number, lo=0,
    description="A non-negative amount in the product's unit, or a distribution drawn once per replication.",
)
PerUnit = param_type(
    parse_number, lo=0, lo_strict=True,
    description="Input needed per unit of output (> 0), or a distribution drawn once per replication.",
)
Fraction = param_type(
    parse_number, lo=0, hi=1,
    description="A share between 0 and 1, or a distribution drawn once per replication.",
)
LeadTime = param_type(
    parse_duration_days, lo=1, dist_lo=0,
    description="Days (a number or '35d', '2w', '6m', '1y'), or a distribution drawn per shipment. Rounded to whole days, at least 1.",
    example={"dist": "triangular", "low": 180, "mode": 270, "high": 400},
)


def _validate_horizon(value: Any) -> int:
    days = parse_duration_days(value, "horizon")
    whole = whole_days(days)
    if whole < 1:
        raise ValueError(f"horizon must be at least 1 day, got {value!r}")
    return whole


Horizon = Annotated[
    int,
    PlainValidator(_validate_horizon),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
                    "description": "Simulated days: a number or '90d', '12w', '18m' (30 d), '3y' (365 d).",
                    "examples": ["3y"]}),
]


def _validate_dayref(value: Any):
    """A day number (int), a calendar date, or a duration string counted from day 0."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        days = parse_duration_days(value, "day")
        return whole_days(days)
    number = parse_number(value, "day")
    if number != int(number):
        raise ValueError(f"a day number must be whole, got {value!r}")
    return int(number)


DayRef = Annotated[
    Any,
    PlainValidator(_validate_dayref),
    PlainSerializer(lambda v: v.isoformat() if isinstance(v, _dt.date) else int(v)),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "format": "date"}, {"type": "string"}],
                    "description": "A calendar date (2025-04-04), a day number (0 = start_date) or an offset such as '6m'."}),
]


# --- selectors -------------------------------------------------------------------------

class RegionSelector(StrictModel):
    """Every node whose ``region`` is one of the given codes."""

    region: Union[str, list[str]]

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.region,) if isinstance(self.region, str) else tuple(self.region)


class EntitySelector(StrictModel):
    """Nodes of an entity; with ``affiliates``, also nodes it owns at least that share of."""

    entity: str
    affiliates: Optional[float] = Field(default=None, ge=0, le=1)


NodeSelector = Union[str, list[str], RegionSelector, EntitySelector]


def _validate_selector(value: Any):
    if isinstance(value, (RegionSelector, EntitySelector)):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if not value or not all(isinstance(v, str) for v in value):
            raise ValueError("a list of nodes must hold node ids (strings) and not be empty")
        return tuple(value)
    if isinstance(value, dict):
        model = RegionSelector if "region" in value else EntitySelector if "entity" in value else None
        if model is None:
            raise ValueError("a selector mapping needs 'region' or 'entity', e.g. {region: CN} or {entity: Huawei, affiliates: 0.5}")
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
            {"type": "object", "properties": {"region": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}}, "required": ["region"], "additionalProperties": False},
            {"type": "object", "properties": {"entity": {"type": "string"}, "affiliates": {"type": "number", "minimum": 0, "maximum": 1}}, "required": ["entity"], "additionalProperties": False},
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


def distribution_json_schema() -> dict:
    """JSON Schema of the distribution mapping, referenced as ``#/$defs/Distribution``."""
    return _DIST_ADAPTER.json_schema(ref_template="#/$defs/{model}")
