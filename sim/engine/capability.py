"""Compute demand measured as capability (docs/semiconductor.md, section 3, "Capability").

Three opt-in rules, each a pure function of the network and one replication's draws:

- the rate path of a demand node: rate x (1+growth)^(day/365), divided by
  (1+efficiency_gain)^(day/365) when the node sets ``efficiency_gain`` (the compute the
  same work needs falls by that factor a year);
- ``capability_delivered`` in each ``also_measure`` attribute (e.g. memory_bandwidth_tbs),
  at the slot (node, attribute): sum over substitutes of chips delivered today x the chip's value in that attribute;
- ``facility_energy_mwh``: sum over substitutes of chips delivered today x ``power_kw`` x
  ``system_power_factor`` x ``server_overhead`` x ``pue`` x 24 h / 1000 (MWh per day of
  use), beside the board-only ``energy_mwh``.

The two derived series are computed after the run from the substitutes' recorded
``delivered`` series, so the readable engine, the kernel and the market path share them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import Network

HOURS_PER_DAY_IN_MWH = 24.0 / 1000.0  # kW x 24 h = kWh a day; / 1000 = MWh a day


def rate_paths(net: Network, ctx, horizon: int) -> list[np.ndarray]:
    """Expected demand by day of every demand node (units/day, measure units/day for
    compute): rate x (1+growth)^(day/365), divided by (1+efficiency_gain)^(day/365) when set."""
    days = np.arange(horizon, dtype=float)
    paths = []
    for dem in net.demands:
        path = (ctx.draw(dem.rate, f"nodes.{dem.node}.demand.rate", 0.0)
                * np.power(1.0 + ctx.draw(dem.growth, f"nodes.{dem.node}.demand.growth", -1.0 + 1e-9), days / 365.0))
        if dem.efficiency_gain is not None:
            gain = ctx.draw(dem.efficiency_gain, f"nodes.{dem.node}.demand.efficiency_gain", 0.0)
            path = path / np.power(1.0 + gain, days / 365.0)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class DerivedSeries:
    """One reported series computed from the substitutes' ``delivered`` columns."""

    column: int            # its column in the output array (``Network.series``)
    inputs: np.ndarray     # columns of the substitutes' delivered series (chips/day)
    weights: np.ndarray    # per chip delivered: measure units, or MWh per day of use


def derived_series(net: Network, ctx) -> list[DerivedSeries]:
    """The ``capability_delivered`` and ``facility_energy_mwh`` series of one replication (``pue``
    and ``server_overhead`` drawn once per replication when they are distributions)."""
    column = {key: k for k, key in enumerate(net.series)}
    out = []
    for dem in net.demands:
        if not dem.measure or not (dem.also_slots or dem.facility):
            continue
        subs = dem.substitutes
        inputs = np.array([column[(s.slot, "delivered")] for s in subs], dtype=np.int64)
        for i, slot in enumerate(dem.also_slots):
            out.append(DerivedSeries(column[(slot, "capability_delivered")], inputs, np.array([s.also[i] for s in subs])))
        if dem.facility is not None:
            pue = ctx.draw(dem.facility[0], f"nodes.{dem.node}.pue", 1.0)
            overhead = ctx.draw(dem.facility[1], f"nodes.{dem.node}.server_overhead", 1.0)
            weights = [s.power_kw * s.system_power_factor * overhead * pue * HOURS_PER_DAY_IN_MWH for s in subs]
            out.append(DerivedSeries(column[(dem.slot, "facility_energy_mwh")], inputs, np.array(weights)))
    return out


def fill(values: np.ndarray, derived: list[DerivedSeries]) -> np.ndarray:
    """Write the derived series into the (horizon, n_series) output array, in place."""
    for d in derived:
        values[:, d.column] = values[:, d.inputs] @ d.weights
    return values
