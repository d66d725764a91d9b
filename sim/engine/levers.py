"""Shocks and policies as SimPy processes: they switch effects on and off at step 1.

Each effect waits on URGENT-priority events, which SimPy processes before the day
clock's normal-priority timeout of the same day, so an effect acts at step 1 of its day.
"""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from simpy.core import URGENT

from ..effects import Effect, LeverWorld


class AtStepOne(simpy.events.Event):
    """A timeout with URGENT priority: fires before the day clock on the same day."""

    def __init__(self, env: simpy.Environment, delay: int):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT, delay)


class DailyEffects:
    """The effects acting every day they are active (in their declared ``order``)."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active: list[Effect] = []

    def add(self, effect: Effect) -> None:
        """``effect`` starts acting daily."""
        self.active.append(effect)
        self.active.sort(key=lambda e: getattr(e, "order", 0))

    def remove(self, effect: Effect) -> None:
        """``effect`` stops acting daily."""
        self.active.remove(effect)

    def act(self, world: LeverWorld, day: int) -> None:
        """Step 1: every active daily effect acts once."""
        for effect in list(self.active):
            effect.daily(world, day)  # type: ignore[misc]


def lever_process(env: simpy.Environment, world: LeverWorld, effect: Effect, daily: DailyEffects,
                  horizon: int) -> Generator[Any, Any, None]:
    """Activate ``effect`` at the start of each active interval and deactivate it at the end
    (from the day the process is created: day 0, or the day a trigger fired)."""
    now = int(env.now)
    for a, b in effect.intervals:
        a = max(a, 0)
        if a >= horizon or (b is not None and b <= a):
            continue
        if a > now:
            yield AtStepOne(env, a - now)
            now = a
        effect.activate(world)
        if effect.daily is not None:
            daily.add(effect)
        if b is None or b >= horizon:
            return
        yield AtStepOne(env, b - now)
        now = b
        if effect.daily is not None:
            daily.remove(effect)
        effect.deactivate(world)
