"""Policies that wait for a signpost (contract section 12): ``trigger:`` and ``duration:``.

A trigger watches one daily metric of one (node, product) on each day's recorded,
end-of-day values. If d0 is the first day on which the condition (strictly ``above`` or
``below`` a threshold) has held on ``for_days`` consecutive days (d0 - for_days + 1 ... d0),
the policy starts on day d0 + 1 + ``delay``, or on its ``start`` if that is later, and acts
for ``duration`` days (to the end of the run without it). It fires at most once per
replication. ``PolicyTiming`` is the timing every policy shares; the engine's watcher is
``sim.engine.signposts``.
"""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator, model_validator

from .errors import did_you_mean
from .fields import DayRef, Days, StrictModel
from .leverspec import ShockSpec
from .paramfields import DrawnDays

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .effects import Effect
    from .replication import BuildContext

DEMAND_METRICS = ("demand", "delivered", "shortfall", "backlog")
# the daily metrics of section 9 a trigger may watch, plus cover and the market's price
TRIGGER_METRICS = (*DEMAND_METRICS, "inventory", "produced", "consumed", "shipped", "received", "capacity", "cost",
                   "cover_days", "price_multiplier")
TRIGGER_COLUMNS = ["policy", "label", "replication", "fired_day", "fired_date", "start_day", "start_date"]


class TriggerSpec(StrictModel):
    """A signpost: the condition on a recorded daily value that starts a policy."""

    # the build or decision delay is uncertain; the threshold and run length are the rule itself
    DRAWN: ClassVar[tuple[str, ...]] = ("delay",)  # drawn per replication (sim.resolution)

    metric: str = Field(description="Daily metric watched: a metric of section 9 (shortfall, inventory, ...), "
                                    "`cover_days` (free stock / daily use) or `price_multiplier` (market products).")
    node: str = Field(description="Node id whose value is watched.")
    product: str = Field(description="Product id whose value is watched.")
    above: float | None = Field(default=None, description="Fires when the value is strictly above this.")
    below: float | None = Field(default=None, description="Fires when the value is strictly below this.")
    for_days: Days = Field(default=1, description="Consecutive days the condition must hold (at least 1).")
    delay: DrawnDays = Field(default=0, description="Days from the day after it fired to the policy's start (e.g. '90d'); a "
                                                 "distribution is drawn once per replication.")

    @field_validator("for_days")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("for_days must be at least 1")
        return value

    @model_validator(mode="after")
    def _one_side(self):
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of `above` or `below`")
        return self

    @property
    def threshold(self) -> float:
        """The value compared with (in the metric's unit)."""
        return self.above if self.above is not None else self.below  # type: ignore[return-value]


class PolicyTiming(ShockSpec):
    """Timing every policy shares: a fixed ``start`` (day 0 by default) or a ``trigger``."""

    start: DayRef | None = Field(default=None, description="Day the policy is decided or starts acting (default day 0); "
                                                           "beside a `trigger`, the earliest day it may start.")
    trigger: TriggerSpec | None = Field(default=None, description="Start when a recorded daily value crosses a "
                                                                  "threshold (see 'Policies that wait for a signpost').")

    @model_validator(mode="after")
    def _end_after_start(self):
        if self.trigger is None:
            if self.start is None:
                object.__setattr__(self, "start", 0)
            return self._fold_duration()
        # triggered: `duration` counts from the day it starts, so it stays a duration
        start, end = self.start, self.end
        if start is not None and end is not None and type(start) is type(end) and not end > start:
            raise ValueError(f"end ({end}) must come after start ({start})")
        return self

    def build_started(self, ctx: BuildContext, index: int, start: int) -> list[Effect]:
        """The engine effects of item ``index`` once its trigger fired, starting on day
        ``start``: the policy as if written with that ``start`` (and ``end`` = start +
        duration when it gives a duration)."""
        end = self.end if self.duration is None else start + self.duration
        fixed = self.model_copy(update={"start": start, "end": end, "trigger": None, "duration": None})
        built: Any = fixed.build(ctx, index)  # a list of effects (None entries skipped)
        return [e for e in built if e is not None]


def _holds(scenario: Any, node: str, product: str) -> bool:
    n = scenario.nodes[node]
    return (n.produces == product or product in n.consumes or product in n.inventory or product in n.equipment
            or (n.demand is not None and product in n.demand.products)
            or any(product == lane.product and node in (lane.from_, lane.to) for lane in scenario.lanes)
            or any(getattr(p, "type", None) == "new_lane" and p.product == product and node in (p.from_, p.to)
                   for p in scenario.policies))


def _records(scenario: Any, node: str, product: str, metric: str) -> str | None:
    """Why (node, product) does not record ``metric``, or None when it does."""
    n = scenario.nodes[node]
    plain_demand = n.demand is not None and not n.demand.measure and product in n.demand.products
    if metric in DEMAND_METRICS and not plain_demand:
        return f"'{node}' has no demand for '{product}', so it records no {metric}"
    if metric in ("capacity", "produced") and n.produces != product:
        return f"'{node}' does not produce '{product}', so it records no {metric}"
    if metric == "cover_days" and product not in n.consumes and not plain_demand:
        return f"'{node}' neither consumes nor has demand for '{product}', so its cover is undefined"
    if metric == "price_multiplier":
        if getattr(scenario.products[product], "market", None) is None:
            return f"'{product}' has no `market:`, so it has no price_multiplier"
        priced = n.demand is not None and product in n.demand.products  # plain, or a compute node's substitute
        if not priced:
            return f"'{node}' has no demand for '{product}', so it has no price_multiplier"
    if not _holds(scenario, node, product):
        return f"'{node}' never holds '{product}' (it does not produce, consume, stock, demand or ship it)"
    return None


def trigger_problems(spec: Any, scenario: Any) -> list[tuple[tuple, str]]:
    """Problems of a policy's trigger: (path inside the policy item, message)."""
    trig = getattr(spec, "trigger", None)
    if trig is None:
        return []
    problems: list[tuple[tuple, str]] = []
    if trig.node not in scenario.nodes:
        problems.append((("trigger", "node"), f"unknown node '{trig.node}'{did_you_mean(trig.node, scenario.nodes)}"))
    if trig.product not in scenario.products:
        problems.append((("trigger", "product"),
                         f"unknown product '{trig.product}'{did_you_mean(trig.product, scenario.products)}"))
    if trig.metric not in TRIGGER_METRICS:
        problems.append((("trigger", "metric"), f"unknown metric '{trig.metric}'{did_you_mean(trig.metric, TRIGGER_METRICS)}"
                                                f"; a trigger watches one of: {', '.join(TRIGGER_METRICS)}"))
    if not problems:
        why = _records(scenario, trig.node, trig.product, trig.metric)
        if why is not None:
            problems.append((("trigger", "metric"), why))
    if getattr(spec, "initial", 0.0):
        problems.append((("initial",), "a triggered stockpile cannot hold part of the opening stock at day 0; "
                                       "leave out `initial`"))
    return problems


def triggered_policies(scenario: Any) -> list[tuple[int, Any]]:
    """(index, spec) of the scenario's policies that carry a trigger, in file order."""
    return [(i, p) for i, p in enumerate(scenario.policies) if getattr(p, "trigger", None) is not None]


def trigger_table(scenario: Any, fired: dict[int, tuple[tuple[int, int | None, int | None], ...]]) -> pd.DataFrame:
    """One row per triggered policy and replication: ``policy`` (its index in
    ``policies:``), ``label``, ``replication``, ``fired_day`` (d0, the last day of the
    first run of ``for_days`` days on which the condition held) and ``start_day`` (the
    policy's first active day; it may lie beyond the horizon) as day numbers, with their
    dates; empty when it never fired. ``fired``: replication -> (policy index, fired
    day, start day) per triggered policy."""
    import pandas as pd

    labels = {i: spec.display_label(i) for i, spec in triggered_policies(scenario)}
    rows = []

    def date(day: int | None) -> Any:
        return pd.NaT if day is None else pd.Timestamp(scenario.start_date + _dt.timedelta(days=day))

    for r in sorted(fired):
        for i, d0, start in fired[r]:
            rows.append({"policy": i, "label": labels.get(i, ""), "replication": r, "fired_day": d0,
                         "fired_date": date(d0), "start_day": start, "start_date": date(start)})
    return typed_triggers(pd.DataFrame(rows, columns=TRIGGER_COLUMNS))


def typed_triggers(frame: pd.DataFrame) -> pd.DataFrame:
    """The trigger table's column types (days as nullable integers, dates as datetimes),
    also for a table read back from ``triggers.csv``."""
    import pandas as pd

    frame = frame.astype({"policy": "int64", "replication": "int64", "fired_day": "Int64", "start_day": "Int64",
                          "label": "object"})
    for col in ("fired_date", "start_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
    return frame
