"""Chipmaking tools in service (steps 3a and 3c of the day).

A producer's capacity is gated by its tools: capacity x min(1, installed / required).
New tools are installed ``install_days`` after they arrive; failed tools are repaired from
spares unless a servicing ban blocks repairs; attrition happens after production.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..network import EquipmentDef, Network
from .ledger import EPS, Ledger

if TYPE_CHECKING:  # pragma: no cover
    from .production import Producer, Production


class Tool:
    """A producer's stock of one kind of equipment in service (counts of tools)."""

    __slots__ = ("node", "product", "slot", "spares", "installed", "failed", "attrition", "install_days",
                 "random", "required", "base_required", "blocked", "_binomial", "producer", "lookahead")

    def __init__(self, node: str, eq: EquipmentDef, producer: int, required_path: list[float],
                 rng: np.random.Generator, attrition: float):
        self.node, self.product, self.producer = node, eq.product, producer
        self.slot, self.spares = eq.slot, eq.spares_slot
        self.installed = float(eq.installed)
        self.failed = 0.0
        # share of installed tools failing per day: a fixed value, or one draw per replication
        self.attrition = attrition
        self.install_days = eq.install_days
        self.random = eq.stochastic
        self.required = required_path          # tools needed by day (grows with expansions)
        self.base_required = eq.required       # tools needed at the node's base capacity
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


def build_tools(net: Network, producers: list[Producer], streams, inv: list[float]) -> list[Tool]:
    """Every producer's tools; required counts scale with capacity added by expansions."""
    tools = []
    horizon = net.horizon
    for k, (p, prod) in enumerate(zip(net.producers, producers, strict=True)):
        base = prod.base_capacity
        scale = prod.nominal / base if base > 0 else np.ones(horizon)
        for eq in p.equipment:
            rng = streams.get(f"attrition:{p.node}:{eq.product}")
            attrition = streams.draw(eq.attrition, f"nodes.{p.node}.equipment.{eq.product}.attrition", 0.0, 1.0)
            tool = Tool(p.node, eq, k, (eq.required * scale).tolist(), rng, attrition)
            leads = [ln.lead_time.mean_value() if hasattr(ln.lead_time, "mean_value") else float(ln.lead_time)
                     for ln in net.lanes if ln.dst_slot == eq.slot]
            tool.lookahead = eq.install_days + int(round(max(leads, default=0.0)))
            tools.append(tool)
    return tools


class Equipment:
    """Installation, repair, capacity gating and attrition of every tool."""

    __slots__ = ("ledger", "production", "tools", "tool_of_slot", "installs", "horizon", "_gated")

    def __init__(self, ledger: Ledger, production: Production, tools: list[Tool], horizon: int):
        self.ledger = ledger
        self.production = production
        self.tools = tools
        self.tool_of_slot = {t.slot: t for t in tools}
        self.horizon = horizon
        self.installs: dict[int, list[tuple[Tool, float]]] = {}  # day -> [(tool, units)] to install
        for tool in tools:
            if ledger.inv[tool.slot] > 0:  # tools in stock on day 0 count as arrived then
                self.installs.setdefault(tool.install_days, []).append((tool, ledger.inv[tool.slot]))
        gated = sorted({t.producer for t in tools})
        self._gated = [(k, [t for t in tools if t.producer == k]) for k in gated]

    def schedule_install(self, tool: Tool, qty: float, day: int) -> None:
        """``qty`` new tools arrived on ``day``: installed ``install_days`` later."""
        self.installs.setdefault(day + tool.install_days, []).append((tool, qty))

    def block_repairs(self, node: str, equipment: str, blocked: bool) -> None:
        """Forbid (or allow again) repairs of a node's tools from spares."""
        for tool in self.tools:
            if tool.node == node and tool.product == equipment:
                tool.blocked = blocked

    def install_and_repair(self, day: int) -> None:
        """Step 3a: install new tools, repair failed ones from spares, gate capacity."""
        led = self.ledger
        inv, locked, consumed = led.inv, led.locked, led.consumed
        installs = self.installs
        for tool, q in installs.pop(day, ()):
            free = inv[tool.slot] - locked[tool.slot]
            now = q if q < free else max(free, 0.0)
            if now > 0.0:
                inv[tool.slot] -= now
                consumed[tool.slot] += now
                tool.installed += now
            if q - now > EPS and day + 1 < self.horizon:  # tools not free yet (e.g. stockpiled) wait a day
                installs.setdefault(day + 1, []).append((tool, q - now))
        capacity, nominal = self.production.capacity, self.production.nominal
        for k, tools in self._gated:
            share = 1.0
            for tool in tools:
                sp = tool.spares
                if tool.failed > 0.0 and sp is not None and not tool.blocked:
                    fix = min(tool.failed, inv[sp] - locked[sp])
                    if fix > 0.0:
                        inv[sp] -= fix
                        consumed[sp] += fix
                        tool.installed += fix
                        tool.failed -= fix
                ratio = tool.installed / tool.required[day]
                if ratio < share:
                    share = ratio
            capacity[k] = nominal[k] * share

    def wear(self) -> None:
        """Step 3c: attrition of installed tools, after production."""
        for tool in self.tools:
            lost = tool.failures()
            if lost:
                tool.installed -= lost
                tool.failed += lost
