"""One replication of the supply chain as a SimPy simulation.

Time advances in whole days. A single day-clock process performs steps 2-5 of the
contract's day order (arrivals, production, demand, ordering and dispatch) over flat
Python lists indexed by stock slot; this is the hot path, so it binds everything to
locals and avoids per-event objects. Shocks and policies are separate SimPy processes
that wake on URGENT-priority events, which SimPy processes before the clock's
normal-priority timeout of the same day: they take effect at step 1, as the contract
requires. Shipments in transit sit in a calendar keyed by arrival day rather than as
SimPy events, so arrivals happen exactly at step 2 and cost one list append each.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy
from simpy.core import URGENT

from ..distributions import is_distribution
from ..network import BuildContext, Network, Streams
from ..policies import POLICY_TYPES  # noqa: F401  (policies register alongside shocks)
from ..quantities import whole_days

EPS = 1e-9  # quantities below this are treated as zero (pro-rata splits leave dust)
_LEAD_BATCH = 512


class _AtStepOne(simpy.events.Event):
    """A timeout with URGENT priority: fires before the day clock on the same day."""

    def __init__(self, env: simpy.Environment, delay: int):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT, delay)


class Lane:
    """Engine state of one lane: slots, price, lead-time sampler and active trade gates."""

    __slots__ = ("index", "src", "dst", "price", "fixed_lead", "_dist", "_rng", "_buf", "_pos",
                 "gates", "req", "name")

    def __init__(self, index, src, dst, price, lead_time, rng, name):
        self.index = index
        self.src = src
        self.dst = dst
        self.price = price
        self.name = name
        self.gates: list = []
        self.req = 0.0
        if is_distribution(lead_time):
            self.fixed_lead = 0
            self._dist, self._rng = lead_time, rng
            self._buf: list[int] = []
            self._pos = 0
        else:
            self.fixed_lead = max(1, whole_days(float(lead_time)))

    def next_lead(self) -> int:
        """Lead time of the next shipment in whole days (at least 1), drawn in batches."""
        if self._pos >= len(self._buf):
            draws = np.asarray(self._dist.sample(self._rng, _LEAD_BATCH), dtype=float)
            self._buf = np.maximum(1, np.floor(draws + 0.5)).astype(int).tolist()
            self._pos = 0
        value = self._buf[self._pos]
        self._pos += 1
        return value


@dataclass
class ReplicationOutput:
    """Daily values of every reported series (``Network.series``), shape (horizon, n_series)."""

    replication: int
    values: np.ndarray


class World:
    """State of one replication and the processes that move it day by day."""

    def __init__(self, net: Network, streams: Streams):
        self.net = net
        self.streams = streams
        self.horizon = H = net.horizon
        sc = net.scenario
        ctx = self.ctx = BuildContext(net, streams)
        n = len(net.slots)

        self.inv = [0.0] * n
        for nid, node in sc.nodes.items():
            for pid, qty in node.inventory.items():
                self.inv[net.slot_of[(nid, pid)]] = ctx.draw(qty, f"nodes.{nid}.inventory.{pid}", 0.0)
        self.initial_inventory = list(self.inv)
        self.reserved = [0.0] * n   # held at a seller for a pending licence (still on hand)
        self.backlog = [0.0] * n    # demand owed by demand nodes
        self.pipeline = [0.0] * n   # in transit (and awaiting licence) towards each slot

        # producers: nominal and effective capacity (effects change the latter)
        self.producers = []
        self.capacity_nominal = []
        for p in net.producers:
            cap = ctx.draw(p.capacity, f"nodes.{p.node}.capacity", 0.0)
            inputs = tuple((s, ctx.draw(a, f"nodes.{p.node}.consumes.{pid}", 0.0)) for s, pid, a in p.inputs)
            self.producers.append((p.out_slot, inputs))
            self.capacity_nominal.append(cap)
        self.capacity = list(self.capacity_nominal)

        # demand: the rate path (with growth) and the realised daily demand
        days = np.arange(H, dtype=float)
        self.demand_rate = []   # expected units/day by day, used for days_of_cover
        self.demand_draws = []
        for dem in net.demands:
            rate0 = ctx.draw(dem.rate, f"nodes.{dem.node}.demand.rate", 0.0)
            path = rate0 * np.power(1.0 + dem.growth, days / 365.0)
            self.demand_rate.append(path)
            realised = self.streams.get(f"demand:{dem.node}").poisson(path).astype(float) if dem.poisson else path
            self.demand_draws.append(realised)

        self.lanes = []
        for lane in net.lanes:
            price = sc.products[lane.product].price or 0.0
            name = f"{lane.src}->{lane.dst}:{lane.product}"
            self.lanes.append(Lane(lane.index, lane.src_slot, lane.dst_slot, price, lane.lead_time,
                                   streams.get(f"lead:{name}") if is_distribution(lane.lead_time) else None, name))

        self.effects = [spec.build(ctx, i) for i, spec in enumerate(sc.shocks)]
        self.effects += [spec.build(ctx, i) for i, spec in enumerate(sc.policies)]
        self.arrivals: dict[int, list] = {}
        self._rec: dict[str, np.ndarray] = {}

    # --- hooks used by effects ----------------------------------------------------------
    def attach_gate(self, lane_index: int, gate) -> None:
        self.lanes[lane_index].gates.append(gate)

    def detach_gate(self, lane_index: int, gate) -> None:
        gates = self.lanes[lane_index].gates
        if gate in gates:
            gates.remove(gate)

    # --- processes ----------------------------------------------------------------------
    def _effect_process(self, env: simpy.Environment, effect):
        start = max(effect.start, 0)
        end = effect.end
        if start >= self.horizon or (end is not None and end <= start):
            return
        if start > 0:
            yield _AtStepOne(env, start)
        effect.activate(self)
        if end is not None and end < self.horizon:
            yield _AtStepOne(env, end - start)
            effect.deactivate(self)

    def _order_plan(self):
        """Order lines as tuples for the hot loop: (slot, rule, amount, lanes with shares)."""
        plan = []
        for line in self.net.order_lines:
            lanes = tuple((self.lanes[i], self.net.lanes[i].share) for i in line.lanes)
            if line.rule == "level":
                plan.append((line.slot, 0, line.amount, lanes, None))
            elif line.rule == "cover_input":
                k = next(k for k, p in enumerate(self.net.producers) if p.node == line.node)
                per_unit = dict((s, a) for s, a in self.producers[k][1])[line.slot]
                plan.append((line.slot, 0, line.amount * self.capacity_nominal[k] * per_unit, lanes, None))
            elif line.rule == "cover_demand":
                k = next(k for k, d in enumerate(self.net.demands) if d.node == line.node)
                plan.append((line.slot, 1, line.amount, lanes, self.demand_rate[k].tolist()))
            else:
                plan.append((line.slot, 2, line.amount, lanes, None))
        return plan

    def _days(self, env: simpy.Environment):
        H = self.horizon
        n = len(self.net.slots)
        inv, reserved, backlog, pipeline = self.inv, self.reserved, self.backlog, self.pipeline
        capacity = self.capacity
        producers = self.producers
        demands = [(d.slot, d.backlog, self.demand_draws[k].tolist()) for k, d in enumerate(self.net.demands)]
        plan = self._order_plan()
        by_supplier: dict[int, list] = {}
        for lane in self.lanes:
            by_supplier.setdefault(lane.src, []).append(lane)
        suppliers = list(by_supplier.items())
        arrivals = self.arrivals
        # warehouses: 30-day history of what they shipped and of what they were asked for
        watch = sorted({p[0] for p in plan if p[1] == 2})
        history = {s: [0.0] * 30 for s in watch}
        history_sum = dict.fromkeys(watch, 0.0)
        asked = {s: [0.0] * 30 for s in watch}
        asked_sum = dict.fromkeys(watch, 0.0)
        requested = [0.0] * n

        zeros = [0.0] * n
        received, produced, consumed, shipped, delivered, demand, shortfall, cost = ([0.0] * n for _ in range(8))
        rec = self._rec = {m: np.zeros((H, n)) for m in
                           ("inventory", "received", "produced", "consumed", "shipped", "delivered",
                            "demand", "shortfall", "backlog", "cost")}
        rec_capacity = self._rec_capacity = np.zeros((H, len(producers)))
        r_inv, r_rec, r_prod, r_cons, r_ship = rec["inventory"], rec["received"], rec["produced"], rec["consumed"], rec["shipped"]
        r_del, r_dem, r_short, r_back, r_cost = rec["delivered"], rec["demand"], rec["shortfall"], rec["backlog"], rec["cost"]
        has_demand = bool(demands)

        for d in range(H):
            # 2. shipments due today arrive
            due = arrivals.pop(d, None)
            if due:
                for s, q in due:
                    inv[s] += q
                    received[s] += q
                    pipeline[s] -= q
            # 3. production: min(effective capacity, what the inputs allow)
            for k, (out, inputs) in enumerate(producers):
                q = capacity[k]
                for s, a in inputs:
                    avail = inv[s] - reserved[s]
                    if avail < q * a:
                        q = avail / a if avail > 0.0 else 0.0
                if q > 0.0:
                    for s, a in inputs:
                        use = q * a
                        inv[s] -= use
                        consumed[s] += use
                        if inv[s] < 0.0:  # q = avail / a can overshoot by one ulp
                            inv[s] = 0.0
                    inv[out] += q
                    produced[out] += q
            # 4. demand: backlog first (oldest demand first), then today's demand
            for s, carry, draws in demands:
                want = draws[d]
                avail = inv[s] - reserved[s]
                owed = backlog[s]
                old = owed if owed < avail else avail
                if old < 0.0:
                    old = 0.0
                avail -= old
                new = want if want < avail else (avail if avail > 0.0 else 0.0)
                inv[s] -= old + new
                if inv[s] < 0.0:
                    inv[s] = 0.0
                delivered[s] += old + new
                demand[s] += want
                short = want - new
                if short < EPS:
                    short = 0.0
                shortfall[s] += short
                backlog[s] = owed - old + short if carry else 0.0
            # 5a. orders: up to the level on the inventory position
            for s, rule, amount, lanes, path in plan:
                if rule == 0:
                    level = amount
                elif rule == 1:
                    level = amount * path[d]
                elif d:
                    # mean shipments of the last 30 days; a warehouse that has shipped
                    # nothing yet (it started empty) uses the orders it received instead
                    used = history_sum[s] if history_sum[s] > EPS else asked_sum[s]
                    level = amount * used / (d if d < 30 else 30)
                else:
                    level = 0.0
                q = level - (inv[s] - reserved[s] - backlog[s] + pipeline[s])
                if q > EPS:
                    for lane, share in lanes:
                        lane.req = q * share
            # 5b. suppliers allocate (pro rata when short); trade gates filter first
            for src, lanes in suppliers:
                total = 0.0
                for lane in lanes:
                    r = lane.req
                    if r:
                        if lane.gates:
                            for gate in lane.gates:
                                r = gate.admit(lane, r)
                                if r <= 0.0:
                                    r = 0.0
                                    break
                            lane.req = r
                        total += r
                if total <= 0.0:
                    continue
                requested[src] = total
                avail = inv[src] - reserved[src]
                if avail <= EPS:
                    for lane in lanes:
                        lane.req = 0.0
                    continue
                fill = 1.0 if avail >= total else avail / total
                for lane in lanes:
                    r = lane.req
                    if r:
                        lane.req = 0.0
                        q = r * fill
                        dst = lane.dst
                        inv[src] -= q
                        shipped[src] += q
                        pipeline[dst] += q
                        cost[dst] += q * lane.price
                        t = d + (lane.fixed_lead or lane.next_lead())
                        if t < H:
                            due = arrivals.get(t)
                            if due is None:
                                arrivals[t] = [(dst, q)]
                            else:
                                due.append((dst, q))
                if inv[src] < 0.0:  # rounding dust from the pro-rata split
                    inv[src] = 0.0
            for s in watch:
                ring = d % 30
                hist = history[s]
                history_sum[s] += shipped[s] - hist[ring]
                hist[ring] = shipped[s]
                hist = asked[s]
                asked_sum[s] += requested[s] - hist[ring]
                hist[ring] = requested[s]
                requested[s] = 0.0
            # record the day, then clear the daily flows
            r_inv[d] = inv
            r_rec[d] = received
            r_prod[d] = produced
            r_cons[d] = consumed
            r_ship[d] = shipped
            r_cost[d] = cost
            received[:] = zeros
            produced[:] = zeros
            consumed[:] = zeros
            shipped[:] = zeros
            cost[:] = zeros
            if has_demand:
                r_del[d] = delivered
                r_dem[d] = demand
                r_short[d] = shortfall
                r_back[d] = backlog
                delivered[:] = zeros
                demand[:] = zeros
                shortfall[:] = zeros
            rec_capacity[d] = capacity
            yield env.timeout(1)

    def run(self) -> None:
        """Simulate days 0..horizon-1."""
        env = simpy.Environment()
        for effect in self.effects:  # created before the clock: they act first on day 0
            env.process(self._effect_process(env, effect))
        env.process(self._days(env))
        env.run(until=self.horizon)

    def output(self, replication: int) -> ReplicationOutput:
        """The reported series as one (horizon, n_series) array."""
        slot_capacity = np.zeros((self.horizon, len(self.net.slots)))
        for k, (out, _) in enumerate(self.producers):
            slot_capacity[:, out] = self._rec_capacity[:, k]
        cols = []
        for s, metric in self.net.series:
            source = slot_capacity if metric == "capacity" else self._rec[metric]
            cols.append(source[:, s])
        values = np.column_stack(cols) if cols else np.zeros((self.horizon, 0))
        return ReplicationOutput(replication, values)


def run_replication(net: Network, seed: int, replication: int) -> ReplicationOutput:
    """Run replication ``replication`` of ``net`` with streams spawned from ``seed``."""
    # identical to SeedSequence(seed).spawn(n)[replication], without spawning n children
    seq = np.random.SeedSequence(seed, spawn_key=(replication,))
    world = World(net, Streams(seq))
    world.run()
    return world.output(replication)
