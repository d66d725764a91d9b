"""The network as plain, indexed structure: nodes, stock slots, lanes, recipes.

``build_network`` turns a validated ``Scenario`` into a ``Network`` the engine can run
without looking at the schema again: every (node, product) stock gets a slot index,
every lane knows its slots, every ordering node knows its lanes and their shares.
Parameters that may be distributions stay as specs here; ``BuildContext`` draws them
once per replication from named random streams.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .distributions import is_distribution
from .errors import ChipsimUserError
from .fab import dies_per_wafer
from .reportedseries import COMPUTE_METRICS as COMPUTE_METRICS  # re-exported: the engine reads it here
from .reportedseries import reported_series
from .resolution import central_value, drawer, drawn_paths, resolved, stream_paths
from .schema import Scenario
from .selectors import nodes_matching

# --- structure ----------------------------------------------------------------------

@dataclass(frozen=True)
class LaneDef:
    """One lane: its ends as slots, lead time (days) and share of the buyer's orders."""

    index: int
    src: str
    dst: str
    product: str
    src_slot: int
    dst_slot: int
    lead_time: Any       # float days or a distribution (drawn per shipment)
    share: float         # normalised among the buyer's lanes for this product (0: a standby lane)
    policy: int | None = None  # index of the new_lane policy that opens it (closed until then)
    qualification_days: int = 0  # standby lanes of adaptive buyers: days before they take orders
    weight: Any = None   # the share as written, when a share of the lane's group is a distribution


@dataclass(frozen=True)
class FabDef:
    """Yield physics of a fab; ``dies_per_wafer`` is gross dies on the usable wafer."""

    dies_per_wafer: int
    area_cm2: float
    model: str                   # murphy | poisson | fixed
    fixed_yield: float | None
    d0: Any                      # float or D0Curve
    stochastic: bool


@dataclass(frozen=True)
class EquipmentDef:
    """Tools a producer needs: capacity x min(1, installed / required)."""

    product: str
    slot: int                    # the node's stock of not-yet-installed tools
    spares_slot: int | None
    required: float
    installed: float
    attrition: Any               # daily failure probability, or a distribution spec (drawn per replication)
    install_days: int
    stochastic: bool


@dataclass(frozen=True)
class ProducerDef:
    """One producing node: output slot, capacity (units/day) and recipe inputs."""

    node: str
    out_slot: int
    capacity: Any                           # units/day (wafers/day for fabs), number or distribution
    inputs: tuple[tuple[int, str, Any], ...]  # (slot, product, amount per unit)
    fab: FabDef | None = None
    equipment: tuple[EquipmentDef, ...] = ()
    # make_to_stock: target stock in days of mean daily requests, or its distribution
    # (None: full capacity every day)
    make_to_stock: Any = None


@dataclass(frozen=True)
class MarketDef:
    """A market product at a demand node (docs/markets.md)."""

    price: float           # base price, currency per unit
    elasticity: float      # < 0
    max_multiplier: float  # cap on the scarcity multiplier, >= 1
    window_days: int       # days of past supply averaged
    orders: float | None = None          # signal: orders -> the order ratio's weight w (0-1]; None: shelves only
    thrift: tuple[float, int] | None = None  # (share of destroyed demand that stays away, recovery days)
    cover_at_price: bool = False  # cover: at_price -> the buyer's cover counts the use it keeps at today's price


@dataclass(frozen=True)
class Substitute:
    """One product that can serve compute demand, in order of preference."""

    slot: int
    product: str
    value: float                 # measure units per unit of product (e.g. TFLOPS per chip)
    power_kw: float
    domestic: bool
    market: MarketDef | None = None  # the product's ``market`` (docs/markets.md, section 6)
    system_power_factor: float = 1.0  # system power per FLOP against a reference system (facility energy only)
    also: tuple[float, ...] = ()      # its value in each of the node's ``also_measure`` attributes


@dataclass(frozen=True)
class DemandDef:
    """Final demand at a node: rate (units/day, or measure units/day), growth per year, draws."""

    node: str
    slot: int                    # the product's slot, or the measure's slot for compute demand
    rate: Any
    growth: Any                  # per year, or a distribution spec
    poisson: bool
    backlog: bool
    measure: str | None = None
    substitutes: tuple[Substitute, ...] = ()
    min_domestic: float | None = None
    market: MarketDef | None = None  # plain demand for a product with ``market`` (contract section 11)
    efficiency_gain: Any = None      # per year, or a distribution spec: the rate path / (1+gain)^(day/365)
    also_slots: tuple[int, ...] = ()  # slots of the ``also_measure`` attributes (capability_delivered only)
    facility: tuple[Any, Any] | None = None  # (pue, server_overhead), numbers or distribution specs


@dataclass(frozen=True)
class OrderLine:
    """One node's replenishment of one product over its incoming lanes.

    The order-up-to level is ``level`` units when given, else ``cover`` days of the
    node's own daily use of the product, which is ``use``: "input" (nominal capacity x
    recipe), "demand" (expected demand rate) or "stock" (mean shipments, warehouses).
    """

    node: str
    product: str
    slot: int
    lanes: tuple[int, ...]       # open from day 0
    use: str
    level: Any                   # units, a distribution spec, or None
    cover: Any                   # days, a distribution spec, or None
    adaptive: bool = False       # orders follow the lanes' effective shares (contract 10.2)
    level_key: str = "level"     # the level's parameter name: "level", or "level.<product>" from a mapping
    precaution: tuple[Any, int] | None = None  # (days of cover or its distribution, relax days) while a control looms
    speculation: tuple[str, float, float, int | None] | None = None  # trader: (market node, S days, k, T days)


@dataclass
class Network:
    """A scenario indexed for the engine: stock slots, lanes, producers, demands, order lines."""

    scenario: Scenario
    slots: list[tuple[str, str]]
    slot_of: dict[tuple[str, str], int]
    lanes: list[LaneDef]
    producers: list[ProducerDef]
    demands: list[DemandDef]
    order_lines: list[OrderLine]
    series: list[tuple[int, str]] = field(default_factory=list)  # (slot, metric) reported
    # per lane index: the row that names its flow and fee series, ("from->to", product),
    # appended to ``slots`` after every stock slot (the engine books lane flows there)
    lane_slots: list[int] = field(default_factory=list)
    # lanes out of a supplier with ``allocation.priority``: lane index -> tier (0 is served
    # first; buyers matched by no selector form the last tier, len(priority))
    lane_rank: dict[int, int] = field(default_factory=dict)
    # paths of the distributions each replication draws before its own network is built
    # (sim.resolution); this network, shaped by their means, serves for structure only
    drawn: tuple[str, ...] = ()
    # the producers whose fab or tool figures are all that is drawn (None: rebuild the whole network)
    drawn_producers: frozenset[str] | None = None

    @property
    def horizon(self) -> int:
        """Days simulated."""
        return self.scenario.horizon



class _SlotIndex:
    """Stock slots in order of first mention: the index is the slot number."""

    def __init__(self) -> None:
        self.slots: list[tuple[str, str]] = []
        self.slot_of: dict[tuple[str, str], int] = {}

    def __call__(self, node: str, product: str) -> int:
        key = (node, product)
        if key not in self.slot_of:
            self.slot_of[key] = len(self.slots)
            self.slots.append(key)
        return self.slot_of[key]


def build_network(scenario: Scenario) -> Network:
    """Index a validated scenario into slots, lanes, producers, demands and order lines.

    Slots are numbered in order of first mention (node stocks, then lane ends, then
    stockpiles); the reported series follow that order. When fields the engine reads as
    numbers hold distributions (``sim.resolution``), the network is shaped by their
    means, keeps the scenario as written, and each replication runs
    ``network_for_replication`` instead.
    """
    paths = drawn_paths(scenario)
    if not paths:
        return _indexed(scenario)
    net = _indexed(resolved(scenario, paths, central_value))
    net.scenario, net.drawn = scenario, paths
    net.drawn_producers = _tool_and_fab_nodes(net)
    return net


def _tool_and_fab_nodes(net: Network) -> frozenset[str] | None:
    """The producers whose ``fab:`` or ``equipment:`` blocks hold every drawn path, or None
    when some drawn path lies elsewhere (then the whole network is rebuilt)."""
    owners = {}
    for p in net.producers:
        for block in ("fab", "equipment"):
            owners[f"nodes.{p.node}.{block}."] = p.node
    touched = set()
    for path in net.drawn:
        node = next((nid for prefix, nid in owners.items() if path.startswith(prefix)), None)
        if node is None:
            return None
        touched.add(node)
    return frozenset(touched)


def network_for_replication(net: Network, streams) -> Network:
    """The network one replication runs: ``net`` itself, or, when it holds distributions
    drawn before the build (``Network.drawn``), the one built from this replication's draws
    (only the producers' definitions when the draws are all fab or tool figures, the
    common case, which keeps the rebuild off the replication's clock)."""
    if not net.drawn:
        return net
    scenario = resolved(net.scenario, net.drawn, drawer(streams, stream_paths(net.scenario)))
    touched = net.drawn_producers
    if touched is None:
        return _indexed(scenario, like=net)
    producers = [p if p.node not in touched else
                 replace(p, fab=_fab_def(scenario.nodes[p.node]),
                         equipment=_equipment_defs(p.node, scenario.nodes[p.node], net.slot_of))
                 for p in net.producers]
    return replace(net, scenario=scenario, producers=producers, drawn=())


def _indexed(scenario: Scenario, like: Network | None = None) -> Network:
    """The network of ``scenario``; ``like``: a network of the same file whose reported
    series and lane tiers it shares (they depend on its shape, which no draw changes)."""
    slot = _SlotIndex()
    _node_slots(scenario, slot)
    incoming = _incoming(scenario)
    lanes = _lane_defs(scenario, incoming, slot)
    for p in scenario.policies:
        if p.type in ("stockpile", "stockpile_release"):
            slot(p.node, p.product)
    slot_of = slot.slot_of
    producers = [
        ProducerDef(nid, slot_of[(nid, n.produces)], n.capacity,
                    tuple((slot_of[(nid, p)], p, a) for p, a in n.consumes.items()),
                    _fab_def(n), _equipment_defs(nid, n, slot_of),
                    n.make_to_stock.days_of_cover if n.make_to_stock is not None else None)
        for nid, n in scenario.nodes.items() if n.produces
    ]
    demands = [_demand_def(scenario, nid, n, slot_of) for nid, n in scenario.nodes.items() if n.demand]
    net = Network(scenario, slot.slots, slot_of, lanes, producers, demands, _order_lines(scenario, incoming, slot_of))
    net.lane_slots = [slot(lane_name(lane.src, lane.dst), lane.product) for lane in lanes]
    if like is None:
        net.series, net.lane_rank = reported_series(net), _lane_ranks(scenario, lanes)
    else:  # the same reported series in every replication, whatever was drawn
        net.series, net.lane_rank = like.series, like.lane_rank
    return net


def _lane_ranks(scenario: Scenario, lanes: list[LaneDef]) -> dict[int, int]:
    """Tier of every lane out of a supplier with ``allocation.priority``: the first selector
    that matches the buyer (a buyer matched by several belongs to the first), else the
    number of selectors (the remaining buyers, served last, pro rata)."""
    tiers: dict[str, list[set[str]]] = {}
    for nid, node in scenario.nodes.items():
        if node.allocation is not None and node.allocation.priority:
            tiers[nid] = [nodes_matching(scenario, sel) for sel in node.allocation.priority]
    ranks: dict[int, int] = {}
    for lane in lanes:
        chosen = tiers.get(lane.src)
        if chosen is not None:
            ranks[lane.index] = next((k for k, nodes in enumerate(chosen) if lane.dst in nodes), len(chosen))
    return ranks


def lane_name(src: str, dst: str) -> str:
    """How a lane is named in the ``node`` column of the tidy table: ``from->to``."""
    return f"{src}->{dst}"


def _node_slots(scenario: Scenario, slot: _SlotIndex) -> None:
    """Number every stock a node holds: output, inputs, opening stock, tools, demand."""
    for nid, node in scenario.nodes.items():
        if node.produces:
            slot(nid, node.produces)
        for pid in node.consumes:
            slot(nid, pid)
        for pid in node.inventory:
            slot(nid, pid)
        for pid, need in node.equipment.items():
            slot(nid, pid)
            if need.spares:
                slot(nid, need.spares)
        if node.demand:
            for pid in node.demand.products:
                slot(nid, pid)
            if node.demand.measure:
                slot(nid, node.demand.measure)
            for extra in node.demand.also_measures:
                slot(nid, extra)


def _incoming(scenario: Scenario) -> dict[tuple[str, str], list[int]]:
    """(buyer, product) -> indices of the scenario lanes into it; a buyer reached only by
    a ``new_lane`` policy gets an empty list (its lane opens later)."""
    incoming: dict[tuple[str, str], list[int]] = {}
    for i, lane in enumerate(scenario.lanes):
        incoming.setdefault((lane.to, lane.product), []).append(i)
    for p in scenario.policies:
        if p.type == "new_lane":
            incoming.setdefault((p.to, p.product), [])
    return incoming


def _lane_defs(scenario: Scenario, incoming: dict[tuple[str, str], list[int]], slot: _SlotIndex) -> list[LaneDef]:
    """The scenario's lanes with their normalised shares, then the closed policy lanes."""
    lanes: list[LaneDef] = []
    for i, lane in enumerate(scenario.lanes):
        group = incoming[(lane.to, lane.product)]
        weights = [scenario.lanes[j].share for j in group]
        if all(w is None for w in weights):
            share = 1.0 / len(group)
        elif lane.share is None or any(w is None for w in weights):
            raise ChipsimUserError(f"lanes into '{lane.to}' for '{lane.product}': give every lane a share, or none")
        else:
            # a share given as a distribution counts at its mean here; the engine draws it
            means = [w.mean_value() if is_distribution(w) else float(w) for w in weights if w is not None]
            total = sum(means)
            if total <= 0:
                raise ChipsimUserError(f"lanes into '{lane.to}' for '{lane.product}': every lane has share 0; "
                                       "give at least one lane a share above 0")
            own = lane.share.mean_value() if is_distribution(lane.share) else float(lane.share)
            share = own / total
        drawn = any(is_distribution(w) for w in weights)
        lanes.append(LaneDef(i, lane.from_, lane.to, lane.product, slot(lane.from_, lane.product),
                             slot(lane.to, lane.product), lane.lead_time, share,
                             qualification_days=lane.qualification_days or 0,
                             weight=lane.share if drawn else None))
    for j, p in enumerate(scenario.policies):
        if p.type == "new_lane":
            lanes.append(LaneDef(len(lanes), p.from_, p.to, p.product, slot(p.from_, p.product),
                                 slot(p.to, p.product), p.lead_time, 0.0, policy=j))
    return lanes


def _use_of(node: Any, pid: str) -> str:
    """What a node's order-up-to level of ``pid`` is measured against (see ``OrderLine``)."""
    spares = {need.spares for need in node.equipment.values() if need.spares}
    if pid in node.consumes:
        return "input"
    if node.demand and node.demand.measure and pid in node.demand.products:
        return "compute"
    if node.demand and pid in node.demand.products:
        return "demand"
    if pid in node.equipment:
        return "equipment"
    if pid in spares:
        return "spares"
    return "stock"


def _order_lines(scenario: Scenario, incoming: dict[tuple[str, str], list[int]],
                 slot_of: dict[tuple[str, str], int]) -> list[OrderLine]:
    """One replenishment line per (buyer, product) with a reorder rule, in lane order."""
    order_lines: list[OrderLine] = []
    for (nid, pid), lane_ids in incoming.items():
        node = scenario.nodes[nid]
        rule = node.reorder
        if rule is None:
            continue
        use = _use_of(node, pid)
        adaptive = rule.sourcing == "adaptive"
        precaution = ((rule.precaution.days_of_cover, int(rule.precaution.relax_days))
                      if rule.precaution is not None else None)
        sp = rule.speculation
        speculation = (sp.market, float(sp.days_of_cover), float(sp.exponent), sp.momentum_days) if sp else None
        if rule.level is not None:
            level = rule.level.get(pid) if isinstance(rule.level, dict) else rule.level
            if level is None:
                continue  # a per-product level that leaves this product out: not ordered
            key = f"level.{pid}" if isinstance(rule.level, dict) else "level"
            order_lines.append(OrderLine(nid, pid, slot_of[(nid, pid)], tuple(lane_ids), use, level, None,
                                         adaptive=adaptive, precaution=precaution, level_key=key,
                                         speculation=speculation))
        elif rule.days_of_cover is not None:  # always, when there is no level (Reorder checks)
            order_lines.append(OrderLine(nid, pid, slot_of[(nid, pid)], tuple(lane_ids), use, None,
                                         rule.days_of_cover, adaptive=adaptive, precaution=precaution,
                                         speculation=speculation))
    return order_lines


def _fab_def(node) -> FabDef | None:
    if (fab := node.fab) is None:
        return None
    stochastic = fab.stochastic if fab.stochastic is not None else bool(node.stochastic)
    return FabDef(dies_per_wafer(fab.wafer_diameter_mm, fab.die_area_mm2, fab.edge_exclusion_mm),
                  fab.die_area_mm2 / 100.0, fab.yield_model, fab.yield_, fab.d0_per_cm2, stochastic)


def _equipment_defs(nid, node, slot_of) -> tuple[EquipmentDef, ...]:
    random = node.stochastic is not False  # tool failures are random unless the node says false
    return tuple(
        EquipmentDef(pid, slot_of[(nid, pid)], slot_of[(nid, need.spares)] if need.spares else None,
                     need.required, need.installed, need.attrition, need.install_days, random)
        for pid, need in node.equipment.items())


def _domestic(scenario: Scenario, product: str, region: str) -> bool:
    makers = [n for n in scenario.nodes.values() if n.produces == product]
    return bool(makers) and all(n.region == region for n in makers)


def _market_def(scenario: Scenario, pid: str) -> MarketDef | None:
    m, price = scenario.products[pid].market, scenario.products[pid].price
    if m is None:
        return None
    orders = (1.0 if m.signal_weight is None else float(m.signal_weight)) if m.signal == "orders" else None
    thrift = (float(m.thrift.share), int(m.thrift.recovery_days)) if m.thrift is not None else None
    return MarketDef(float(price or 0.0), m.elasticity, m.max_multiplier, m.window_days, orders, thrift,
                     m.cover == "at_price")


def _demand_def(scenario: Scenario, nid: str, node, slot_of) -> DemandDef:
    dem = node.demand
    poisson = dem.distribution == "poisson"
    if not dem.measure:
        return DemandDef(nid, slot_of[(nid, dem.product)], dem.rate, dem.growth, poisson, dem.backlog,
                         market=_market_def(scenario, dem.product))
    region = dem.mandate.region if dem.mandate else None
    attrs = {pid: scenario.products[pid].attributes for pid in dem.products}
    subs = tuple(
        Substitute(slot_of[(nid, pid)], pid, attrs[pid][dem.measure], attrs[pid].get("power_kw", 0.0),
                   region is not None and _domestic(scenario, pid, region), _market_def(scenario, pid),
                   attrs[pid].get("system_power_factor", 1.0), tuple(attrs[pid][m] for m in dem.also_measures))
        for pid in dem.products)
    facility = None
    if node.pue is not None or node.server_overhead is not None:
        facility = (1.0 if node.pue is None else node.pue, 1.0 if node.server_overhead is None else node.server_overhead)
    return DemandDef(nid, slot_of[(nid, dem.measure)], dem.rate, dem.growth, poisson, dem.backlog,
                     dem.measure, subs, dem.mandate.min_share if dem.mandate else None,
                     efficiency_gain=dem.efficiency_gain, also_slots=tuple(slot_of[(nid, m)] for m in dem.also_measures),
                     facility=facility)
