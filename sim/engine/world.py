"""One replication of the supply chain as a SimPy simulation.

Time advances in whole days. One day-clock process runs the contract's day order, each
step delegated to the phase that owns it (``shipping``, ``equipment``, ``production``,
``demand``, ``licences``, ``ordering``, ``allocation``, ``recorder``), all sharing one
``Ledger`` of stocks and flows. Shocks and policies are separate SimPy processes
(``levers``) that act at step 1; they reach the world only through the ``LeverWorld``
methods below (``sim.effects``).
"""
from __future__ import annotations

import gc
import os
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from ..distributions import is_distribution
from ..effects import Effect
from ..network import Network, network_for_replication
from ..replication import BuildContext, Streams
from .allocation import Allocation
from .capability import derived_series, fill, rate_paths
from .demand import Demand, demand_lines
from .equipment import Equipment, build_tools
from .ledger import Ledger
from .levers import DailyEffects, lever_process
from .licences import Licensing
from .market import ComputeMarketLine, Market, MarketLine, Option, lane_weights
from .ordering import ComputeGroup, Ordering, OrderLineState, daily_use_path
from .precaution import control_windows, precaution_days
from .production import Production, build_producer, fab_line
from .recorder import Recorder
from .shipping import Lane, Shipping
from .signposts import Signposts
from .sourcing import AdaptiveSourcing
from .speculation import speculator

# node-days (nodes x days x replications so far) after which "auto" compiles the kernel when
# it is not compiled yet (about 8-10 s, once per machine): a few seconds of the readable engine
COMPILE_AFTER = 3_000_000


@dataclass
class ReplicationOutput:
    """Daily values of every reported series (``Network.series``), shape (horizon, n_series),
    and per triggered policy (policy index, day it fired, its start day; None: never fired)."""

    replication: int
    values: np.ndarray
    triggers: tuple[tuple[int, int | None, int | None], ...] = ()


class World:
    """State of one replication and the processes that move it day by day."""

    def __init__(self, net: Network, streams: Streams):
        self.net = net
        self.streams = streams
        self.horizon = H = net.horizon
        sc = net.scenario
        ctx = self.ctx = BuildContext(net, streams)
        # stock slots only: the lanes' rows of ``net.slots`` (their flow and fee series) come last, holding no stock
        inventory = [0.0] * (len(net.slots) - len(net.lane_slots))
        for nid, node in sc.nodes.items():
            for pid, qty in node.inventory.items():
                inventory[net.slot_of[(nid, pid)]] = ctx.draw(qty, f"nodes.{nid}.inventory.{pid}", 0.0)
        self.ledger = Ledger(len(inventory), inventory, len(net.lanes))
        self.holding_cost: dict[int, float] = {}  # slot -> cost per stockpiled unit per day
        self._released: dict[int, int] = {}      # slot -> last day a stockpile release was due
        self.producers = [build_producer(p, ctx, H) for p in net.producers]
        self.producer_of = {p.node: k for k, p in enumerate(net.producers)}
        # expected demand by day with growth (and efficiency gain); effects reshape it before the draws
        self._rate = rate_paths(net, ctx, H)
        self.derived = derived_series(net, ctx)  # also_measure and facility energy series (capability.py)
        self._share = self._lane_shares()
        self.demand_of = {dem.node: k for k, dem in enumerate(net.demands)}
        self.shipping = Shipping(self.ledger, H)
        self.lanes = [self._lane(lane) for lane in net.lanes]
        self.licensing = Licensing(self.ledger, self.shipping)
        self.daily = DailyEffects()
        self.effects: list[Effect] = []
        triggered = []  # policies waiting for a signpost: built when their trigger fires
        for specs in (sc.shocks, sc.policies):
            for i, spec in enumerate(specs):
                if getattr(spec, "trigger", None) is not None:
                    triggered.append((i, spec))
                    continue
                self.effects += [e for e in spec.build(ctx, i) if e is not None]
        for effect in self.effects:
            effect.prepare(self)
        self._build_phases()
        self.signposts = Signposts(self, triggered) if triggered else None
        self._env: simpy.Environment | None = None
        self.kernel_values: np.ndarray | None = None  # the output array, when the kernel ran (``fastpath``)

    def _lane_shares(self) -> list[float]:
        """Each lane's normalised share of its buyer's orders in this replication (shares
        given as distributions are drawn, then normalised within the buyer's lanes)."""
        shares = [lane.share for lane in self.net.lanes]
        groups: dict[int, list] = {}
        for lane in self.net.lanes:
            if lane.weight is not None:
                groups.setdefault(lane.dst_slot, []).append(lane)
        for members in groups.values():
            drawn = [self.ctx.draw(lane.weight, f"lanes.{lane.index}.share", 0.0) for lane in members]
            total = sum(drawn)
            for lane, w in zip(members, drawn, strict=True):
                shares[lane.index] = w / total if total > 0 else 1.0 / len(members)
        return shares

    def _lane(self, lane) -> Lane:
        price = self.net.scenario.products[lane.product].price or 0.0
        name = f"{lane.src}->{lane.dst}:{lane.product}"
        rng = self.streams.get(f"lead:{name}") if is_distribution(lane.lead_time) else None
        return Lane(lane.index, lane.src_slot, lane.dst_slot, price, lane.lead_time, rng, name)

    def _build_phases(self) -> None:
        """The phases of the day, once effects have reshaped the deterministic paths."""
        net, H, led = self.net, self.horizon, self.ledger
        for p, producer in zip(net.producers, self.producers, strict=True):
            if p.fab is not None:
                rng = self.streams.get(f"yield:{p.node}") if p.fab.stochastic else None
                producer.fab = fab_line(p.fab, producer.d0, H, rng)
        self.production = Production(led, self.producers, H)
        self.equipment = Equipment(led, self.production, build_tools(net, self.producers, self.streams, led.inv), H)
        self.shipping.equipment = self.equipment
        served = demand_lines(net.demands, self._rate, self.streams)
        self.demand = Demand(led, served)
        self.market = self._market(served)
        lines, groups = self._order_book()
        self.ordering = Ordering(led, H, lines, groups)
        if self.market is not None:  # thrift and cover: at_price lower the use its buyers order for
            self.market.attach_use(self.ordering.line_of_slot)
        for maker in self.production.stock_makers:  # inputs ordered for today's mean requests
            for s, a in self.producers[maker.k].inputs:
                line = self.ordering.line_of_slot.get(s)
                if line is not None and line.path is not None:
                    maker.input_paths.append((line.path, a))
        self.allocation = Allocation(led, self.shipping, self.licensing, self.lanes, H, net.lane_rank)
        present = set()
        if net.demands:
            present.add("demand")
        if any(d.measure for d in net.demands):
            present.add("compute")
        if any(p.type in ("stockpile", "stockpile_release") for p in net.scenario.policies):
            present.add("stockpile")
        if any(line.adaptive for line in net.order_lines):
            present.add("adaptive")
        if self.market is not None:
            present.add("market")
        fees = any(m == "fee" for _, m in net.series)
        self.recorder = Recorder(led, self.production, self.equipment, H, present, fees)

    def _market(self, served) -> Market | None:
        """The market demand lines (contract section 11), each with its inbound lanes; None without any."""
        lines, compute = [], []
        for line in served:
            m = line.spec.market
            if m is not None:
                lines.append(MarketLine(line.slot, line.carry, line.draws, m.price, m.elasticity, m.max_multiplier,
                                        m.window_days, self._inbound(line.slot), m.orders, m.thrift,
                                        m.cover_at_price))
            elif line.spec.measure and any(sub.market for sub in line.spec.substitutes):
                compute.append(self._compute_market(line))
        return Market(self.ledger, lines, compute) if lines or compute else None

    def _inbound(self, slot: int) -> list:
        """A market slot's inbound lanes with their weights: the replication's shares (drawn
        when a share is a distribution), as the orders use."""
        inbound = [(self.lanes[lane.index], self._share[lane.index]) for lane in self._lanes_into(slot)]
        return lane_weights(inbound) if inbound else []

    def _compute_market(self, line) -> ComputeMarketLine:
        """A compute market node; its priced substitutes share one market block (crossrefs checks)."""
        dem = line.spec
        m = next(sub.market for sub in dem.substitutes if sub.market is not None)
        options = [Option(sub.slot, sub.value, sub.power_kw, sub.domestic,
                          sub.market.price if sub.market else None, self._inbound(sub.slot) if sub.market else [], k)
                   for k, sub in enumerate(dem.substitutes)]
        return ComputeMarketLine(line.slot, line.carry, line.draws, m.elasticity, m.max_multiplier, m.window_days,
                                 dem.min_domestic, options)

    def use_path(self, node: str, slot: int, use: str) -> list[float] | None:
        """Daily use of a product at a node (units/day), by day (None: from recent shipments)."""
        producer = self.producers[self.producer_of[node]] if use == "input" else None
        rate = self._rate[self.demand_of[node]] if use in ("demand", "compute") else None
        return daily_use_path(node, slot, use, producer, rate, self.equipment.tools, self.horizon)

    def _order_book(self) -> tuple[list[OrderLineState], list[ComputeGroup]]:
        """Every node's order lines; compute nodes' lines grouped by node."""
        lines: list[OrderLineState] = []
        self.use_lines: list[tuple[OrderLineState, str, int, str]] = []  # (state, node, slot, use) with a path
        self._controls: list | None = None  # trade controls' lanes and spans, for precautions
        grouped: dict[str, tuple[int, Any, list[OrderLineState]]] = {}
        tool_of_slot = self.equipment.tool_of_slot
        for line in self.net.order_lines:
            base = [(self.lanes[i], self._share[i]) for i in line.lanes]
            where = f"nodes.{line.node}.reorder"
            level = None if line.level is None else self.ctx.draw(line.level, f"{where}.{line.level_key}", 0.0)
            cover = None if line.cover is None else self.ctx.draw(line.cover, f"{where}.days_of_cover", 0.0)
            path = self.use_path(line.node, line.slot, line.use)
            tool = tool_of_slot.get(line.slot) if line.use == "equipment" else None
            if line.use == "compute":
                dem = self.net.demands[self.demand_of[line.node]]
                value = next(s.value for s in dem.substitutes if s.slot == line.slot)
                state = self._adapt(line, OrderLineState(line.slot, level, cover, path, False, base, value=value))
                grouped.setdefault(line.node, (dem.slot, path, []))[2].append(state)
            else:
                state = self._adapt(line, OrderLineState(line.slot, level, cover, path, path is None, base, tool))
                lines.append(state)
            if path is not None:
                self.use_lines.append((state, line.node, line.slot, line.use))
        groups = []
        for node, (m, path, members) in grouped.items():
            dem = self.net.demands[self.demand_of[node]]
            groups.append(ComputeGroup(m, members, path, [(s.slot, s.value) for s in dem.substitutes]))
        return lines, groups

    def _lanes_into(self, slot: int) -> list:
        """The network's lanes (``LaneDef``) that deliver into ``slot``, policy lanes included."""
        return [lane for lane in self.net.lanes if lane.dst_slot == slot]

    def _adapt(self, line, state: OrderLineState) -> OrderLineState:
        """Give an order line its adaptive sourcing, precautionary cover and speculation, if it asks for them."""
        if line.adaptive:
            standby = {lane.index: lane.qualification_days for lane in self._lanes_into(line.slot)
                       if lane.share <= 0.0 and lane.policy is None}
            state.sourcing = AdaptiveSourcing(standby, self.licensing.general)
        if line.precaution is not None:
            if self._controls is None:
                self._controls = control_windows(self.ctx)
            cover, relax = line.precaution
            state.precaution = self.ctx.draw(cover, f"nodes.{line.node}.reorder.precaution.days_of_cover", 0.0)
            inbound = {lane.index for lane in self._lanes_into(line.slot)}
            state.precaution_on = precaution_days(inbound, relax, self._controls, self.horizon)
        state.speculation = speculator(line, self.net.slot_of, self.demand_rate_path, self.horizon)
        return state

    # --- LeverWorld: what effects may read and change (see sim.effects) -------------------
    def demand_rate_path(self, node: str) -> np.ndarray:
        """Expected demand per day of a demand node (units/day), by day."""
        return self._rate[self.demand_of[node]]

    def nominal_capacity_path(self, node: str) -> np.ndarray:
        """Nominal capacity of a producer (units/day), by day."""
        return self.producers[self.producer_of[node]].nominal

    def capacity_factor_path(self, node: str) -> np.ndarray:
        """Share of nominal capacity available (0-1), by day."""
        return self.producers[self.producer_of[node]].factor

    def d0_path(self, node: str) -> np.ndarray:
        """Defect density of a fab (defects/cm²), by day."""
        d0 = self.producers[self.producer_of[node]].d0
        assert d0 is not None, f"{node} has no defect density"
        return d0

    def free_stock(self, slot: int) -> float:
        """Units of the slot that may be used now."""
        return self.ledger.free(slot)

    def stockpiled(self, slot: int) -> float:
        """Units held in the slot's stockpile."""
        return self.ledger.held[slot]

    def daily_use(self, slot: int, day: int) -> float:
        """Expected use of the slot's product on ``day`` (units/day)."""
        line = self.ordering.line_of_slot.get(slot)
        if line is not None and line.path is not None:
            return line.path[day]
        for k, d in enumerate(self.net.demands):
            if d.slot == slot:
                return float(self._rate[k][day])
        for producer in self.producers:
            for s, a in producer.inputs:
                if s == slot:
                    return float(producer.nominal[day] * a)
        return 0.0

    def normal_volume(self, lane_index: int, since: int) -> Callable[[int], float]:
        """A lane's normal daily volume (units/day) as a function of the day: its buyer's daily
        use times the lane's share of section 6 (warehouses: their mean shipments before
        ``since``, the day a control started; see ``Ordering.shipment_mean``)."""
        lane = self.net.lanes[lane_index]
        line = self.ordering.line_of_slot.get(lane.dst_slot)
        share = self._share[lane_index]
        if line is None or share <= 0.0:
            return lambda day: 0.0
        if line.rolling:
            mean = self.ordering.shipment_mean(line.slot, since)
            return lambda day: mean(day) * share
        path = line.path
        assert path is not None
        per_unit = 1.0
        for group in self.ordering.groups:  # compute: the measure's rate, split over the substitutes bought
            if line in group.lines:
                per_unit = 1.0 / line.value / max(1, sum(1 for other in group.lines if other.lanes))
        return lambda day: path[day] * per_unit * share

    def hold(self, slot: int, qty: float) -> None:
        """Move up to ``qty`` free units of a slot into its stockpile."""
        led = self.ledger
        qty = min(qty, led.inv[slot] - led.locked[slot])
        if qty > 0.0:
            led.held[slot] += qty
            led.locked[slot] += qty

    def release(self, slot: int, qty: float, day: int) -> None:
        """Free up to ``qty`` stockpiled units; the slot's stockpile does not refill on ``day``."""
        self._released[slot] = day
        led = self.ledger
        qty = min(qty, led.held[slot])
        if qty > 0.0:
            led.held[slot] -= qty
            led.locked[slot] -= qty

    def released_on(self, slot: int, day: int) -> bool:
        """Whether a release of the slot was due on ``day``."""
        return self._released.get(slot) == day

    def add_holding_cost(self, slot: int, rate: float) -> None:
        """Book ``rate`` (currency per stockpiled unit per day) from the first day on."""
        self.holding_cost[slot] = self.holding_cost.get(slot, 0.0) + rate

    def attach_gate(self, lane_index: int, gate: Any) -> None:
        """Make ``gate.admit`` filter the lane's orders."""
        self.lanes[lane_index].gates.append(gate)

    def detach_gate(self, lane_index: int, gate: Any) -> None:
        """Stop filtering the lane with ``gate``."""
        gates = self.lanes[lane_index].gates
        if gate in gates:
            gates.remove(gate)

    def attach_licence(self, lane_index: int, licence: Any) -> None:
        """Put the lane under a licence regime; the earliest active regime governs."""
        lane = self.lanes[lane_index]
        lane.licences.append(licence)
        lane.licence = lane.licences[0]

    def detach_licence(self, lane_index: int, licence: Any) -> None:
        """Take the lane out of a licence regime."""
        lane = self.lanes[lane_index]
        if licence in lane.licences:
            lane.licences.remove(licence)
        lane.licence = lane.licences[0] if lane.licences else None

    def release_pending(self, licence: Any) -> None:
        """Ship at once every application still under review by ``licence``."""
        self.licensing.release_pending(licence, int(self._env.now) if self._env is not None else 0)

    def attach_general_licence(self, lane_index: int, licence: Any) -> None:
        """From now on, licensed shipments on the lane are approved on their order day, without review."""
        self.licensing.grant_general(lane_index, licence)

    def detach_general_licence(self, lane_index: int, licence: Any) -> None:
        """Withdraw a general licence from the lane (others still in force keep acting)."""
        self.licensing.withdraw_general(lane_index, licence)

    def approve_pending(self, lane_indices: Iterable[int]) -> None:
        """Applications under review on these lanes are decided today (step 5a), approved; fee and quota apply."""
        self.licensing.expedite(set(lane_indices), int(self._env.now) if self._env is not None else 0)

    def open_lane(self, lane_index: int, share: float | None) -> None:
        """Open a lane to the buyer's orders with ``share`` (None: an equal share)."""
        lane = self.lanes[lane_index]
        line = self.ordering.line_of_slot[lane.dst]
        line.extra.append((lane, share))
        line.reshare()

    def close_lane(self, lane_index: int) -> None:
        """Close a lane opened by ``open_lane``."""
        lane = self.lanes[lane_index]
        line = self.ordering.line_of_slot[lane.dst]
        line.extra = [(other, s) for other, s in line.extra if other is not lane]
        line.reshare()

    def boost_cover(self, lane_indices: Iterable[int], owner: Effect, days: float | None) -> None:
        """Ask the buyers fed by these lanes for ``days`` of cover (None: withdraw the ask)."""
        for line in self.ordering.lines_fed_by([self.lanes[i] for i in lane_indices]):
            line.set_boost(owner, days)

    def block_repairs(self, node: str, equipment: str, blocked: bool) -> None:
        """Forbid (or allow again) repairs of a node's tools from spares."""
        self.equipment.block_repairs(node, equipment, blocked)

    # --- the day ------------------------------------------------------------------------
    def _days(self, env: simpy.Environment) -> Generator[Any, Any, None]:
        daily, production, equipment, shipping, market = (self.daily, self.production, self.equipment, self.shipping, self.market)
        demand, licensing, ordering, allocation, recorder = (self.demand, self.licensing, self.ordering,
                                                             self.allocation, self.recorder)
        holding = list(self.holding_cost.items())
        held, cost = self.ledger.held, self.ledger.cost
        has_tools = bool(equipment.tools)
        to_stock = bool(production.stock_makers)
        signposts = self.signposts
        watch = market is not None and bool(market.watch)
        for d in range(self.horizon):
            # 1. shocks and policies took effect (their processes ran first); daily actions
            production.set_capacity(d)
            if daily.active:
                daily.act(self, d)
            for s, rate in holding:
                if held[s]:
                    cost[s] += held[s] * rate
            # 2. shipments due today arrive (new tools wait install_days to be installed)
            shipping.arrive(d)
            # 3. equipment gates capacity, producers make what they can, tools wear out
            if has_tools:
                equipment.install_and_repair(d)
            production.produce(d)
            if has_tools:
                equipment.wear()
            # 4. demand: backlog first, then today's demand
            demand.serve(d)
            if market is not None:  # demand at price: contract section 11
                market.serve(d)
            # 5. licence decisions due today, orders, allocation at the suppliers
            licensing.decide_due(d)
            ordering.place(d)
            if watch:  # market signal: orders (docs/markets.md, section 7) reads the orders around allocation
                market.allocate_watching(allocation, d)  # type: ignore[union-attr]
            else:
                allocation.allocate(d)
            if to_stock:
                production.remember_requests(d)
            ordering.remember(d)
            recorder.record(d)
            if signposts is not None and signposts.pending and signposts.check(d):
                holding = list(self.holding_cost.items())  # a fired stockpile may book holding costs
            yield env.timeout(1)

    def run(self, engine: str = "auto") -> str:
        """Simulate days 0..horizon-1; returns the engine that ran ("kernel" or "reference").

        ``engine``: "reference" runs the readable day loop below; "kernel" the compiled
        one (``sim.engine.fastpath``; an error if it does not cover the network); "auto"
        the kernel when it covers the network, else the readable loop."""
        if engine != "reference":
            from . import fastpath  # imports numba only when asked for
            reason = fastpath.unsupported(self)
            if reason is None:
                fastpath.KernelRun(self).run()
                return "kernel"
            if engine == "kernel":
                raise ValueError(f"the engine kernel does not cover this network: {reason}")
        env = self._env = simpy.Environment()
        for effect in self.effects:  # created before the clock: they act first on day 0
            env.process(lever_process(env, self, effect, self.daily, self.horizon))
        env.process(self._days(env))
        env.run(until=self.horizon)
        return "reference"

    def output(self, replication: int) -> ReplicationOutput:
        """The reported series as one (horizon, n_series) array."""
        fired = () if self.signposts is None else self.signposts.outcome()
        values = self.kernel_values if self.kernel_values is not None else self.recorder.output(self.net)
        if self.derived:
            fill(values, self.derived)
        return ReplicationOutput(replication, values, fired)


def run_replication(net: Network, seed: int, replication: int, engine: str | None = None) -> ReplicationOutput:
    """Run replication ``replication`` of ``net`` with streams spawned from ``seed``.

    ``engine``: "auto", "kernel" or "reference" (see ``World.run``); None reads the
    ``CHIPSIM_ENGINE`` environment variable (default "auto"). Both engines give the
    same bytes. "auto" does not compile the kernel for a small job: while it is not
    compiled (nor cached on disk), it runs the readable engine until the process has
    simulated about ``COMPILE_AFTER`` node-days of the network."""
    # identical to SeedSequence(seed).spawn(n)[replication], without spawning n children
    seq = np.random.SeedSequence(seed, spawn_key=(replication,))
    engine = engine or os.environ.get("CHIPSIM_ENGINE", "auto")
    if engine == "auto" and net.horizon * len(net.scenario.nodes) * (replication + 1) < COMPILE_AFTER:
        from . import kernel  # a small job on a machine without the compiled kernel: not worth compiling
        engine = "auto" if kernel.ready() else "reference"
    # the cyclic garbage collector's full passes scan every object alive, and a large
    # network holds millions of them while it builds: paused for the replication (it
    # frees nothing a replication still uses), cost stays linear in the network's size
    collecting = gc.isenabled()
    gc.disable()
    try:
        streams = Streams(seq)
        world = World(network_for_replication(net, streams), streams)
        world.run(engine)
        return world.output(replication)
    finally:
        if collecting:
            gc.enable()
