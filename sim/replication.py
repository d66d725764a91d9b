"""What one replication draws from: named random streams and the build context.

``Streams`` gives every named stream of a replication its own generator, spawned from
the replication's ``SeedSequence``, so the same name draws the same numbers in every
variant of a scenario (common random numbers). ``BuildContext`` is what a shock or
policy spec needs to become an engine effect: day numbers, draws and lane selections.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
from typing import TYPE_CHECKING

import numpy as np

from .distributions import draw_value, is_distribution
from .leverspec import stream_numbers
from .quantities import day_number
from .selectors import lanes_matching, nodes_matching

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network


def _stream_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """Named random streams of one replication: the same name gives the same draws in
    every variant of a scenario (common random numbers), whatever else changed."""

    def __init__(self, seed_seq: np.random.SeedSequence):
        self._seq = seed_seq
        self._cache: dict[str, np.random.Generator] = {}
        self._quantiles: dict[str, float] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator of the stream named ``name`` (created on first use)."""
        gen = self._cache.get(name)
        if gen is None:
            child = np.random.SeedSequence(self._seq.entropy, spawn_key=tuple(self._seq.spawn_key) + (_stream_key(name),))
            gen = self._cache[name] = np.random.Generator(np.random.PCG64(child))
        return gen

    def quantile(self, shared: str) -> float:
        """The common quantile of the shared draw ``shared`` in this replication (one
        uniform number from the stream ``shared:<name>``, the same for every parameter
        that names it)."""
        u = self._quantiles.get(shared)
        if u is None:
            u = self._quantiles[shared] = float(self.get(f"shared:{shared}").random())
        return u

    def draw(self, value, name: str, low: float = -math.inf, high: float = math.inf) -> float:
        """A parameter's value in this replication: a fixed value as it is, an independent
        distribution from the stream ``param:<name>``, a shared one at its common quantile."""
        if not is_distribution(value):
            return float(value)
        shared = getattr(value, "shared", None)
        if shared is not None:  # its value is set by the common quantile: no stream of its own is needed
            return draw_value(value, None, low, high, self.quantile(shared))
        return draw_value(value, self.get(f"param:{name}"), low, high)


class BuildContext:
    """What a shock/policy spec needs to become an engine effect in one replication."""

    def __init__(self, net: Network, streams: Streams):
        self.net = net
        self.streams = streams
        self.start_date: _dt.date = net.scenario.start_date
        self._drawn: dict[str, float] = {}  # parameter name -> its draw in this replication
        self._numbers: dict[str, list[int]] = {}  # "shocks" / "policies" -> stream number by position

    def day(self, ref) -> int:
        """Day number (0 = start_date) of a date, day number or offset."""
        return day_number(ref, self.start_date)

    def end_day(self, ref) -> int | None:
        """Day number of an end reference; None (open-ended) stays None."""
        return None if ref is None else day_number(ref, self.start_date)

    def draw(self, value, name: str, low: float = -math.inf, high: float = math.inf) -> float:
        """A fixed value, or one draw per replication from the stream ``param:<name>``."""
        if is_distribution(value):
            # one value per parameter and replication, however often it is asked for (a
            # node's cover serves each product it orders)
            if name not in self._drawn:
                self._drawn[name] = self.streams.draw(value, name, low, high)
            return self._drawn[name]
        return float(value)

    def stream(self, name: str) -> np.random.Generator:
        """The named random stream ``name`` of this replication."""
        return self.streams.get(name)

    def stream_number(self, kind: str, index: int) -> int:
        """The stream number of item ``index`` of the scenario's ``kind`` list ("shocks" or
        "policies"): its ``stream``, else one more than the previous item's (``stream_numbers``)."""
        numbers = self._numbers.get(kind)
        if numbers is None:
            numbers = self._numbers[kind] = stream_numbers(getattr(self.net.scenario, kind))
        return numbers[index]

    def matching_lanes(self, spec, index: int) -> list[int]:
        """Indices (into ``all_lanes``) of the lanes a trade shock selects."""
        return lanes_matching(self.net.scenario, spec)

    def nodes(self, selector) -> list[str]:
        """Node ids chosen by a selector, in scenario order."""
        chosen = nodes_matching(self.net.scenario, selector)
        return [n for n in self.net.scenario.nodes if n in chosen]

    def slot(self, node: str, product: str) -> int:
        """Slot index of a (node, product) stock."""
        return self.net.slot_of[(node, product)]

    def policy_lane(self, policy_index: int) -> int:
        """Lane index of the lane a ``new_lane`` policy opens."""
        return next(lane.index for lane in self.net.lanes if lane.policy == policy_index)

    def working_days_to_calendar(self, day: int, working_days: int) -> int:
        """Calendar days from ``day`` until ``working_days`` Monday-to-Friday days have passed."""
        if working_days <= 0:
            return 0
        # closed form of np.busday_offset(begin, working_days, roll="forward") - begin (Monday
        # to Friday): a weekend day rolls to Monday, then every 5 working days take 7 calendar days
        weekday = (self.start_date.weekday() + day) % 7  # Monday = 0
        rolled = 7 - weekday if weekday >= 5 else 0
        weekday = 0 if rolled else weekday
        weeks, rest = divmod(working_days, 5)
        return rolled + 7 * weeks + rest + (2 if weekday + rest >= 5 else 0)
