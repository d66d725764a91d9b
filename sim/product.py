"""A product of the scenario file: its unit, kind, price, market and free numeric
attributes (performance, power, bandwidth), any of which may be a distribution."""
from __future__ import annotations

import difflib
import math
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from .behaviour import Market
from .distributions import is_distribution
from .fields import Quantity, StrictModel, parse_distribution
from .quantities import parse_number

# attributes with a range of their own: (lowest allowed, whether the lowest is excluded)
_ATTRIBUTE_FLOORS = {"system_power_factor": (0.0, True), "memory_bandwidth_tbs": (0.0, False)}


def _is_finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _attribute(key: str, value: object):
    """A free attribute checked: a finite number in its range, or a distribution that stays in it."""
    floor, strict = _ATTRIBUTE_FLOORS.get(key, (-math.inf, False))
    rule = f"'{key}' must be {'above' if strict else 'at least'} {floor:g}"
    if isinstance(value, dict):
        dist = parse_distribution(value, parse_number)
        low = dist.lowest()
        if low < floor or (strict and low == floor):
            raise ValueError(f"{rule}; its distribution can fall to {low:g} (use a bounded one such as triangular)")
        return dist
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _is_finite(value):
        raise ValueError(
            f"extra product attribute '{key}' must be a finite number (e.g. tflops_bf16: 989) or a distribution, "
            f"got {value!r}"
        )
    if value < floor or (strict and value == floor):
        raise ValueError(f"{rule}, got {value}")
    return value


class Product(StrictModel):
    """A good that moves through the chain. Extra numeric attributes are allowed."""

    DRAWN: ClassVar[tuple[str, ...]] = ("price",)  # drawn per replication (sim.resolution)
    # the free attributes are drawn too, each clipped to its floor (a strict one kept off by a hair)
    DRAWN_EXTRAS: ClassVar[dict[str, tuple[float, float, bool]]] = {
        key: (floor + 1e-12 if strict else floor, math.inf, False) for key, (floor, strict) in _ATTRIBUTE_FLOORS.items()}

    model_config = ConfigDict(extra="allow", frozen=True)
    label: str | None = Field(default=None, description="Display text for charts and briefings (default: derived from the id).")
    unit: str = Field(default="unit", description="Unit of quantities of this product (t, die, chip, tool, ...).")
    kind: Literal["material", "equipment"] = Field(
        default="material", description="material is consumed by recipes; equipment is a capital stock.")
    price: Quantity | None = Field(default=None, description="Value per unit, used by the cost metric (what buyers pay); a "
                                                          "distribution is drawn once per replication.")
    market: Market | None = Field(
        default=None, description="Price formed by scarcity at each demand node, demand that responds (needs `price`).")

    @model_validator(mode="after")
    def _numeric_extras(self):
        if self.market is not None and not (self.price.lowest() > 0 if is_distribution(self.price) else self.price):
            raise ValueError("a product with `market` needs a base `price` above 0 (currency per unit); a distribution "
                             "must stay above 0 (e.g. triangular or lognormal)")
        known = [n for n in type(self).model_fields]
        extras = self.model_extra or {}
        for key, value in list(extras.items()):
            close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.75)
            if close:
                raise ValueError(f"unknown product field '{key}' (did you mean '{close[0]}'?)")
            extras[key] = _attribute(key, value)  # a distribution mapping becomes its model
        return self

    @property
    def attributes(self) -> dict[str, float]:
        """The free numeric attributes (performance, power, ...), once every distribution
        among them is drawn (``sim.resolution``)."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}
