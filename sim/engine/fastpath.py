"""Run a built ``World`` with the compiled kernel (``sim.engine.kernel``) when it covers the network.

The readable engine (``World._days``) stays the reference; this module packs the same
world into flat arrays and runs its days in spans. SimPy still schedules the regime
changes: the shocks' and policies' processes run unchanged, and a span process runs
the kernel from one scheduled change to the next (``env.peek()``), then reads the
regime the levers left (trade gates, announced cover, lanes opened, repair bans) before
the next span. ``unsupported(world)`` says why a network falls back to the readable
engine; docs/benchmarks.md ("Engine kernel") lists what is covered.
"""
from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from ..effects import Effect
from ..network import COMPUTE_METRICS
from ..policies import CapacityExpansion, NewLane
from ..shocks import CapacityLoss, ScaleNodePath, ServiceBan
from ..tradeshocks import Anticipate, ExportBan
from . import kernel as K
from .levers import lever_process
from .recorder import PER_PRODUCER

# effects the kernel runs: path reshaping at build time, and regime changes it reads per span
_COVERED = (CapacityLoss, ScaleNodePath, CapacityExpansion, ExportBan, ServiceBan, Anticipate, NewLane)
_LEAD_BATCH = 512  # as ``shipping._LEAD_BATCH``
I64, F64 = np.int64, np.float64


def unsupported(world) -> str | None:
    """Why the kernel cannot run this replication (None: it can)."""
    if not K.available():
        return "numba is not installed"
    if world.signposts is not None:
        return "triggered policies"
    if world.market is not None:
        return "market demand"
    if world.production.stock_makers:
        return "make-to-stock producers"
    if any(p.fab is not None and p.fab.rng is not None for p in world.producers):
        return "stochastic fab yield"
    if any(t.random for t in world.equipment.tools):
        return "random tool attrition"
    lines = list(world.ordering.lines) + [ln for g in world.ordering.groups for ln in g.lines]
    if any(ln.sourcing is not None or ln.precaution_on is not None for ln in lines):
        return "adaptive sourcing or precautionary cover"
    if any(ln.speculation is not None for ln in lines):
        return "speculative traders"
    if world.holding_cost or world._released:
        return "stockpiles"
    rolling = {ln.slot for ln in world.ordering.lines if ln.rolling}
    for effect in world.effects:
        if not isinstance(effect, _COVERED) or effect.daily is not None:
            return f"effect {type(effect).__name__}"
        if isinstance(effect, ExportBan) and effect.leakage > 0.0 and effect.intervals \
                and effect.intervals[0][0] <= 0 and any(world.net.lanes[i].dst_slot in rolling for i in effect.lanes):
            return "leaky ban from day 0 on a warehouse's lane (its volume follows the run)"
    return None


def _acts(effect) -> bool:
    """Whether an effect does anything while the run goes on (activate, deactivate or daily)."""
    cls = type(effect)
    return effect.daily is not None or cls.activate is not Effect.activate or cls.deactivate is not Effect.deactivate


_SERIES_MAP: list = [None, None]  # [network, its series map]: the last network's, reused by its replications


def _series_map(world) -> tuple:
    """Where each reported series (``Network.series``) comes from, for the kernel to write
    the output array directly (what ``Recorder.record`` and ``Recorder.output`` do in two
    steps): kind 0 a ledger row ``src`` at slot ``idx``, 1 a lane's flow, 2 a producer's
    capacity, 3 its wafers, 4 a tool's count installed, 5 zeros or (``yields``) a fab's
    yield. It depends on the network only, so it is built once per network."""
    net = world.net
    if _SERIES_MAP[0] is net:
        return _SERIES_MAP[1]
    recorded = {series.metric: K.ROWS.index(series.source) for series in world.recorder.wanted}
    producer_of = {p.out_slot: k for k, p in enumerate(world.producers)}
    fab = {k for k, p in enumerate(world.producers) if p.fab is not None}
    tool_of = {t.slot: i for i, t in enumerate(world.equipment.tools)}
    lane_of_row = {row: k for k, row in enumerate(net.lane_slots)}
    n = len(net.series)
    kind, src, idx = np.full(n, 5, I64), np.zeros(n, I64), np.zeros(n, I64)
    yields = []
    for k, (s, metric) in enumerate(net.series):
        base = "produced" if metric == "good_dies" else COMPUTE_METRICS.get(metric, metric)
        p = producer_of.get(s, -1)
        if metric == "flow":
            kind[k], idx[k] = 1, lane_of_row[s]
        elif metric == "capacity" and p >= 0:
            kind[k], idx[k] = 2, p
        elif metric == "wafers_started" and p in fab:
            kind[k], idx[k] = 3, p
        elif metric == "yield" and p in fab:
            yields.append((k, p))
        elif metric == "installed" and s in tool_of:
            kind[k], idx[k] = 4, tool_of[s]
        elif base in recorded and metric not in PER_PRODUCER:
            kind[k], src[k], idx[k] = 0, recorded[base], s
    clear = _arr([K.ROWS.index(series.source) for series in world.recorder.wanted if series.flow], I64)
    _SERIES_MAP[:] = [net, (kind, src, idx, clear, yields)]
    return _SERIES_MAP[1]


def _csr(groups: list[list]) -> np.ndarray:
    """Offsets of consecutive groups: [0, len(g0), len(g0) + len(g1), ...]."""
    return np.cumsum([0] + [len(g) for g in groups]).astype(I64)


def _arr(values, dtype=F64) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=dtype))


def _rows(paths: list, horizon: int) -> np.ndarray:
    """(len(paths), horizon) float array of daily paths."""
    out = np.zeros((len(paths), horizon))
    for i, p in enumerate(paths):
        out[i] = p
    return out


class KernelRun:
    """One replication's world as kernel arrays, run in spans between regime changes."""

    def __init__(self, world):
        self.world = w = world
        self.H = world.horizon
        led = w.ledger
        self.L = np.array([getattr(led, name) for name in K.ROWS], dtype=F64).reshape(len(K.ROWS), led.n)
        self.st = np.zeros(2, I64)
        self.req = np.zeros(len(w.lanes))
        self.flow = np.zeros(len(w.lanes))
        self.prod = self._producers()
        self.tools = self._tools()
        self.lanes = self._lanes()
        self.cal = self._calendars()
        self.dem, self.comp = self._demand()
        self.sup = self._suppliers()
        self.wh = self._warehouses()
        self.rec = self._recorder()

    def _producers(self) -> tuple:
        w, H = self.world, self.H
        ps = w.production.producers
        inputs = [list(p.inputs) for p in ps]
        fab_good = np.full((len(ps), max(H, 1)), np.nan)
        for k, p in enumerate(ps):
            if p.fab is not None:
                fab_good[k, :H] = p.fab.good_per_wafer
        return (_rows([p.nominal * p.factor for p in ps], H), _arr(w.production.capacity), _arr(w.production.nominal),
                np.zeros(len(ps)), _csr(inputs), _arr([s for ins in inputs for s, _ in ins], I64),
                _arr([a for ins in inputs for _, a in ins]), _arr([p.out_slot for p in ps], I64), fab_good)

    def _tools(self) -> tuple:
        eq, H = self.world.equipment, self.H
        tools = eq.tools
        index = {id(t): i for i, t in enumerate(tools)}
        of_slot = np.full(self.world.ledger.n, -1, I64)
        for i, t in enumerate(tools):
            of_slot[t.slot] = i
        gated = [[index[id(t)] for t in ts] for _, ts in eq._gated]
        self.t_index = index
        return (_arr([t.slot for t in tools], I64), _arr([-1 if t.spares is None else t.spares for t in tools], I64),
                _arr([t.installed for t in tools]), _arr([t.failed for t in tools]),
                _arr([t.blocked for t in tools], np.bool_), _rows([t.required for t in tools], H),
                _arr([t.attrition for t in tools]), _arr([t.install_days for t in tools], I64),
                _arr([t.lookahead for t in tools], I64), of_slot, _csr(gated),
                _arr([k for k, _ in eq._gated], I64))

    def _lanes(self) -> tuple:
        w, H = self.world, self.H
        variable = [lane for lane in w.lanes if not lane.fixed_lead]
        width = _LEAD_BATCH * max(1, math.ceil(H / _LEAD_BATCH)) if variable else 1
        buf = np.ones((len(w.lanes), width), I64)
        for lane in variable:  # the draws ``Lane.next_lead`` would make, batch by batch, drawn ahead
            batches = []
            for _ in range(width // _LEAD_BATCH):
                draws = np.asarray(lane._dist.sample(lane._rng, _LEAD_BATCH), dtype=float)
                batches.append(np.maximum(1, np.floor(draws + 0.5)).astype(int))
            buf[lane.index] = np.concatenate(batches)
        fixed = _arr([lane.fixed_lead for lane in w.lanes], I64)
        self.max_lead = int(max(fixed.max(initial=1), buf.max(initial=1)))
        return (_arr([lane.dst for lane in w.lanes], I64), _arr([lane.price for lane in w.lanes]), fixed, buf,
                np.zeros(len(w.lanes), I64), np.full(len(w.lanes), -1, I64), np.zeros((0, 1)))

    def _calendars(self) -> tuple:
        w, H = self.world, self.H
        arrivals = K.new_calendar(H, max(1, len(w.lanes) * (self.max_lead + 1)))
        tool_lanes = sum(1 for lane in w.lanes if lane.dst in w.equipment.tool_of_slot)
        installs = K.new_calendar(H, max(1, tool_lanes * H + len(w.equipment.tools) + 1))
        self.st[K.ARR_FREE] = 0
        self.st[K.INS_FREE] = 0
        for day, due in sorted(w.shipping.arrivals.items()):
            for s, q in due:
                if day < H:
                    K.push(*arrivals, self.st, K.ARR_FREE, day, s, q)
        for day, due in sorted(w.equipment.installs.items()):  # tools in stock on day 0
            for tool, q in due:
                if day < H:  # the readable engine never reaches later days either
                    K.push(*installs, self.st, K.INS_FREE, day, self.t_index[id(tool)], q)
        return arrivals + installs

    def _demand(self) -> tuple[tuple, tuple]:
        d, H = self.world.demand, self.H
        plain = (_arr([s for s, _, _ in d.plain], I64), _arr([c for _, c, _ in d.plain], np.bool_),
                 _rows([dr for _, _, dr in d.plain], H))
        subs = [list(line.spec.substitutes) for line in d.compute]
        flat = [s for group in subs for s in group]
        comp = (_arr([line.spec.slot for line in d.compute], I64), _arr([line.carry for line in d.compute], np.bool_),
                _rows([line.draws for line in d.compute], H),
                _arr([np.nan if line.spec.min_domestic is None else line.spec.min_domestic for line in d.compute]),
                _csr(subs), _arr([s.slot for s in flat], I64), _arr([s.value for s in flat]),
                _arr([s.domestic for s in flat], np.bool_), _arr([s.power_kw for s in flat]))
        return plain, comp

    def _suppliers(self) -> tuple:
        sups = self.world.allocation._suppliers
        tb: list[int] = []
        tl: list[int] = []
        u_tb = [0]
        for _, _, tiers in sups:
            if tiers is not None:
                for tier in tiers:
                    tb.append(len(tl))
                    tl.extend(lane.index for lane in tier)
                tb.append(len(tl))
            u_tb.append(len(tb))
        return (_arr([src for src, _, _ in sups], I64), _csr([out for _, out, _ in sups]),
                _arr([lane.index for _, out, _ in sups for lane in out], I64), _arr(u_tb, I64), _arr(tb, I64),
                _arr(tl, I64))

    def _warehouses(self) -> tuple:
        W = len(self.world.ordering._watch)
        return (_arr(self.world.ordering._watch, I64), np.zeros((W, K.WINDOW)), np.zeros(W), np.zeros((W, K.WINDOW)),
                np.zeros(W), np.zeros(W))

    def _recorder(self) -> tuple:
        """The output array, filled by the kernel, and where each of its columns comes from."""
        kind, src, idx, clear, yields = _series_map(self.world)
        values = self.values = np.zeros((self.H, len(kind)))
        for k, p in yields:  # constant over the run: a fab's yield by day
            values[:, k] = self.world.producers[p].fab.yield_path
        return (values, kind, src, idx, clear)

    # --- what the levers may have changed: read at the start of every span ---------------
    def _orders(self) -> tuple:
        o, H = self.world.ordering, self.H
        lines = o.lines
        watch = {s: i for i, s in enumerate(o._watch)}
        lanes = [line.lanes for line in lines]
        return (_arr([ln.slot for ln in lines], I64), _arr([np.nan if ln.level is None else ln.level for ln in lines]),
                _arr([np.nan if ln.cover is None else ln.cover for ln in lines]), _arr([ln.boost for ln in lines]),
                self._paths(lines, H), _arr([watch[ln.slot] if ln.rolling else -1 for ln in lines], I64),
                _arr([-1 if ln.tool is None else self.t_index[id(ln.tool)] for ln in lines], I64), _csr(lanes),
                _arr([lane.index for ls in lanes for lane, _ in ls], I64), _arr([s for ls in lanes for _, s in ls]))

    def _paths(self, lines, H: int) -> np.ndarray:
        """Daily-use paths of the order lines (zeros for warehouses), built once."""
        if not hasattr(self, "_path_rows"):
            self._path_rows = _rows([ln.path if ln.path is not None else np.zeros(H) for ln in lines], H)
        return self._path_rows

    def _groups(self) -> tuple:
        groups = self.world.ordering.groups
        members = [ln for g in groups for ln in g.lines]
        lanes = [ln.lanes for ln in members]
        held = [list(g.held) for g in groups]
        if not hasattr(self, "_group_paths"):
            self._group_paths = _rows([g.path for g in groups], self.H)
        return (_arr([g.measure_slot for g in groups], I64), self._group_paths, _csr([g.lines for g in groups]),
                _arr([np.nan if ln.level is None else ln.level for ln in members]),
                _arr([np.nan if ln.cover is None else ln.cover for ln in members]),
                _arr([ln.boost for ln in members]), _arr([ln.value for ln in members]),
                _arr([bool(ln.lanes) for ln in members], np.bool_), _csr(lanes),
                _arr([lane.index for ls in lanes for lane, _ in ls], I64), _arr([s for ls in lanes for _, s in ls]),
                _csr(held), _arr([s for h in held for s, _ in h], I64), _arr([v for h in held for _, v in h]))

    def _gates(self, d0: int, d1: int) -> None:
        """Each gated lane's cap (units) on days d0..d1-1: the least of what its gates admit
        of an unlimited order (a gate admits min(order, its cap))."""
        gated = [lane for lane in self.world.lanes if lane.gates]
        row = self.lanes[5]
        row[:] = -1
        caps = np.zeros((len(gated), max(1, d1 - d0)))
        for g, lane in enumerate(gated):
            row[lane.index] = g
            for d in range(d0, d1):
                caps[g, d - d0] = min(gate.admit(lane, math.inf, d) for gate in lane.gates)
        self.lanes = self.lanes[:6] + (caps,)
        blocked = self.tools[4]
        for i, t in enumerate(self.world.equipment.tools):
            blocked[i] = t.blocked

    def _sync(self) -> None:
        """Hand the warehouses' histories to the readable objects the levers read (``normal_volume``)."""
        o = self.world.ordering
        _, _, sums, _, _, first = self.wh
        for i, s in enumerate(o._watch):
            o._history_sum[s] = float(sums[i])
            if self._day >= K.WINDOW:
                o._first_month[s] = float(first[i])

    def span(self, d0: int, d1: int) -> None:
        """Run days d0..d1-1 in the kernel under the current regime."""
        self._gates(d0, d1)
        K.run_days(d0, d1, self.H, (self.L, self.st, self.req, self.flow), self.cal, self.prod, self.tools, self.dem,
                   self.comp, self._orders(), self._groups(), self.sup, self.lanes, self.wh, self.rec)
        self._day = d1
        self._sync()

    def _days(self, env: simpy.Environment) -> Generator[Any, Any, None]:
        day = 0
        while day < self.H:
            nxt = env.peek()
            end = self.H if nxt == math.inf else min(self.H, int(nxt))
            end = max(end, day + 1)
            self.span(day, end)
            yield env.timeout(end - day)
            day = end

    def run(self) -> None:
        """Simulate days 0..horizon-1: the levers' SimPy processes, and the kernel between them."""
        w = self.world
        env = w._env = simpy.Environment()
        for effect in w.effects:
            if _acts(effect):  # an effect that only reshaped paths at build time has nothing to schedule
                env.process(lever_process(env, w, effect, w.daily, self.H))
        env.process(self._days(env))
        env.run(until=self.H)
        w.kernel_values = self.values
