"""What every shock and policy spec shares: timing (``start``, ``end``, ``suspended``),
a label, the ``check`` and ``build`` interface, and the registry of a spec union.

A spec is a pydantic model (its YAML schema); ``build`` turns it into the engine
``Effect`` objects (``effects.py``) that act for it in one replication.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from pydantic import Field, StrictInt, ValidationInfo, field_validator, model_validator

from .effects import Effect, active_intervals
from .fields import (
    DayRef,
    Days,
    StrictModel,
    Window,
)
from .metrics import reference_window
from .quantities import day_number

if TYPE_CHECKING:  # pragma: no cover

    from .replication import BuildContext


class ShockSpec(StrictModel):
    """Fields shared by every shock: when it acts, suspensions, and a label for charts."""

    kind: ClassVar[str] = "shock"
    type: str
    name: str | None = Field(default=None, description="Identifier a scenario may refer to (e.g. in `reference_shock:`); "
                                                       "shown in charts when there is no `label`.")
    label: str | None = Field(default=None, description="Display text for charts and briefings (default: `name`).")
    start: DayRef = Field(description="First day the shock acts: a date, a day number or an offset like '6m'.")
    end: DayRef | None = Field(default=None, description="First day it no longer acts; open-ended when absent.")
    duration: Days | None = Field(
        default=None,
        description="Days it acts, instead of `end` (end = start + duration, e.g. '6m'); not both.",
    )
    suspended: list[Window] = Field(
        default_factory=list,
        description="Windows during which the rule is paused (e.g. announced, suspended for a year, resumed).",
    )
    stream: StrictInt | None = Field(
        default=None, ge=0, le=1_000_000,
        description="Number of the random streams the item draws from (licence decisions, drawn fields). By "
                    "default one more than the previous item's (the first: 0), which is its position. `without:` "
                    "sets it on the items after a dropped one, so that they keep the draws they had in the parent "
                    "file (common random numbers); rarely written by hand.",
    )

    @field_validator("duration")
    @classmethod
    def _not_both(cls, value, info: ValidationInfo):
        if value is not None and info.data.get("end") is not None:
            raise ValueError("give `end` or `duration`, not both")
        if value is not None and value < 1:
            raise ValueError("duration must be at least 1 day")
        return value

    @model_validator(mode="after")
    def _end_after_start(self):
        return self._fold_duration()

    def _fold_duration(self):
        """Fold ``duration`` into ``end`` and check that ``end`` comes after ``start``."""
        if self.duration is not None and self.end is None and "start" in self.__dict__:
            # end = start + duration, in the start's own kind (date or day number); the
            # duration is folded into `end` so the resolved scenario reads back equal
            end = self.start + _dt.timedelta(days=self.duration) if isinstance(self.start, _dt.date) \
                else self.start + self.duration
            object.__setattr__(self, "end", end)
            object.__setattr__(self, "duration", None)
        start, end = self.start, self.end
        if end is not None and type(start) is type(end) and not end > start:
            raise ValueError(f"end ({end}) must come after start ({start})")
        return self

    def stream_key(self, ctx: BuildContext, index: int) -> str:
        """The prefix of this item's random stream names: ``shocks.<n>`` or ``policies.<n>``,
        ``n`` its stream number (``stream_numbers``) for its position ``index``."""
        kind = "shocks" if self.kind == "shock" else "policies"
        return f"{kind}.{ctx.stream_number(kind, index)}"

    def display_label(self, index: int) -> str:
        """Text shown in charts: ``label``, else ``name``, else the type and 1-based position."""
        return self.label or self.name or f"{self.type} #{index + 1}"

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




def reference_index(scenario: Any) -> int | None:
    """Position in ``scenario.shocks`` of the shock named by ``reference_shock`` (None
    when it names none: then the rule of ``metrics.reference_window`` picks one)."""
    wanted = scenario.reference_shock
    if wanted is None:  # not ``None in names``: that would pick the first unnamed shock
        return None
    names = [s.name for s in scenario.shocks]
    return names.index(wanted) if wanted in names else None


def resolved_windows(scenario: Any) -> list[dict[str, Any]]:
    """Every shock and policy with its dates resolved, in file order, one dict each:

    ``kind`` ("shock" or "policy"), ``index`` (position in its list), ``name``, ``label``
    (``display_label``), ``type``, ``start`` (a date), ``end`` (a date, or None when
    open-ended; the first day it no longer acts), ``start_day`` and ``end_day`` (day
    numbers, 0 = start_date), ``before_run`` (it began before day 0), ``reference``
    (it is the shock that survive and recover times count from) and ``suspended``
    (its paused windows as (first date, end date) pairs).
    """
    start_date = scenario.start_date
    shocks = [(day_number(s.start, start_date), None if s.end is None else day_number(s.end, start_date))
              for s in scenario.shocks]
    ref = reference_window(shocks, reference_index(scenario)) if shocks else None
    ref_index = reference_index(scenario)
    if ref_index is None and ref is not None:
        ref_index = shocks.index((ref.start, ref.end))
    out = []
    for kind, items in (("shock", scenario.shocks), ("policy", scenario.policies)):
        for i, spec in enumerate(items):
            if spec.start is None:  # a policy waiting for its trigger: no fixed window
                continue
            a = day_number(spec.start, start_date)
            b = None if spec.end is None else day_number(spec.end, start_date)
            out.append({"kind": kind, "index": i, "name": spec.name, "label": spec.display_label(i), "type": spec.type,
                        "start": start_date + _dt.timedelta(days=a),
                        "end": None if b is None else start_date + _dt.timedelta(days=b),
                        "start_day": a, "end_day": b, "before_run": a < 0,
                        "reference": kind == "shock" and i == ref_index,
                        "suspended": [tuple(start_date + _dt.timedelta(days=day_number(d, start_date)) for d in (w.start, w.end))
                                      for w in getattr(spec, "suspended", None) or ()]})
    return out


def shock_date_lines(scenario: Any) -> list[str]:
    """One line per shock, for the terminal: its label, the dates it acts, its pauses, and
    whether survive and recover times count from it."""
    from .sanitize import for_plain_terminal

    lines = []
    for w in resolved_windows(scenario):
        if w["kind"] != "shock":
            continue
        until = f"until {w['end']}" if w["end"] is not None else "open-ended"
        before = " (began before the run)" if w["before_run"] else ""
        paused = "".join(f"; paused {a} to {b}" for a, b in w["suspended"])
        reference = "; survive/recover times count from it" if w["reference"] else ""
        lines.append(for_plain_terminal(f"  shock '{w['label']}' ({w['type']}): from {w['start']} {until}{before}{paused}"
                                        f"{reference}"))
    return lines


def stream_numbers(items: Sequence[object]) -> list[int]:
    """The stream number of each item of a ``shocks`` or ``policies`` list: its ``stream``
    when set, else one more than the previous item's (the first: 0). Without any
    ``stream`` this is the position, as before the key existed."""
    return number_streams([getattr(item, "stream", None) for item in items])


def number_streams(given: Sequence[int | None]) -> list[int]:
    """The rule of ``stream_numbers`` on the numbers as written (None: not written), for
    checked items and for the raw entries ``without:`` drops from."""
    out: list[int] = []
    for number in given:
        out.append(number if number is not None else (out[-1] + 1 if out else 0))
    return out
