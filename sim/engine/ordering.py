"""Replenishment orders (step 5b of the day): order up to a level on the inventory position.

The level is a fixed number of units, or days of cover times the node's daily use, raised
while an announced control asks for more cover. The position is free stock minus backlog
plus the pipeline; for tools it adds the tools in service and the failed tools that spares
will repair. A compute node orders one gap in measure units, split equally over the
substitutes it buys through lanes. Warehouses (no use of their own) cover the mean of what
they shipped over the last 30 days.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .equipment import Tool
from .ledger import EPS, Ledger
from .shipping import Lane
from .sourcing import AdaptiveSourcing
from .speculation import Speculator

_WINDOW = 30  # days of history a warehouse averages its shipments over


class OrderLineState:
    """A node's replenishment of one product: level rule, daily use and open lanes."""

    __slots__ = ("slot", "level", "cover", "path", "rolling", "base", "extra", "lanes", "boost", "boosts", "tool",
                 "value", "sourcing", "precaution", "precaution_on", "speculation")

    def __init__(self, slot: int, level: float | None, cover: float | None, path: list[float] | None,
                 rolling: bool, base: list[tuple[Lane, float]], tool: Tool | None = None, value: float = 1.0):
        self.slot = slot
        self.level = level        # fixed order-up-to level (units), or None
        self.cover = cover        # days of cover when level is None
        self.path = path          # daily use by day (units/day), unless rolling
        self.rolling = rolling    # warehouse: daily use from recent shipments
        self.base = base          # [(Lane, share)] open from day 0
        self.extra: list[tuple[Lane, float | None]] = []  # opened by policies, in opening order
        self.lanes = list(base)
        self.boost = 0.0          # days of cover wanted ahead of announced shocks (the largest)
        self.boosts: dict = {}    # announcing effect -> days of cover
        self.tool = tool          # equipment: the position counts tools in service
        self.value = value        # compute: measure units per unit of product
        self.sourcing: AdaptiveSourcing | None = None  # adaptive buyers: effective shares by day
        self.precaution = 0.0     # days of cover while a control on an inbound lane looms (10.6)
        self.precaution_on: list[bool] | None = None  # by day: whether the precaution applies
        self.speculation: Speculator | None = None  # a trader's speculative hold (docs/markets.md, section 9)

    def shares_today(self, day: int, ledger: Ledger) -> list[tuple[Lane, float]]:
        """The lanes and shares today's order is split over (adaptive: effective shares,
        recorded in the ledger's ``share`` and ``qualified``)."""
        sourcing = self.sourcing
        if sourcing is None:
            return self.lanes
        lanes = sourcing.shares(self.lanes, day)
        share, qualified = ledger.share, ledger.qualified
        for lane, fixed in self.lanes:
            share[lane.index] = 0.0
            if fixed <= 0.0:
                qualified[lane.index] = 1.0 if sourcing.qualified(lane, day) else 0.0
        for lane, s in lanes:
            share[lane.index] = s
        return lanes

    def level_today(self, day: int, use: float) -> float:
        """Order-up-to level (units) on ``day`` for a daily use of ``use`` units/day."""
        level = self.level if self.level is not None else self.cover * use  # type: ignore[operator]
        if self.boost and self.boost * use > level:
            level = self.boost * use
        on = self.precaution_on
        if on is not None and on[day] and self.precaution * use > level:
            level = self.precaution * use
        return level

    def reshare(self) -> None:
        """Re-normalise the lane shares after a lane opened or closed."""
        lanes = list(self.base)
        for lane, share in self.extra:
            if share is None or not lanes:  # alone, a lane takes every order
                share = 1.0 / (len(lanes) + 1)
            lanes = [(other, s * (1.0 - share)) for other, s in lanes] + [(lane, share)]
        self.lanes = lanes

    def set_boost(self, owner: object, days: float | None) -> None:
        """``owner`` asks for ``days`` of cover (None: withdraws its ask); the largest ask wins."""
        if days is None:
            self.boosts.pop(owner, None)
        else:
            self.boosts[owner] = days
        self.boost = max(self.boosts.values(), default=0.0)


class ComputeGroup:
    """A compute demand node's orders: one gap in measure units, split equally over the
    substitutes it buys through lanes (in chips of each)."""

    __slots__ = ("measure_slot", "lines", "path", "held")

    def __init__(self, measure_slot: int, lines: list[OrderLineState], path: list[float],
                 held: list[tuple[int, float]]):
        # the level comes from the member lines (they share the node's reorder rule)
        self.measure_slot, self.lines, self.path = measure_slot, lines, path
        self.held = held  # (slot, measure units per unit) of every substitute, bought by lane or only held


class Ordering:
    """Every node's orders of the day, written to ``Lane.req``."""

    __slots__ = ("ledger", "horizon", "lines", "groups", "line_of_slot", "_watch", "_history", "_history_sum",
                 "_asked", "_asked_sum", "_first_month", "speculators")

    def __init__(self, ledger: Ledger, horizon: int, lines: list[OrderLineState], groups: list[ComputeGroup]):
        self.ledger = ledger
        self.horizon = horizon
        self.lines = lines
        self.groups = groups
        self.line_of_slot = {line.slot: line for line in lines}
        self.speculators = [line.speculation for line in lines if line.speculation is not None]
        for group in groups:
            for line in group.lines:
                self.line_of_slot[line.slot] = line
        # warehouses: 30-day history of what they shipped and of what they were asked for
        self._watch = sorted({line.slot for line in lines if line.rolling})
        self._history = {s: [0.0] * _WINDOW for s in self._watch}
        self._history_sum = dict.fromkeys(self._watch, 0.0)
        self._asked = {s: [0.0] * _WINDOW for s in self._watch}
        self._asked_sum = dict.fromkeys(self._watch, 0.0)
        self._first_month: dict[int, float] = {}  # warehouse slot -> mean shipments of days 0-29

    def shipment_mean(self, slot: int, since: int) -> Callable[[int], float]:
        """A warehouse's mean shipments (units/day) over the 30 days before day ``since``
        (fewer when fewer have passed), as a function of the day asked; from day 0 (nothing
        before), the mean over its first 30 days, running until day 30 (0 on day 0)."""
        if slot not in self._history_sum:
            return lambda day: 0.0
        if since > 0:
            mean = self._history_sum[slot] / min(since, _WINDOW)
            return lambda day: mean
        sums, first = self._history_sum, self._first_month

        def running(day: int) -> float:
            if day >= _WINDOW:
                return first.get(slot, 0.0)
            return sums[slot] / day if day else 0.0
        return running

    def lines_fed_by(self, lanes: list[Lane]) -> list[OrderLineState]:
        """The order lines of the buyers at the end of these lanes, in slot order."""
        slots = {lane.dst for lane in lanes}
        return [self.line_of_slot[s] for s in sorted(slots) if s in self.line_of_slot]

    def place(self, day: int) -> None:
        """Step 5b: orders up to the level on the inventory position."""
        led = self.ledger
        inv, locked, backlog, pipeline = led.inv, led.locked, led.backlog, led.pipeline
        H = self.horizon
        history_sum, asked_sum = self._history_sum, self._asked_sum
        for spec in self.speculators:  # traders set today's hold before anyone orders
            spec.set_hold(led, day)
        for line in self.lines:
            s = line.slot
            if line.rolling:
                if day:
                    # mean shipments of the last 30 days; a warehouse that has shipped
                    # nothing yet (it started empty) uses the orders it received instead
                    used = history_sum[s] if history_sum[s] > EPS else asked_sum[s]
                    use = used / (day if day < _WINDOW else _WINDOW)
                else:
                    use = 0.0
            else:
                use = line.path[day]  # type: ignore[index]
            # inline rather than level_today: this loop runs for every line every day
            level = line.level if line.level is not None else line.cover * use  # type: ignore[operator]
            if line.boost and line.boost * use > level:
                level = line.boost * use
            if line.precaution_on is not None and line.precaution_on[day] and line.precaution * use > level:
                level = line.precaution * use
            if line.speculation is not None:  # up to normal + H_d on a position that counts the held stock
                level += line.speculation.target - line.speculation.hold
            position = inv[s] - locked[s] - backlog[s] + pipeline[s]
            tool = line.tool
            if tool is not None:  # tools in service count, and the level adds the tools required soon
                level += tool.required[day + tool.lookahead if day + tool.lookahead < H else H - 1]
                position += tool.installed
                sp = tool.spares
                if sp is not None and tool.failed > 0.0 and not tool.blocked:
                    # failed tools that spares on hand or on the way will repair
                    repairable = inv[sp] - locked[sp] + pipeline[sp]
                    position += tool.failed if tool.failed < repairable else max(repairable, 0.0)
            q = level - position
            lanes = line.lanes if line.sourcing is None else line.shares_today(day, led)
            if q > EPS:
                for lane, share in lanes:
                    lane.req = q * share
        for group in self.groups:
            self._order_compute(group, day)

    def _order_compute(self, group: ComputeGroup, day: int) -> None:
        led = self.ledger
        inv, locked, pipeline = led.inv, led.locked, led.pipeline
        use = group.path[day]
        level = max(line.level_today(day, use) for line in group.lines)
        position = -led.backlog[group.measure_slot]
        for s, value in group.held:
            position += (inv[s] - locked[s] + pipeline[s]) * value
        gap = level - position
        buying = [line for line in group.lines if line.lanes]
        shares = [line.shares_today(day, led) for line in buying]
        if gap > EPS and buying:
            for line, lanes in zip(buying, shares, strict=True):
                units = gap / len(buying) / line.value
                for lane, share in lanes:
                    lane.req = units * share

    def remember(self, day: int) -> None:
        """After allocation: warehouses add today's shipments and requests to their history."""
        if not self._watch:
            return
        led = self.ledger
        shipped, requested = led.shipped, led.requested
        history, history_sum, asked, asked_sum = self._history, self._history_sum, self._asked, self._asked_sum
        ring = day % _WINDOW
        for s in self._watch:
            hist = history[s]
            history_sum[s] += shipped[s] - hist[ring]
            hist[ring] = shipped[s]
            hist = asked[s]
            asked_sum[s] += requested[s] - hist[ring]
            hist[ring] = requested[s]
            requested[s] = 0.0
        if day == _WINDOW - 1:
            for s in self._watch:
                self._first_month[s] = history_sum[s] / _WINDOW


def daily_use_path(node: str, slot: int, use: str, producer, rate, tools: list[Tool], horizon: int) -> list[float] | None:
    """Daily use of product ``slot`` at ``node`` (units/day), by day, which a base-stock cover
    counts (None: from recent shipments). ``producer``: the node's producer record when the
    product is an input; ``rate``: its expected demand path (units/day) for demand and compute."""
    if use == "input":
        return (producer.nominal * dict(producer.inputs)[slot]).tolist()
    if use in ("demand", "compute"):
        return rate.tolist()
    if use in ("equipment", "spares"):
        mine = [t for t in tools if t.node == node and (t.slot == slot or t.spares == slot)]
        # the same sums as sum(t.required[d] * t.attrition for t in tools) day by day, tool by tool
        total = np.zeros(horizon)
        for t in mine:
            total = total + np.asarray(t.required, dtype=float) * t.attrition
        return total.tolist()
    return None
