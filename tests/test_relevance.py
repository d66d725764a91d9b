"""The briefing's "what drives the result" names the shocks that touch the focus node's
supply chain (or a buyer competing for it) and counts the rest."""
from __future__ import annotations

from types import SimpleNamespace

from helpers import scenario
from sim.reporting.relevance import supply_chain, touches
from sim.reporting.summary import Focus, drivers

# ore -> mill -> users (the focus); rivals buy from the mill too; chips -> labs is apart
DOC = dict(
    horizon=50, products={"ore": {}, "bar": {}, "chip": {}},
    nodes={"ore_mine": {"region": "CN", "produces": "ore", "capacity": 10},
           "mill": {"region": "CN", "produces": "bar", "capacity": 10, "consumes": {"ore": 1},
                    "reorder": {"days_of_cover": 5}},
           "users": {"region": "EU", "demand": {"product": "bar", "rate": 3}, "reorder": {"days_of_cover": 5}},
           "rivals": {"region": "US", "demand": {"product": "bar", "rate": 3}, "reorder": {"days_of_cover": 5}},
           "fab": {"region": "TW", "produces": "chip", "capacity": 5},
           "labs": {"region": "US", "demand": {"product": "chip", "rate": 2}, "reorder": {"days_of_cover": 5}}},
    lanes=[{"from": "ore_mine", "to": "mill", "product": "ore"},
           {"from": "mill", "to": "users", "product": "bar"},
           {"from": "mill", "to": "rivals", "product": "bar"},
           {"from": "fab", "to": "labs", "product": "chip"}],
    shocks=[{"type": "export_ban", "name": "Ore ban", "start": 5, "product": "ore", "from": "ore_mine"},
            {"type": "demand_change", "name": "Rivals buy more", "start": 5, "node": "rivals", "multiplier": 2},
            {"type": "capacity_loss", "name": "Fab fire", "start": 5, "node": "fab", "fraction": 0.5},
            {"type": "export_ban", "name": "Chip ban", "start": 5, "product": "chip", "from": "fab", "to": "labs"}])


def test_the_supply_chain_is_the_node_its_suppliers_and_their_other_buyers():
    sc = scenario(**DOC)
    assert supply_chain(sc, "users") == {"users", "mill", "ore_mine", "rivals"}
    assert supply_chain(sc, "labs") == {"labs", "fab"}


def test_only_shocks_on_that_chain_are_named():
    sc = scenario(**DOC)
    near = supply_chain(sc, "users")
    assert [s.name for s in sc.shocks if touches(s, sc, near)] == ["Ore ban", "Rivals buy more"]
    data = SimpleNamespace(base=SimpleNamespace(scenario=sc), variants=[SimpleNamespace(scenario=sc)])
    lines = drivers(data, Focus("users", "bar", "t", "EU users", "bar"))
    assert lines[0].startswith("Ore ban") and lines[1].startswith("Rivals buy more")
    assert lines[2].startswith("2 other shocks of the base act elsewhere in the network")
    assert "compete for their supply" in lines[2]                # "EU users": plural
    assert len(lines) == 3
    # without a focus row every shock is named, as before
    assert len(drivers(data)) == 4
