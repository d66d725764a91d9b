"""One replication of the supply chain as a SimPy simulation.

Time advances in whole days. A single day-clock process performs the contract's day
order over flat Python lists indexed by stock slot; this is the hot path, so it binds
everything to locals and avoids per-event objects. Shocks and policies are separate
SimPy processes that wake on URGENT-priority events, which SimPy processes before the
clock's normal-priority timeout of the same day, so they take effect at step 1.
Shipments in transit and licence decisions sit in calendars keyed by day rather than as
SimPy events, so they happen exactly at their step and cost one list append each.

Stock accounting per slot: ``inv`` is what is on the shelves (the ``inventory`` metric);
``locked`` is the part of it that may not be used (goods awaiting a licence decision
and stockpiled units, the latter also in ``held``); ``pipeline`` is what is on its way
to the slot (in transit or awaiting a licence at the seller).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import simpy
from simpy.core import URGENT

from ..distributions import is_distribution
from ..fab import d0_learning_curve, murphy_yield, poisson_yield
from ..network import COMPUTE_METRICS, BuildContext, Network, Streams
from ..quantities import whole_days

EPS = 1e-9  # quantities below this are treated as zero (pro-rata splits leave dust)
_LEAD_BATCH = 512
_DAY_METRICS = ("inventory", "received", "produced", "consumed", "shipped", "delivered",
                "demand", "shortfall", "backlog", "cost", "stockpile", "energy_mwh")


class _AtStepOne(simpy.events.Event):
    """A timeout with URGENT priority: fires before the day clock on the same day."""

    def __init__(self, env: simpy.Environment, delay: int):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT, delay)


class Lane:
    """Engine state of one lane: slots, price, lead-time sampler, trade gates, licence."""

    __slots__ = ("index", "src", "dst", "price", "fixed_lead", "_dist", "_rng", "_buf", "_pos",
                 "gates", "licence", "licences", "req", "name")

    def __init__(self, index, src, dst, price, lead_time, rng, name):
        self.index = index
        self.src = src
        self.dst = dst
        self.price = price
        self.name = name
        self.gates: list = []
        self.licences: list = []  # active regimes, in the order they started
        self.licence = None       # the one that governs: the earliest still active
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


class Tool:
    """A producer's stock of one kind of equipment in service."""

    __slots__ = ("node", "product", "slot", "spares", "installed", "failed", "attrition", "install_days",
                 "random", "required", "blocked", "_binomial", "producer", "lookahead")

    def __init__(self, node, eq, producer, required_path, rng):
        self.node, self.product, self.producer = node, eq.product, producer
        self.slot, self.spares = eq.slot, eq.spares_slot
        self.installed = float(eq.installed)
        self.failed = 0.0
        self.attrition = eq.attrition
        self.install_days = eq.install_days
        self.random = eq.stochastic
        self.required = required_path          # tools needed by day (grows with expansions)
        self.blocked = False                   # on-site repairs forbidden (service ban)
        self._binomial = rng.binomial
        self.lookahead = self.install_days     # days ahead the node buys tools for (plus lead time)

    def failures(self) -> float:
        """Tools failing today: binomial draws, or the expected value."""
        if self.attrition <= 0.0 or self.installed <= 0.0:
            return 0.0
        if self.random:
            return float(min(self._binomial(int(self.installed), self.attrition), self.installed))
        return self.installed * self.attrition


class OrderLineState:
    """A node's replenishment of one product: level rule, daily use and open lanes."""

    __slots__ = ("slot", "level", "cover", "path", "rolling", "base", "extra", "lanes", "boost", "boosts", "tool", "value")

    def __init__(self, slot, level, cover, path, rolling, base, tool=None, value=1.0):
        self.slot = slot
        self.level = level        # fixed order-up-to level, or None
        self.cover = cover        # days of cover when level is None
        self.path = path          # daily use by day (list), unless rolling
        self.rolling = rolling    # warehouse: daily use from recent shipments
        self.base = base          # [(Lane, share)] open from day 0
        self.extra: list = []     # [(Lane, share)] opened by policies, in opening order
        self.lanes = list(base)
        self.boost = 0.0          # days of cover wanted ahead of announced shocks (the largest)
        self.boosts: dict = {}    # announcing effect -> days of cover
        self.tool = tool          # equipment: the position counts tools in service
        self.value = value        # compute: measure units per unit of product

    def reshare(self) -> None:
        lanes = list(self.base)
        for lane, share in self.extra:
            if share is None or not lanes:  # alone, a lane takes every order
                share = 1.0 / (len(lanes) + 1)
            lanes = [(l, s * (1.0 - share)) for l, s in lanes] + [(lane, share)]
        self.lanes = lanes

    def set_boost(self, owner, days: float | None) -> None:
        if days is None:
            self.boosts.pop(owner, None)
        else:
            self.boosts[owner] = days
        self.boost = max(self.boosts.values(), default=0.0)


class ComputeGroup:
    """A compute demand node's orders: one gap in measure units, split equally over the
    substitutes it buys through lanes (in chips of each)."""

    __slots__ = ("measure_slot", "lines", "level", "cover", "path", "held")

    def __init__(self, measure_slot, lines, level, cover, path, held):
        self.measure_slot, self.lines, self.level, self.cover, self.path = measure_slot, lines, level, cover, path
        self.held = held  # (slot, value) of every substitute, bought by lane or only held in stock


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

        self.arrivals: dict[int, list] = {}
        self.installs: dict[int, list] = {}   # day -> [(Tool, units)] waiting for installation
        self.inv = [0.0] * n
        for nid, node in sc.nodes.items():
            for pid, qty in node.inventory.items():
                self.inv[net.slot_of[(nid, pid)]] = ctx.draw(qty, f"nodes.{nid}.inventory.{pid}", 0.0)
        self.initial_inventory = list(self.inv)
        self.locked = [0.0] * n
        self.held = [0.0] * n
        self.releasing_on: dict[int, int] = {}  # slot -> last day a stockpile release freed units
        self.holding_cost: dict[int, float] = {}  # slot -> cost per stockpiled unit per day
        self.backlog = [0.0] * n
        self.pipeline = [0.0] * n
        (self.received, self.produced, self.consumed, self.shipped, self.delivered,
         self.demand, self.shortfall, self.cost, self.energy) = ([0.0] * n for _ in range(9))

        # producers: capacity = nominal (with expansions) x factor (losses), by day
        self.producers = []
        self.producer_of: dict[str, int] = {}
        self._nominal = []
        self._base_capacity = []  # the node's own capacity, before any policy adds to it
        self._factor = []
        self._d0: dict[int, np.ndarray] = {}
        days = np.arange(H, dtype=float)
        for k, p in enumerate(net.producers):
            cap = ctx.draw(p.capacity, f"nodes.{p.node}.capacity", 0.0)
            inputs = tuple((s, ctx.draw(a, f"nodes.{p.node}.consumes.{pid}", 0.0)) for s, pid, a in p.inputs)
            self.producers.append((p.out_slot, inputs))
            self.producer_of[p.node] = k
            self._base_capacity.append(cap)
            self._nominal.append(np.full(H, cap))
            self._factor.append(np.ones(H))
            if p.fab is not None and p.fab.model != "fixed":
                d0 = p.fab.d0
                self._d0[k] = (d0_learning_curve(d0.start, d0.end, d0.halflife, days) if hasattr(d0, "halflife")
                               else np.full(H, float(d0)))

        # demand: the expected rate path (with growth), drawn after effects reshape it
        self.demand_of: dict[str, int] = {}
        self._rate = []
        for k, dem in enumerate(net.demands):
            rate0 = ctx.draw(dem.rate, f"nodes.{dem.node}.demand.rate", 0.0)
            self._rate.append(rate0 * np.power(1.0 + dem.growth, days / 365.0))
            self.demand_of[dem.node] = k

        self.lanes = []
        for lane in net.lanes:
            price = sc.products[lane.product].price or 0.0
            name = f"{lane.src}->{lane.dst}:{lane.product}"
            self.lanes.append(Lane(lane.index, lane.src_slot, lane.dst_slot, price, lane.lead_time,
                                   streams.get(f"lead:{name}") if is_distribution(lane.lead_time) else None, name))

        self.effects = []
        for specs in (sc.shocks, sc.policies):
            for i, spec in enumerate(specs):
                self.effects += [e for e in spec.build(ctx, i) if e is not None]
        for effect in self.effects:
            effect.prepare(self)

        self.demand_draws = []
        for k, dem in enumerate(net.demands):
            path = self._rate[k]
            self.demand_draws.append(streams.get(f"demand:{dem.node}").poisson(path).astype(float) if dem.poisson else path)
        self.capacity_path = [self._nominal[k] * self._factor[k] for k in range(len(self.producers))]
        self.capacity = [float(path[0]) if H else 0.0 for path in self.capacity_path]
        self.fabs = self._fabs()
        self.tools = self._tools()
        self.tool_of_slot = {t.slot: t for t in self.tools}

        self.lines, self.groups = self._order_lines()
        self.line_of_slot = {line.slot: line for line in self.lines}
        for group in self.groups:
            for line in group.lines:
                self.line_of_slot[line.slot] = line
        self.daily_effects: list = []
        self.decisions: dict[int, list] = {}
        self._rec: dict[str, np.ndarray] = {}
        self._env: Optional[simpy.Environment] = None

    # --- construction helpers used by effects (prepare) ---------------------------------
    def d0_path(self, node: str) -> np.ndarray:
        return self._d0[self.producer_of[node]]

    def _fabs(self) -> dict[int, tuple]:
        """Per fab producer: (good dies per wafer by day as a list, dies per wafer, yield by day, rng)."""
        fabs = {}
        for k, p in enumerate(self.net.producers):
            fab = p.fab
            if fab is None:
                continue
            if fab.model == "fixed":
                y = np.full(self.horizon, float(fab.fixed_yield))
            elif fab.model == "poisson":
                y = poisson_yield(fab.area_cm2, self._d0[k])
            else:
                y = murphy_yield(fab.area_cm2, self._d0[k])
            rng = self.streams.get(f"yield:{p.node}") if fab.stochastic else None
            fabs[k] = ((fab.dies_per_wafer * y).tolist(), fab.dies_per_wafer, y, rng)
        return fabs

    def _tools(self) -> list[Tool]:
        tools = []
        for k, p in enumerate(self.net.producers):
            # tools required scale with capacity added by expansions
            base = self._base_capacity[k]
            scale = self._nominal[k] / base if base > 0 else np.ones(self.horizon)
            for eq in p.equipment:
                rng = self.streams.get(f"attrition:{p.node}:{eq.product}")
                tool = Tool(p.node, eq, k, (eq.required * scale).tolist(), rng)
                leads = [l.lead_time.mean_value() if hasattr(l.lead_time, "mean_value") else float(l.lead_time)
                         for l in self.net.lanes if l.dst_slot == eq.slot]
                tool.lookahead = eq.install_days + int(round(max(leads, default=0.0)))
                tools.append(tool)
                if self.inv[eq.slot] > 0:  # tools in stock on day 0 count as arrived then
                    self.installs.setdefault(eq.install_days, []).append((tool, self.inv[eq.slot]))
        return tools

    def block_repairs(self, node: str, equipment: str, blocked: bool) -> None:
        for tool in self.tools:
            if tool.node == node and tool.product == equipment:
                tool.blocked = blocked

    def demand_rate_path(self, node: str) -> np.ndarray:
        return self._rate[self.demand_of[node]]

    def nominal_capacity_path(self, node: str) -> np.ndarray:
        return self._nominal[self.producer_of[node]]

    def capacity_factor_path(self, node: str) -> np.ndarray:
        return self._factor[self.producer_of[node]]

    def _use_path(self, node: str, slot: int, use: str) -> Optional[list]:
        """Daily use of a product at a node, by day (None: from recent shipments)."""
        if use == "input":
            k = self.producer_of[node]
            per_unit = dict(self.producers[k][1])[slot]
            return (self._nominal[k] * per_unit).tolist()
        if use in ("demand", "compute"):
            return self._rate[self.demand_of[node]].tolist()
        if use in ("equipment", "spares"):
            tools = [t for t in self.tools if t.node == node and (t.slot == slot or t.spares == slot)]
            return [sum(t.required[d] * t.attrition for t in tools) for d in range(self.horizon)]
        return None

    def _order_lines(self) -> tuple[list[OrderLineState], list[ComputeGroup]]:
        lines, grouped = [], {}
        for line in self.net.order_lines:
            base = [(self.lanes[i], self.net.lanes[i].share) for i in line.lanes]
            path = self._use_path(line.node, line.slot, line.use)
            tool = self.tool_of_slot.get(line.slot) if line.use == "equipment" else None
            if line.use == "compute":
                dem = self.net.demands[self.demand_of[line.node]]
                value = next(s.value for s in dem.substitutes if s.slot == line.slot)
                state = OrderLineState(line.slot, line.level, line.cover, path, False, base, value=value)
                grouped.setdefault(line.node, (dem.slot, line.level, line.cover, path, []))[4].append(state)
            else:
                lines.append(OrderLineState(line.slot, line.level, line.cover, path, path is None, base, tool))
        groups = []
        for node, (m, level, cover, path, members) in grouped.items():
            dem = self.net.demands[self.demand_of[node]]
            groups.append(ComputeGroup(m, members, level, cover, path, [(s.slot, s.value) for s in dem.substitutes]))
        return lines, groups

    # --- hooks used by effects while running ----------------------------------------------
    def attach_gate(self, lane_index: int, gate) -> None:
        self.lanes[lane_index].gates.append(gate)

    def detach_gate(self, lane_index: int, gate) -> None:
        gates = self.lanes[lane_index].gates
        if gate in gates:
            gates.remove(gate)

    def attach_licence(self, lane_index: int, licence) -> None:
        lane = self.lanes[lane_index]
        lane.licences.append(licence)
        lane.licence = lane.licences[0]  # the earliest active regime governs the lane

    def detach_licence(self, lane_index: int, licence) -> None:
        lane = self.lanes[lane_index]
        if licence in lane.licences:
            lane.licences.remove(licence)
        lane.licence = lane.licences[0] if lane.licences else None

    def order_lines_fed_by(self, lane_indices) -> list[OrderLineState]:
        slots = {self.lanes[i].dst for i in lane_indices}
        return [self.line_of_slot[s] for s in sorted(slots) if s in self.line_of_slot]

    def open_lane(self, lane_index: int, share: Optional[float]) -> None:
        lane = self.lanes[lane_index]
        line = self.line_of_slot[lane.dst]
        line.extra.append((lane, share))
        line.reshare()

    def close_lane(self, lane_index: int) -> None:
        lane = self.lanes[lane_index]
        line = self.line_of_slot[lane.dst]
        line.extra = [(l, s) for l, s in line.extra if l is not lane]
        line.reshare()

    def free_stock(self, slot: int) -> float:
        return self.inv[slot] - self.locked[slot]

    def daily_use(self, slot: int, day: int) -> float:
        line = self.line_of_slot.get(slot)
        if line is not None and line.path is not None:
            return line.path[day]
        for k, d in enumerate(self.net.demands):
            if d.slot == slot:
                return float(self._rate[k][day])
        for k, (out, inputs) in enumerate(self.producers):
            for s, a in inputs:
                if s == slot:
                    return float(self._nominal[k][day] * a)
        return 0.0

    def hold(self, slot: int, qty: float) -> None:
        """Move up to ``qty`` free units of a slot into its stockpile."""
        qty = min(qty, self.inv[slot] - self.locked[slot])
        if qty > 0.0:
            self.held[slot] += qty
            self.locked[slot] += qty

    def release(self, slot: int, qty: float) -> None:
        """Free up to ``qty`` stockpiled units of a slot."""
        qty = min(qty, self.held[slot])
        if qty > 0.0:
            self.held[slot] -= qty
            self.locked[slot] -= qty

    def book_cost(self, slot: int, value: float) -> None:
        self.cost[slot] += value

    def _depart(self, lane: Lane, qty: float, day: int, fee: float) -> None:
        """Send ``qty`` already counted in the buyer's pipeline (licensed shipments)."""
        src, dst = lane.src, lane.dst
        self.inv[src] -= qty
        if self.inv[src] < 0.0:
            self.inv[src] = 0.0
        self.shipped[src] += qty
        self.cost[dst] += qty * lane.price * (1.0 + fee)
        t = day + (lane.fixed_lead or lane.next_lead())
        if t < self.horizon:
            self.arrivals.setdefault(t, []).append((dst, qty))

    def _apply(self, lane: Lane, qty: float, day: int) -> None:
        """A shipment on a licensed lane: lock it at the seller until the decision day."""
        self.locked[lane.src] += qty
        self.pipeline[lane.dst] += qty
        licence = lane.licence
        wait = licence.review_days(lane, day)
        if wait <= 0:
            self._decide(lane, qty, licence, day)
        else:
            self.decisions.setdefault(day + wait, []).append((lane, qty, licence))

    def release_pending(self, licence) -> None:
        """Ship at once every application still under review by ``licence``."""
        day = int(self._env.now) if self._env is not None else 0
        for when in sorted(self.decisions):
            kept = []
            for lane, qty, owner in self.decisions[when]:
                if owner is licence:
                    self.locked[lane.src] -= qty
                    self._depart(lane, qty, day, 0.0)
                else:
                    kept.append((lane, qty, owner))
            if kept:
                self.decisions[when] = kept
            else:
                del self.decisions[when]

    def _decide(self, lane: Lane, qty: float, licence, day: int) -> None:
        self.locked[lane.src] -= qty
        approved = licence.decide(lane, qty, day)
        if approved < qty:
            self.pipeline[lane.dst] -= qty - approved  # denied: the goods stay with the seller
        if approved > 0.0:
            self._depart(lane, approved, day, licence.fee)

    # --- processes ----------------------------------------------------------------------
    def _effect_process(self, env: simpy.Environment, effect):
        now = 0
        for a, b in effect.intervals:
            a = max(a, 0)
            if a >= self.horizon or (b is not None and b <= a):
                continue
            if a > now:
                yield _AtStepOne(env, a - now)
                now = a
            effect.activate(self)
            if effect.daily is not None:
                self.daily_effects.append(effect)
                self.daily_effects.sort(key=lambda e: getattr(e, "order", 0))
            if b is None or b >= self.horizon:
                return
            yield _AtStepOne(env, b - now)
            now = b
            if effect.daily is not None:
                self.daily_effects.remove(effect)
            effect.deactivate(self)

    def _days(self, env: simpy.Environment):
        H = self.horizon
        n = len(self.net.slots)
        inv, locked, held, backlog, pipeline = self.inv, self.locked, self.held, self.backlog, self.pipeline
        received, produced, consumed, shipped = self.received, self.produced, self.consumed, self.shipped
        delivered, demand, shortfall, cost, energy = self.delivered, self.demand, self.shortfall, self.cost, self.energy
        capacity = self.capacity
        nominal = list(capacity)  # today's capacity before equipment gating
        dynamic = [(k, path.tolist()) for k, path in enumerate(self.capacity_path) if H and np.ptp(path) > 0]
        fabs = self.fabs
        producers = [(out, inputs, fabs.get(k)) for k, (out, inputs) in enumerate(self.producers)]
        tools = self.tools
        gated = sorted({t.producer for t in tools})
        tools_of = {k: [t for t in tools if t.producer == k] for k in gated}
        tool_of_slot, installs = self.tool_of_slot, self.installs
        wafers = [0.0] * len(producers)
        plain = [(d.slot, d.backlog, self.demand_draws[k].tolist()) for k, d in enumerate(self.net.demands) if not d.measure]
        compute = [(d, d.backlog, self.demand_draws[k].tolist()) for k, d in enumerate(self.net.demands) if d.measure]
        lines, groups = self.lines, self.groups
        by_supplier: dict[int, list] = {}
        for lane in self.lanes:
            by_supplier.setdefault(lane.src, []).append(lane)
        suppliers = list(by_supplier.items())
        arrivals, decisions, daily_effects = self.arrivals, self.decisions, self.daily_effects
        apply, decide = self._apply, self._decide
        # warehouses: 30-day history of what they shipped and of what they were asked for
        watch = sorted({line.slot for line in lines if line.rolling})
        history = {s: [0.0] * 30 for s in watch}
        history_sum = dict.fromkeys(watch, 0.0)
        asked = {s: [0.0] * 30 for s in watch}
        asked_sum = dict.fromkeys(watch, 0.0)
        requested = [0.0] * n

        zeros = [0.0] * n
        rec = self._rec = {m: np.zeros((H, n)) for m in _DAY_METRICS}
        rec_capacity = self._rec_capacity = np.zeros((H, len(producers)))
        rec_wafers = self._rec_wafers = np.zeros((H, len(producers)))
        rec_installed = self._rec_installed = np.zeros((H, len(tools)))
        r_inv, r_rec, r_prod, r_cons, r_ship = rec["inventory"], rec["received"], rec["produced"], rec["consumed"], rec["shipped"]
        r_del, r_dem, r_short, r_back, r_cost = rec["delivered"], rec["demand"], rec["shortfall"], rec["backlog"], rec["cost"]
        r_held, r_energy = rec["stockpile"], rec["energy_mwh"]
        has_demand = bool(plain or compute)
        has_stockpile = any(p.type in ("stockpile", "stockpile_release") for p in self.net.scenario.policies)
        holding = list(self.holding_cost.items())

        for d in range(H):
            # 1. shocks and policies took effect (their processes ran first); daily actions
            for k, path in dynamic:
                capacity[k] = nominal[k] = path[d]
            if daily_effects:
                for effect in list(daily_effects):
                    effect.daily(self, d)
            if holding:
                for s, rate in holding:
                    if held[s]:
                        cost[s] += held[s] * rate
            # 2. shipments due today arrive (new tools wait install_days to be installed)
            due = arrivals.pop(d, None)
            if due:
                for s, q in due:
                    inv[s] += q
                    received[s] += q
                    pipeline[s] -= q
                    if tool_of_slot and s in tool_of_slot:
                        tool = tool_of_slot[s]
                        installs.setdefault(d + tool.install_days, []).append((tool, q))
            # 3a. equipment: install new tools, repair failed ones from spares, gate capacity
            if tools:
                for tool, q in installs.pop(d, ()):
                    free = inv[tool.slot] - locked[tool.slot]
                    now = q if q < free else max(free, 0.0)
                    if now > 0.0:
                        inv[tool.slot] -= now
                        consumed[tool.slot] += now
                        tool.installed += now
                    if q - now > EPS and d + 1 < H:  # tools not free yet (e.g. stockpiled) wait a day
                        installs.setdefault(d + 1, []).append((tool, q - now))
                for k in gated:
                    share = 1.0
                    for tool in tools_of[k]:
                        sp = tool.spares
                        if tool.failed > 0.0 and sp is not None and not tool.blocked:
                            fix = min(tool.failed, inv[sp] - locked[sp])
                            if fix > 0.0:
                                inv[sp] -= fix
                                consumed[sp] += fix
                                tool.installed += fix
                                tool.failed -= fix
                        ratio = tool.installed / tool.required[d]
                        if ratio < share:
                            share = ratio
                    capacity[k] = nominal[k] * share
            # 3b. production: min(effective capacity, what the inputs allow); fabs make good dies
            for k, (out, inputs, fab) in enumerate(producers):
                q = capacity[k]
                for s, a in inputs:
                    avail = inv[s] - locked[s]
                    if avail < q * a:
                        q = avail / a if avail > 0.0 else 0.0
                if q > 0.0:
                    for s, a in inputs:
                        use = q * a
                        inv[s] -= use
                        consumed[s] += use
                        if inv[s] < 0.0:  # q = avail / a can overshoot by one ulp
                            inv[s] = 0.0
                    if fab is not None:
                        wafers[k] = q
                        if fab[3] is None:
                            q = q * fab[0][d]
                        else:
                            q = float(fab[3].binomial(int(q * fab[1]), fab[2][d]))
                    inv[out] += q
                    produced[out] += q
                elif fab is not None:
                    wafers[k] = 0.0
            # 3c. attrition of installed tools, after production
            for tool in tools:
                lost = tool.failures()
                if lost:
                    tool.installed -= lost
                    tool.failed += lost
            # 4. demand: backlog first (oldest demand first), then today's demand
            for s, carry, draws in plain:
                want = draws[d]
                avail = inv[s] - locked[s]
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
            for dem, carry, draws in compute:
                self._serve_compute(dem, carry, draws[d])
            # 5a. licence decisions due today: approved goods leave, denied ones stay
            due = decisions.pop(d, None)
            if due:
                for lane, q, licence in due:
                    decide(lane, q, licence, d)
            # 5b. orders: up to the level on the inventory position
            for line in lines:
                s = line.slot
                if line.rolling:
                    if d:
                        # mean shipments of the last 30 days; a warehouse that has shipped
                        # nothing yet (it started empty) uses the orders it received instead
                        used = history_sum[s] if history_sum[s] > EPS else asked_sum[s]
                        use = used / (d if d < 30 else 30)
                    else:
                        use = 0.0
                else:
                    use = line.path[d]
                level = line.level if line.level is not None else line.cover * use
                if line.boost and line.boost * use > level:
                    level = line.boost * use
                position = inv[s] - locked[s] - backlog[s] + pipeline[s]
                tool = line.tool
                if tool is not None:  # tools in service count, and the level adds the tools required soon
                    level += tool.required[d + tool.lookahead if d + tool.lookahead < H else H - 1]
                    position += tool.installed
                    sp = tool.spares
                    if sp is not None and tool.failed > 0.0 and not tool.blocked:
                        # failed tools that spares on hand or on the way will repair
                        repairable = inv[sp] - locked[sp] + pipeline[sp]
                        position += tool.failed if tool.failed < repairable else max(repairable, 0.0)
                q = level - position
                if q > EPS:
                    for lane, share in line.lanes:
                        lane.req = q * share
            for group in groups:
                self._order_compute(group, d)
            # 5c. suppliers allocate (pro rata when short); trade gates filter first
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
                avail = inv[src] - locked[src]
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
                        if lane.licence is not None:
                            apply(lane, q, d)
                            continue
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
                if compute:
                    r_energy[d] = energy
                    energy[:] = zeros
            if has_stockpile:
                r_held[d] = held
            rec_capacity[d] = capacity
            if fabs:
                rec_wafers[d] = wafers
            if tools:
                rec_installed[d] = [t.installed for t in tools]
            yield env.timeout(1)

    def _serve_compute(self, dem, carry: bool, want: float) -> None:
        """Serve one day's compute demand (measure units) from the substitutes in order of
        preference, keeping the domestic share of what is delivered at least the mandate's."""
        inv, locked, m = self.inv, self.locked, dem.slot
        owed = self.backlog[m]
        domestic = foreign = 0.0
        for sub in dem.substitutes:
            avail = max(0.0, inv[sub.slot] - locked[sub.slot]) * sub.value
            if sub.domestic:
                domestic += avail
            else:
                foreign += avail
        total = min(owed + want, domestic + foreign)
        budget = float("inf")
        share = dem.min_domestic
        if share is not None:
            if share > 0.0:
                total = min(total, domestic / share)
            budget = min(foreign, (1.0 - share) * total)
        left = total
        for sub in dem.substitutes:
            if left <= EPS:
                break
            avail = max(0.0, inv[sub.slot] - locked[sub.slot]) * sub.value
            if not sub.domestic:
                avail = min(avail, budget)
            take = min(avail, left)
            if take <= 0.0:
                continue
            units = take / sub.value
            inv[sub.slot] -= units
            if inv[sub.slot] < 0.0:
                inv[sub.slot] = 0.0
            self.delivered[sub.slot] += units
            self.energy[m] += units * sub.power_kw * 24.0 / 1000.0
            left -= take
            if not sub.domestic:
                budget -= take
        served = total - max(left, 0.0)
        old = min(owed, served)
        new = served - old
        short = want - new
        if short < EPS:
            short = 0.0
        self.demand[m] += want
        self.delivered[m] += served
        self.shortfall[m] += short
        self.backlog[m] = owed - old + short if carry else 0.0

    def _order_compute(self, group: ComputeGroup, day: int) -> None:
        """Order the compute gap, split equally over the substitutes bought through lanes."""
        inv, locked, pipeline = self.inv, self.locked, self.pipeline
        use = group.path[day]
        level = group.level if group.level is not None else group.cover * use
        boost = max(line.boost for line in group.lines)
        if boost and boost * use > level:
            level = boost * use
        position = -self.backlog[group.measure_slot]
        for s, value in group.held:
            position += (inv[s] - locked[s] + pipeline[s]) * value
        gap = level - position
        buying = [line for line in group.lines if line.lanes]
        if gap > EPS and buying:
            for line in buying:
                units = gap / len(buying) / line.value
                for lane, share in line.lanes:
                    lane.req = units * share

    def run(self) -> None:
        """Simulate days 0..horizon-1."""
        env = self._env = simpy.Environment()
        for effect in self.effects:  # created before the clock: they act first on day 0
            env.process(self._effect_process(env, effect))
        env.process(self._days(env))
        env.run(until=self.horizon)

    def output(self, replication: int) -> ReplicationOutput:
        """The reported series as one (horizon, n_series) array."""
        H, n = self.horizon, len(self.net.slots)
        by_slot = {m: np.zeros((H, n)) for m in ("capacity", "wafers_started", "yield", "installed")}
        for k, (out, _) in enumerate(self.producers):
            by_slot["capacity"][:, out] = self._rec_capacity[:, k]
            if k in self.fabs:
                by_slot["wafers_started"][:, out] = self._rec_wafers[:, k]
                by_slot["yield"][:, out] = self.fabs[k][2]
        for i, tool in enumerate(self.tools):
            by_slot["installed"][:, tool.slot] = self._rec_installed[:, i]
        # one fancy-indexing gather per metric (row-major arrays), not one per column
        values = np.empty((H, len(self.net.series)))
        groups: dict[str, tuple[list[int], list[int]]] = {}
        for k, (s, metric) in enumerate(self.net.series):
            slots, positions = groups.setdefault(metric, ([], []))
            slots.append(s)
            positions.append(k)
        for metric, (slots, positions) in groups.items():
            if metric in by_slot:
                source = by_slot[metric]
            elif metric == "good_dies":
                source = self._rec["produced"]
            else:
                source = self._rec[COMPUTE_METRICS.get(metric, metric)]
            values[:, positions] = source[:, slots]
        return ReplicationOutput(replication, values)


def run_replication(net: Network, seed: int, replication: int) -> ReplicationOutput:
    """Run replication ``replication`` of ``net`` with streams spawned from ``seed``."""
    # identical to SeedSequence(seed).spawn(n)[replication], without spawning n children
    seq = np.random.SeedSequence(seed, spawn_key=(replication,))
    world = World(net, Streams(seq))
    world.run()
    return world.output(replication)
