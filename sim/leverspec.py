"""What every shock and policy spec shares: timing (``start``, ``end``, ``suspended``),
a label, the ``check`` and ``build`` interface, and the registry of a spec union.

A spec is a pydantic model (its YAML schema); ``build`` turns it into the engine
``Effect`` objects (``effects.py``) that act for it in one replication.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, get_args

from pydantic import Field, model_validator

from .effects import Effect, active_intervals
from .fields import (
    DayRef,
    StrictModel,
    Window,
)

if TYPE_CHECKING:  # pragma: no cover

    from .network import BuildContext


class ShockSpec(StrictModel):
    """Fields shared by every shock: when it acts, suspensions, and a label for charts."""

    kind: ClassVar[str] = "shock"
    type: str
    name: str | None = Field(default=None, description="Label used in charts and briefings.")
    start: DayRef = Field(description="First day the shock acts: a date, a day number or an offset like '6m'.")
    end: DayRef | None = Field(default=None, description="First day it no longer acts; open-ended when absent.")
    suspended: list[Window] = Field(
        default_factory=list,
        description="Windows during which the rule is paused (e.g. announced, suspended for a year, resumed).",
    )

    @model_validator(mode="after")
    def _end_after_start(self):
        start, end = self.start, self.end
        if end is not None and type(start) is type(end) and not end > start:
            raise ValueError(f"end ({end}) must come after start ({start})")
        return self

    def label(self, index: int) -> str:
        """Name shown in charts: ``name``, else the type and 1-based position."""
        return self.name or f"{self.type} #{index + 1}"

    def intervals(self, ctx: BuildContext) -> list[tuple[int, int | None]]:
        """Active day intervals: ``[start, end)`` minus the suspended windows."""
        windows = [(ctx.day(w.start), ctx.day(w.end)) for w in self.suspended]
        return active_intervals(ctx.day(self.start), ctx.end_day(self.end), windows)

    def check(self, scenario) -> list[tuple[tuple, str]]:
        """Semantic problems needing the whole scenario: (path inside the item, message)."""
        return []

    def build(self, ctx: BuildContext, index: int) -> Effect:  # pragma: no cover - abstract
        """The engine effects of item ``index`` for one replication (None entries are skipped)."""
        raise NotImplementedError



def registry_of(union: Any) -> dict[str, type[ShockSpec]]:
    """``type`` tag -> spec class of a discriminated union of specs, in the union's order."""
    (members, *_) = get_args(union)
    return {get_args(spec.model_fields["type"].annotation)[0]: spec for spec in get_args(members)}


