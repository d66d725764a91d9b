"""Distributions that may stand in for any numeric scenario parameter.

A scenario writes ``{dist: triangular, low: 180, mode: 270, high: 400}``; the engine
gets a sampler bound to one of the replication's named random streams. Parameters are
in the unit of the field they replace (days for lead times, units/day for capacity).
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

if TYPE_CHECKING:  # numpy is imported where used, so loading a scenario stays fast
    import numpy as np

# No supply-chain quantity (units, days, currency, FLOPS per day) comes near 1e15, and
# beyond it float arithmetic loses whole units; larger parameters are refused at the edge
# instead of overflowing in a draw (Poisson means >= 2^63 raise in numpy).
MAX_PARAMETER = 1e15
SHARED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
# the families whose quantile function is closed-form: a shared draw is a common quantile
SHARED_FAMILIES = ("uniform", "triangular")
# the keys of a distribution mapping that are not numbers (parsers skip them)
NON_NUMERIC_KEYS = ("dist", "shared", "opposite")


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Every distribution naming the same ``shared`` draw takes one common quantile u per
    # replication (1 - u with ``opposite``), so linked figures move together: a share and
    # its complement, or a capacity derived from the share. None: an independent draw.
    shared: str | None = None
    opposite: bool | None = None

    @model_validator(mode="after")
    def _finite_and_bounded(self):
        for name, value in self:
            if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= MAX_PARAMETER):
                raise ValueError(f"{name} must be a finite number of size at most {MAX_PARAMETER:.0e} (got {value!r})")
        if self.shared is not None:
            if not SHARED_NAME.fullmatch(self.shared):
                raise ValueError(f"shared must be a name of letters, digits, '_', '.' or '-' (at most 64, starting with a "
                                 f"letter or '_'), got {self.shared[:80]!r}")
            if getattr(self, "dist", None) not in SHARED_FAMILIES:
                raise ValueError(f"a shared draw needs a uniform or triangular distribution, not {getattr(self, 'dist', '?')}")
        elif self.opposite is not None:
            raise ValueError("opposite applies to a shared draw: give shared: <name> as well")
        return self

    @model_serializer(mode="wrap")
    def _without_unset_link(self, handler):
        # an independent distribution dumps exactly as before the shared draws existed
        out = handler(self)
        if isinstance(out, dict):
            for key in ("shared", "opposite"):
                if out.get(key) is None:
                    out.pop(key, None)
        return out

    def quantile(self, u: float) -> float:
        """The value at quantile ``u`` in [0, 1] (uniform and triangular only)."""
        raise NotImplementedError

    def lowest(self) -> float:
        """Smallest value the distribution can produce (-inf when unbounded)."""
        raise NotImplementedError

    def highest(self) -> float:
        """Largest value the distribution can produce (inf when unbounded)."""
        return math.inf

    def mean_value(self) -> float:
        """Expected value, used where chipsim needs a nominal figure."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int | None = None):
        """Draw ``size`` values (or one float) from ``rng``."""
        raise NotImplementedError


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.high:
            raise ValueError(f"uniform needs low <= high (got low={self.low}, high={self.high})")
        return self

    def lowest(self) -> float:
        """Smallest possible value."""
        return self.low

    def highest(self) -> float:
        """Largest possible value."""
        return self.high

    def mean_value(self) -> float:
        """Expected value."""
        return 0.5 * (self.low + self.high)

    def sample(self, rng, size=None):
        """Draw ``size`` values (or one float) from ``rng``."""
        return rng.uniform(self.low, self.high, size)

    def quantile(self, u: float) -> float:
        """The value at quantile ``u``."""
        return self.low + u * (self.high - self.low)


class Triangular(_Dist):
    """Triangular with minimum ``low``, most likely value ``mode`` and maximum ``high``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                "triangular needs low <= mode <= high "
                f"(got {self.low}, {self.mode}, {self.high})"
            )
        return self

    def lowest(self) -> float:
        """Smallest possible value."""
        return self.low

    def highest(self) -> float:
        """Largest possible value."""
        return self.high

    def mean_value(self) -> float:
        """Expected value."""
        return (self.low + self.mode + self.high) / 3.0

    def sample(self, rng, size=None):
        """Draw ``size`` values (or one float) from ``rng``."""
        import numpy as np

        if self.low == self.high:
            return np.full(size, self.low) if size is not None else float(self.low)
        return rng.triangular(self.low, self.mode, self.high, size)

    def quantile(self, u: float) -> float:
        """The value at quantile ``u`` (the inverse of the triangular CDF)."""
        width = self.high - self.low
        if width == 0:
            return self.low
        cut = (self.mode - self.low) / width
        if u <= cut:
            return self.low + math.sqrt(u * width * (self.mode - self.low))
        return self.high - math.sqrt((1.0 - u) * width * (self.high - self.mode))


class Normal(_Dist):
    """Normal with mean ``mean`` and standard deviation ``sd``."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)

    def lowest(self) -> float:
        """Smallest possible value."""
        return -math.inf if self.sd > 0 else self.mean

    def mean_value(self) -> float:
        """Expected value."""
        return self.mean

    def sample(self, rng, size=None):
        """Draw ``size`` values (or one float) from ``rng``."""
        return rng.normal(self.mean, self.sd, size)


class LogNormal(_Dist):
    """Log-normal given the mean and standard deviation of the value itself."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(ge=0)

    @model_validator(mode="after")
    def _spread_representable(self):
        # sigma^2 = log(1 + (sd/mean)^2) must stay finite for the draw
        if self.sd > 1e6 * self.mean:
            raise ValueError(f"lognormal sd ({self.sd!r}) is more than a million times its mean ({self.mean!r})")
        return self

    def lowest(self) -> float:
        """Smallest possible value."""
        return 0.0

    def mean_value(self) -> float:
        """Expected value."""
        return self.mean

    def sample(self, rng, size=None):
        """Draw ``size`` values (or one float) from ``rng``."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - 0.5 * sigma2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Poisson(_Dist):
    """Poisson with mean ``mean`` (whole numbers)."""

    dist: Literal["poisson"]
    mean: float = Field(ge=0)

    def lowest(self) -> float:
        """Smallest possible value."""
        return 0.0

    def mean_value(self) -> float:
        """Expected value."""
        return self.mean

    def sample(self, rng, size=None):
        """Draw ``size`` values (or one float) from ``rng``."""
        out = rng.poisson(self.mean, size)
        return out.astype(float) if size is not None else float(out)


Distribution = Annotated[
    Uniform | Triangular | Normal | LogNormal | Poisson, Field(discriminator="dist")
]
DIST_TYPES: dict[str, type[_Dist]] = {
    "uniform": Uniform,
    "triangular": Triangular,
    "normal": Normal,
    "lognormal": LogNormal,
    "poisson": Poisson,
}


def is_distribution(value: object) -> bool:
    """Whether ``value`` is a distribution spec (rather than a fixed number)."""
    return isinstance(value, _Dist)


def range_end(value, low: bool = False) -> float:
    """A fixed value, or the upper (``low``: lower) end of a distribution's range, infinite
    when it is unbounded: the value a check must allow for whatever is drawn."""
    if isinstance(value, _Dist):
        return value.lowest() if low else value.highest()
    return float(value)


def draw_value(value, rng: np.random.Generator | None, low: float = -math.inf, high: float = math.inf,
               quantile: float | None = None) -> float:
    """A fixed number as it is, or one draw of a distribution clipped to ``[low, high]``;
    a shared draw takes its value at the replication's common ``quantile`` of its name
    (it needs no ``rng``)."""
    if isinstance(value, _Dist):
        if value.shared is not None:
            if quantile is None:
                raise ValueError(f"the shared draw '{value.shared}' needs its replication's quantile")
            x = value.quantile(1.0 - quantile if value.opposite else quantile)
        elif rng is None:
            raise ValueError("a distribution that is not a shared draw needs its random stream")
        else:
            x = float(value.sample(rng))
        return float(min(max(x, low), high))
    return float(value)
