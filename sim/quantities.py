"""Parsing of the scenario language's quantities: durations, rates and day references.

Conventions (scenario-format.md, section 1): a month is 30 days and a year 365 days.
Durations and drawn lead times are whole days.
"""
from __future__ import annotations

import datetime as _dt
import math
import re

DAYS_PER_UNIT = {"d": 1.0, "w": 7.0, "m": 30.0, "y": 365.0}
RATE_UNITS = {
    "d": 1.0, "day": 1.0,
    "w": 7.0, "wk": 7.0, "week": 7.0,
    "m": 30.0, "mo": 30.0, "month": 30.0,
    "q": 91.25, "quarter": 91.25,
    "y": 365.0, "yr": 365.0, "year": 365.0,
}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*([dwmy])\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/|per\s+)\s*([a-z]+)\s*$", re.IGNORECASE)


def _finite_number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return number


def parse_number(value: object, what: str = "value") -> float:
    """A finite number; numeric strings such as ``"1.5e6"`` are accepted too."""
    if isinstance(value, str):
        try:
            value = float(value.replace("_", ""))
        except ValueError:
            raise ValueError(f"{what} must be a number, got {value!r}") from None
    return _finite_number(value, what)


def parse_duration_days(value: object, what: str = "duration") -> float:
    """Days as a float from ``90``, ``"90d"``, ``"2w"``, ``"6m"`` (30 d) or ``"3y"`` (365 d)."""
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if not match:
            raise ValueError(
                f"{what} {value!r} is not a duration; write days as a number or "
                "with a unit: 90d, 2w, 6m (30 days), 3y (365 days)"
            )
        return float(match.group(1)) * DAYS_PER_UNIT[match.group(2)]
    return _finite_number(value, what)


def whole_days(days: float) -> int:
    """Round a duration to whole days (half up), as the day clock counts whole days."""
    return int(math.floor(days + 0.5))


def parse_rate_per_day(value: object, what: str = "rate") -> float:
    """Units per day from a number (already per day) or a string like ``"1200/month"``."""
    if isinstance(value, str):
        match = _RATE_RE.match(value.replace("_", ""))
        if match:
            unit = match.group(2).lower().rstrip("s") or match.group(2).lower()
            if unit not in RATE_UNITS:
                raise ValueError(
                    f"{what} {value!r}: unknown time unit {match.group(2)!r}; use "
                    "/day, /week, /month (30 d), /quarter or /year (365 d)"
                )
            return float(match.group(1)) / RATE_UNITS[unit]
        return parse_number(value, what)
    return _finite_number(value, what)


def day_number(ref: int | _dt.date, start_date: _dt.date) -> int:
    """Day index of a reference that is either a day number or a calendar date."""
    if isinstance(ref, _dt.date):
        return (ref - start_date).days
    return int(ref)
