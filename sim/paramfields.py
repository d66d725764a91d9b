"""Parameter types of the physical, market and policy fields that ``sim.fields`` does
not already define: die areas, tool counts, elasticities, fees, whole-day delays.

Each accepts a fixed value or a distribution (contract section 6: any numeric parameter
may be a distribution); ``sim.resolution`` draws the distributions once per replication.
"""
from __future__ import annotations

from .fields import MAX_DAYS, param_type
from .quantities import parse_duration_days, parse_number

_ONCE = "or a distribution drawn once per replication"

PositiveSize = param_type(
    parse_number, lo=0, lo_strict=True, hi=1e15,
    description=f"A size above 0 (mm, mm^2 or a count of tools), {_ONCE}.",
)
Amount = param_type(
    parse_number, lo=0, hi=1e15,
    description=f"A non-negative amount (units, mm, defects per cm^2, currency), {_ONCE}.",
)
Elasticity = param_type(
    parse_number, hi=0, hi_strict=True,
    description=f"A price elasticity of demand below 0 (-0.7: a 10% dearer price cuts demand by about 7%), {_ONCE}.",
)
PriceCap = param_type(
    parse_number, lo=1, hi=1e6,
    description=f"A cap on the scarcity price multiplier (>= 1), {_ONCE}.",
)
OpenFraction = param_type(
    parse_number, lo=0, lo_strict=True, hi=1,
    description=f"A share above 0 and at most 1, {_ONCE}.",
)
InnerShare = param_type(
    parse_number, lo=0, lo_strict=True, hi=1, hi_strict=True,
    description=f"A share strictly between 0 and 1, {_ONCE}.",
)
Fee = param_type(
    parse_number, lo=0, hi=10,
    description=f"A fee as a share of shipment value (0.25 = 25%, at most 10), {_ONCE}.",
)
HoldDays = param_type(
    parse_duration_days, lo=0, lo_strict=True, hi=MAX_DAYS,
    description=f"Days above 0 (a number or '30d', '2w', '6m'), {_ONCE}.",
)
Exponent = param_type(
    parse_number, lo=0, lo_strict=True, hi=100,
    description=f"An exponent above 0 and at most 100, {_ONCE}.",
)
DrawnDays = param_type(
    parse_duration_days, lo=0, hi=MAX_DAYS, whole=True,
    description=f"Whole days (a number or '90d', '12w', '6m' (30 d), '1y' (365 d)), {_ONCE} and rounded to whole days.",
)
DrawnDaysAtLeastOne = param_type(
    parse_duration_days, lo=1, hi=MAX_DAYS, whole=True,
    description=f"Whole days, at least 1 (a number or '30d', '6m', '1y'), {_ONCE} and rounded to whole days.",
)
WholeDays = param_type(
    parse_number, lo=1, hi=MAX_DAYS, integer=True,
    description=f"A whole number of days from 1 to 100,000, {_ONCE} and rounded to whole days.",
)
