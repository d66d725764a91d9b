"""When buyers hoard (contract 10.6): the days a trade control on an inbound lane looms,
lasts or has just ended.

A node whose reorder has ``precaution`` orders up to its precautionary cover on every day
``announced <= d < end + relax_days`` of an export ban, export licence or entity list that
matches one of its inbound lanes for the product (``start`` in place of ``announced`` when
the control is not announced; a paused control counts each active stretch, widened by the
relax days, and the announcement opens the first).
"""
from __future__ import annotations

from ..replication import BuildContext

TRADE_CONTROLS = ("export_ban", "export_license", "entity_list")


def control_windows(ctx: BuildContext) -> list[tuple[set[int], list[tuple[int, int | None]]]]:
    """For every trade control of the scenario: the lanes it matches and its looming-or-active
    day spans ``(a, b)`` (b None: open-ended), before any relax days."""
    out = []
    for index, spec in enumerate(ctx.net.scenario.shocks):
        if spec.type not in TRADE_CONTROLS:
            continue
        spans = [(a, b) for a, b in spec.intervals(ctx)]
        if not spans:
            continue
        announced = getattr(spec, "announced", None)
        if announced is not None:
            a, b = spans[0]
            spans[0] = (min(a, ctx.day(announced)), b)
        out.append((set(ctx.matching_lanes(spec, index)), spans))
    return out


def precaution_days(lanes: set[int], relax_days: int, windows: list[tuple[set[int], list[tuple[int, int | None]]]],
                    horizon: int) -> list[bool] | None:
    """By day: whether a control on one of ``lanes`` looms, lasts or ended fewer than
    ``relax_days`` ago (None when no control touches the lanes)."""
    on = [False] * horizon
    touched = False
    for matched, spans in windows:
        if not matched & lanes:
            continue
        touched = True
        for a, b in spans:
            stop = horizon if b is None else min(horizon, b + relax_days)
            for d in range(max(0, a), stop):
                on[d] = True
    return on if touched else None
