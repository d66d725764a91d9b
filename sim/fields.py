"""Field types shared by the scenario schema: quantities, distributions, selectors.

Each type parses the friendly spellings analysts write (``"1200/month"``, ``"90d"``,
``{dist: ...}``) into one plain value, and fails with a single clear message, so the
loader can report one line per problem rather than a cascade of union errors.
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from .distributions import DIST_TYPES, MAX_PARAMETER, NON_NUMERIC_KEYS, Distribution, is_distribution
from .quantities import parse_duration_days, parse_number, parse_rate_per_day, whole_days

_DIST_ADAPTER = TypeAdapter(Distribution)
# pydantic cannot follow a hand-written $ref inside WithJsonSchema, so distribution slots
# carry this marker and scenario_json_schema() swaps in the reference afterwards.
DIST_PLACEHOLDER = {"type": "object", "x-chipsim-distribution": True}


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters"
    return f"{text[:limit]}... ({size})"


def _finite(parse: Callable[[object, str], float]) -> Callable[[object, str], float]:
    """``parse`` that also refuses infinite results ('1e400d') and integers too large for a
    float (a 400-digit day number), with a message instead of an OverflowError."""

    def run(value: object, what: str = "value") -> float:
        try:
            number = parse(value, what)
        except OverflowError:
            raise ValueError(f"{what} {_short(value)} is too large") from None
        if not math.isfinite(number):
            raise ValueError(f"{what} must be finite, got {_short(value)}")
        return number

    return run


_number = _finite(parse_number)
# Day numbers, durations and review times beyond this are typos (the horizon is at most
# 36,500 days), and would overflow the calendar (dates end in year 9999).
MAX_DAYS = 100_000


def _within_days(parse: Callable[[object, str], float]) -> Callable[[object, str], float]:
    def run(value: object, what: str = "value") -> float:
        days = parse(value, what)
        if abs(days) > MAX_DAYS:
            raise ValueError(f"{what} {_short(value)} is more than {MAX_DAYS:,} days (about 270 years)")
        return days

    return run


_duration = _within_days(_finite(parse_duration_days))


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


_PER_EVENT = "a shared draw is one value per replication; this value is drawn for every {}, so it cannot be shared"


def _parse_dist(value: dict, param_parser: Callable[[object, str], float] | None):
    if "dist" not in value:
        raise ValueError(
            "a mapping here must be a distribution with a 'dist' key, e.g. "
            "{dist: uniform, low: 1, high: 2}"
        )
    if param_parser is not None:
        value = {
            k: (param_parser(v, f"distribution parameter '{k}'") if k not in NON_NUMERIC_KEYS and isinstance(v, str) else v)
            for k, v in value.items()
        }
    try:
        dist = _DIST_ADAPTER.validate_python(value)
    except ValidationError as exc:
        raise ValueError(_first_error(exc)) from None
    for name, param in dist:
        if isinstance(param, float) and not math.isfinite(param):
            raise ValueError(f"distribution parameter '{name}' must be finite, got {param}")
    return dist


def parse_distribution(value: dict, parse: Callable[[object, str], float] = parse_number):
    """A distribution mapping checked and parsed (its string parameters read by ``parse``)."""
    return _parse_dist(value, _finite(parse))


def _bounds_text(lo: float | None, lo_strict: bool, hi: float | None, hi_strict: bool = False) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_strict else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_strict else '<='} {hi:g}")
    return " and ".join(parts)


def param_type(
    parse: Callable[[object, str], float],
    *,
    lo: float | None = None,
    lo_strict: bool = False,
    hi: float | None = None,
    hi_strict: bool = False,
    whole: bool = False,
    integer: bool = False,
    allow_dist: bool = True,
    dist_lo: float | None = None,
    per_event: str | None = None,
    description: str,
    example: object = None,
):
    """An annotated type for a number that may also be a string form or a distribution.

    Distributions are accepted when ``allow_dist``; their lower end is checked against
    ``lo`` where it is bounded, and draws are clipped into range by the network builder.
    ``whole``: a fixed value is rounded to whole days (an ``int``), as is every draw;
    ``integer``: a fixed value must be whole already (draws are rounded).
    The validator carries its range as ``bounds`` (low, high, whole) for the code that
    draws the value (``sim.resolution``).
    """

    safe_parse = _finite(parse)

    def check(x: float) -> float:
        # the field's own range first: its message names the bound the reader can act on
        if lo is not None and (x < lo or (lo_strict and x == lo)):
            raise ValueError(f"must be {_bounds_text(lo, lo_strict, hi)}, got {x:g}")
        if hi is not None and (x > hi or (hi_strict and x == hi)):
            raise ValueError(f"must be {_bounds_text(lo, lo_strict, hi, hi_strict)}, got {x:g}")
        if abs(x) > MAX_PARAMETER:  # beyond it draws and sums overflow (see distributions.py)
            raise ValueError(f"must be at most {MAX_PARAMETER:.0e} in size, got {x:g}")
        if integer and x != int(x):
            raise ValueError(f"must be a whole number of days (an integer), got {x:g}")
        if whole or integer:
            days = whole_days(x)
            if lo is not None and (days < lo or (lo_strict and days == lo)):
                raise ValueError(f"must be {_bounds_text(lo, lo_strict, hi, hi_strict)} whole days, got {x:g}")
            return days
        return x

    def validate(value: Any):
        if is_distribution(value):
            return value
        if isinstance(value, dict):
            if not allow_dist:
                raise ValueError("a distribution is not allowed here; give a fixed value")
            dist = _parse_dist(value, safe_parse)
            if per_event is not None and dist.shared is not None:
                raise ValueError(_PER_EVENT.format(per_event))
            low, floor = dist.lowest(), lo if dist_lo is None else dist_lo
            if floor is not None and math.isfinite(low) and low < floor:
                raise ValueError(f"distribution can fall below the allowed range (>= {floor:g})")
            high = dist.highest()
            if hi is not None and math.isfinite(high) and (high > hi or (hi_strict and high == hi)):
                raise ValueError(f"distribution can rise above the allowed range ({'<' if hi_strict else '<='} {hi:g})")
            return dist
        return check(safe_parse(value, "value"))

    # the range a draw is clipped to: a strict bound is kept off by a hair (a die area of 0
    # divides by zero); a whole number of days rounds up to the bound
    eps = 1.0 if whole or integer else 1e-12
    validate.bounds = (  # type: ignore[attr-defined]
        -math.inf if lo is None else (lo + eps if lo_strict else lo),
        math.inf if hi is None else (hi - eps if hi_strict else hi),
        whole or integer,
    )
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
    description="Units per day: a number, a string such as '1200/month' (30 d) or '5e4/year' (365 d), or a distribution drawn "
                "once per replication.",
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
_FRACTION_VALIDATE = Fraction.__metadata__[0].func
Growth = param_type(
    parse_number, lo=-1, lo_strict=True, hi=1e6,
    description="Growth per year (0.05 = 5%; above -1), or a distribution drawn once per replication.",
)
Multiplier = param_type(
    parse_number, lo=0, hi=1e6,
    description="A factor (0.5 halves, 1.3 adds 30%), or a distribution drawn once per replication.",
)
PositiveMultiplier = param_type(
    parse_number, lo=0, lo_strict=True, hi=1e6,
    description="A factor above 0 (2 doubles), or a distribution drawn once per replication.",
)
Share = param_type(
    parse_number, lo=0,
    description="A weight (>= 0) normalised among its group, or a distribution drawn once per replication.",
)
AtLeastOne = param_type(
    parse_number, lo=1, hi=100,
    description="A factor of at least 1 (1.3 adds 30%), or a distribution drawn once per replication.",
)
EfficiencyGain = param_type(
    parse_number, lo=0, hi=100,
    description="Gain per year (0.3 = 30%; >= 0), or a distribution drawn once per replication.",
)
CoverDays = param_type(
    parse_number, lo=0, hi=MAX_DAYS,
    description="Days of the node's own daily use (>= 0), or a distribution drawn once per replication.",
)
LeadTime = param_type(
    parse_duration_days, lo=1, dist_lo=0, per_event="shipment",
    description="Days (a number or '35d', '2w', '6m', '1y'), or a distribution drawn per shipment. Rounded to whole days, at "
                "least 1.",
    example={"dist": "triangular", "low": 180, "mode": 270, "high": 400},
)


def _validate_horizon(value: Any) -> int:
    days = _finite(parse_duration_days)(value, "horizon")  # its own, tighter limit below
    whole = whole_days(days)
    if whole < 1:
        raise ValueError(f"horizon must be at least 1 day, got {value!r}")
    if whole > 36_500:  # a typo such as 3000y should not start a run
        raise ValueError(f"horizon is {whole} days; chipsim simulates at most 36500 days (100 years)")
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
        days = _duration(value, "day")
        return whole_days(days)
    number = _within_days(_number)(value, "day")
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

def distribution_json_schema() -> dict:
    """JSON Schema of the distribution mapping, referenced as ``#/$defs/Distribution``."""
    return _DIST_ADAPTER.json_schema(ref_template="#/$defs/{model}")


# --- whole-day durations, review times and schedules ---------------------------------

def _validate_days(value: Any) -> int:
    days = _duration(value, "duration")
    if days < 0:
        raise ValueError(f"must be >= 0 days, got {value!r}")
    return whole_days(days)


Days = Annotated[
    int,
    PlainValidator(_validate_days),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
                    "description": "Whole days: a number or '90d', '12w', '6m' (30 d), '1y' (365 d)."}),
]

_WORKING_DAYS_RE = __import__("re").compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*wd\s*$")


def _working_days(value: object) -> float | None:
    if isinstance(value, str):
        match = _WORKING_DAYS_RE.match(value)
        if match:
            return float(match.group(1))
    return None


class ReviewTime(StrictModel):
    """A review period: a fixed value or a distribution, in calendar or working days."""

    value: Any
    working_days: bool = False


def _validate_review(value: Any) -> ReviewTime:
    if isinstance(value, ReviewTime):
        return value
    if isinstance(value, dict):
        if value.get("shared") is not None:
            raise ValueError(_PER_EVENT.format("shipment under review"))
        params = {k: v for k, v in value.items() if k not in NON_NUMERIC_KEYS}
        working = [isinstance(v, str) and _working_days(v) is not None for v in params.values()]
        if any(working) and not all(w or not isinstance(v, str) for w, v in zip(working, params.values(), strict=True)):
            raise ValueError("give every parameter of a review-time distribution in the same unit")
        as_wd = any(working)
        converted = {k: (_working_days(v) if as_wd and k not in NON_NUMERIC_KEYS and isinstance(v, str) else v)
                     for k, v in value.items()}
        dist = _parse_dist(converted, None if as_wd else _duration)
        if math.isfinite(dist.lowest()) and dist.lowest() < 0:
            raise ValueError("a review time cannot be negative")
        if dist.mean_value() > MAX_DAYS or (math.isfinite(dist.highest()) and dist.highest() > MAX_DAYS):
            raise ValueError(f"a review time of more than {MAX_DAYS:,} days is not plausible")
        return ReviewTime(value=dist, working_days=as_wd)
    wd = _working_days(value)
    if wd is not None:
        if not math.isfinite(wd) or wd > MAX_DAYS:
            raise ValueError(f"a review time must be finite and at most {MAX_DAYS:,} working days, got {_short(value)}")
        if wd < 0:
            raise ValueError(f"a review time cannot be negative, got {value!r}")
        return ReviewTime(value=float(wd), working_days=True)
    try:
        days = _duration(value, "review time")
    except ValueError:
        raise ValueError(f"review time {value!r} is not a duration; write calendar days (45, '9w') "
                         "or working days ('45wd', Monday to Friday)") from None
    if days < 0:
        raise ValueError(f"a review time cannot be negative, got {value!r}")
    return ReviewTime(value=days, working_days=False)


def _dump_review(review: ReviewTime):
    if is_distribution(review.value):
        doc = review.value.model_dump()
        if review.working_days:
            doc = {k: (f"{v:g}wd" if k not in NON_NUMERIC_KEYS else v) for k, v in doc.items()}
        return doc
    return f"{review.value:g}wd" if review.working_days else review.value


ReviewDays = Annotated[
    Any,
    PlainValidator(_validate_review),
    PlainSerializer(_dump_review),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}, DIST_PLACEHOLDER],
                    "description": "Days of review per shipment: calendar days (45, '9w') or working days ('45wd', Monday to "
                                   "Friday); a distribution is drawn per shipment."}),
]


class RateStep(StrictModel):
    """One step of a schedule: ``rate`` applies from ``after`` (since the shock's start) or
    ``from`` (a day reference) until the next step."""

    DRAWN: ClassVar[tuple[str, ...]] = ('rate',)  # drawn per replication (sim.resolution)

    after: Days | None = Field(default=None, description="Offset from the shock's start, e.g. '2m'.")
    from_: Any | None = Field(default=None, alias="from", description="A date or day number.")
    rate: Fraction  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_anchor(self):
        if self.after is not None and self.from_ is not None:
            raise ValueError("give a step either `after` or `from`, not both")
        if self.from_ is not None:
            object.__setattr__(self, "from_", _validate_dayref(self.from_))
        return self


def _validate_schedule(value: Any):
    """A fixed share, a distribution, or a list of steps (the first may omit its anchor)."""
    if isinstance(value, list):
        if not value:
            raise ValueError("a schedule needs at least one step")
        steps = []
        for i, item in enumerate(value):
            if isinstance(item, RateStep):
                steps.append(item)
                continue
            if not isinstance(item, dict):
                raise ValueError(f"step {i + 1}: expected a mapping like {{after: 2m, rate: 0.6}}, got {item!r}")
            try:
                steps.append(RateStep.model_validate(item))
            except ValidationError as exc:
                raise ValueError(f"step {i + 1}: {_first_error(exc)}") from None
        for i, step in enumerate(steps[1:], start=2):
            if step.after is None and step.from_ is None:
                raise ValueError(f"step {i}: every step after the first needs `after` or `from`")
        return tuple(steps)
    return _FRACTION_VALIDATE(value)


Schedule = Annotated[
    Any,
    PlainValidator(_validate_schedule),
    PlainSerializer(lambda v: [s.model_dump(by_alias=True, exclude_none=True, mode="json") for s in v]
                    if isinstance(v, tuple) else v),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, DIST_PLACEHOLDER,
                              {"type": "array", "items": {"type": "object", "properties": {
                                  "after": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                                  "from": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                                  "rate": {"type": "number", "minimum": 0, "maximum": 1}},
                                  "required": ["rate"], "additionalProperties": False}}],
                    "description": "A share (0..1), a distribution drawn per replication, or a schedule of steps [{rate: 0.25}, "
                                   "{after: 2m, rate: 0.6}]."}),
]


class Window(StrictModel):
    """A span of days ``start <= d < end``."""

    start: DayRef
    end: DayRef

    @model_validator(mode="after")
    def _ordered(self):
        if type(self.start) is type(self.end) and not self.end > self.start:
            raise ValueError(f"a window's end ({self.end}) must come after its start ({self.start})")
        return self


class Anticipation(StrictModel):
    """How buyers react to an announced shock before it starts."""

    DRAWN: ClassVar[tuple[str, ...]] = ('days_of_cover',)  # drawn per replication (sim.resolution)

    days_of_cover: CoverDays = Field(  # type: ignore[valid-type]
        description="Buyers on the affected lanes order up to this many days of their own use until the shock starts.",
    )
