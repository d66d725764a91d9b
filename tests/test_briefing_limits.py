"""The briefing's "what this model cannot say" follows the features a scenario uses: a
scenario with adaptive buyers, make-to-stock makers, precaution and a market must not be
told that buyers never re-source, producers always run flat out or nothing has a price."""
from __future__ import annotations

from helpers import scenario

from sim.reporting.words import limits


def two_node(**node_extra):
    return scenario(products={"x": {"price": 10, **node_extra.pop("product", {})}},
                    nodes={"s": {"produces": "x", "capacity": 5, **node_extra.pop("maker", {})},
                           "b": {"demand": {"product": "x", "rate": 1},
                                 "reorder": {"days_of_cover": 5, **node_extra.pop("rule", {})}}},
                    lanes=[{"from": "s", "to": "b", "product": "x"}],
                    shocks=[{"type": "export_ban", "start": 5, "to": "b"}])


def test_rigid_scenario_keeps_the_rigid_limits():
    text = " ".join(limits(two_node()))
    assert "No product in this scenario has a market, so there are no prices" in text
    assert "Buyers do not re-source" in text
    assert "Producers run at their stated capacity" in text


def test_adaptive_scenario_says_what_it_does_model():
    sc = two_node(rule={"sourcing": "adaptive", "precaution": {"days_of_cover": 9}},
                  maker={"make_to_stock": {"days_of_cover": 30}},
                  product={"market": {"elasticity": -0.5}})
    text = " ".join(limits(sc))
    assert "Buyers do not re-source" not in text and "Buyers marked adaptive" in text
    assert "there are no prices" not in text and "Prices form only for the products with a market" in text
    assert "Producers with make-to-stock" in text
    assert "precautionary cover" in text
    assert "falls with price only for market products" in text
