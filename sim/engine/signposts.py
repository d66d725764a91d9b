"""Policies that wait for a signpost (contract section 12): the watcher.

After the recorder has written day d, each pending trigger reads its (node, product)
value of that day; a run of ``for_days`` consecutive days on which the condition held
(strictly above or below the threshold) fires it on d. The policy is then built to
start on day max(d + 1 + delay, start), its ``prepare`` reshapes the deterministic
paths of the days from d + 1 on, the phases' cached copies of those paths are refreshed
(``refresh_paths``), and its lever process is created so it acts at step 1 of its
start day. A trigger fires at most once per replication.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..quantities import day_number
from .levers import lever_process

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


class Watch:
    """One triggered policy: its condition, today's run of days, and when it fired."""

    __slots__ = ("index", "spec", "read", "above", "threshold", "for_days", "delay", "earliest", "run", "fired",
                 "start")

    def __init__(self, index: int, spec: Any, read: Callable[[int], float], earliest: int | None):
        trig = spec.trigger
        self.index, self.spec, self.read = index, spec, read
        self.above = trig.above is not None
        self.threshold = float(trig.threshold)
        self.for_days, self.delay, self.earliest = int(trig.for_days), int(trig.delay), earliest
        self.run = 0                      # consecutive days (up to today) the condition held
        self.fired: int | None = None     # d0
        self.start: int | None = None     # first active day

    def holds(self, day: int) -> bool:
        """Whether the condition held on ``day``'s recorded value (NaN never holds)."""
        value = self.read(day)
        return value > self.threshold if self.above else value < self.threshold


def _reader(world: World, metric: str, node: str, product: str) -> Callable[[int], float]:
    """The recorded end-of-day value of ``metric`` at (node, product) on a day."""
    slot = world.net.slot_of[(node, product)]
    if metric == "cover_days":  # free stock / daily use at the end of the day (units / units/day)
        def cover(day: int) -> float:
            use = world.daily_use(slot, day)
            return world.free_stock(slot) / use if use > 0.0 else float("inf")
        return cover
    array: np.ndarray | None
    if metric == "capacity":
        column, array = world.producer_of[node], world.recorder.capacity_by_day
    else:
        column, array = slot, world.recorder.by_metric.get(metric)
    if array is None:  # e.g. price_multiplier where no market records it
        return lambda day: float("nan")
    return lambda day: float(array[day, column])


class Signposts:
    """Every triggered policy of a replication, checked after each day is recorded."""

    __slots__ = ("world", "watches", "pending")

    def __init__(self, world: World, triggered: list[tuple[int, Any]]):
        self.world = world
        start_date = world.net.scenario.start_date
        self.watches = [Watch(i, spec, _reader(world, spec.trigger.metric, spec.trigger.node, spec.trigger.product),
                              None if spec.start is None else day_number(spec.start, start_date))
                        for i, spec in triggered]
        self.pending = list(self.watches)

    def check(self, day: int) -> bool:
        """After recording ``day``: fire the triggers whose condition has held for their
        ``for_days``; True when one fired (its effects are then prepared and scheduled)."""
        fired = []
        for w in self.pending:
            w.run = w.run + 1 if w.holds(day) else 0
            if w.run >= w.for_days:
                w.fired = day
                w.start = day + 1 + w.delay if w.earliest is None else max(day + 1 + w.delay, w.earliest)
                fired.append(w)
        if not fired:
            return False
        world = self.world
        for w in fired:
            self.pending.remove(w)
            effects = w.spec.build_started(world.ctx, w.index, w.start)
            for effect in effects:
                effect.prepare(world)
            refresh_paths(world, day + 1)
            env = world._env
            assert env is not None, "triggers fire while the world runs"
            for effect in effects:
                env.process(lever_process(env, world, effect, world.daily, world.horizon))
        return True

    def outcome(self) -> tuple[tuple[int, int | None, int | None], ...]:
        """(policy index, fired day d0, start day) per triggered policy; None when it never fired."""
        return tuple((w.index, w.fired, w.start) for w in self.watches)


def refresh_paths(world: World, since: int) -> None:
    """After a late ``prepare``: copy the reshaped nominal capacity and capacity factor
    paths (days ``since`` on) into every phase that cached them at build time: today's
    capacity, make-to-stock producers, tools required and the order lines' daily use."""
    if since >= world.horizon:
        return
    world.production.reshape(since)
    for tool in world.equipment.tools:
        prod = world.producers[tool.producer]
        base = prod.base_capacity
        scale = prod.nominal[since:] / base if base > 0 else np.ones(world.horizon - since)
        tool.required[since:] = (tool.base_required * scale).tolist()
    for state, node, slot, use in world.use_lines:
        path = world.use_path(node, slot, use)
        if path is not None and state.path is not None:
            state.path[since:] = path[since:]
