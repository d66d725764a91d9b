"""Growth, demand_change and yield_shock multipliers, lane shares and reorder levels accept
distributions (contract section 6: any numeric parameter may be one), drawn once per
replication and parameter.

Each test uses a uniform distribution whose draws cannot all coincide, then checks a
relation that holds exactly for every draw (derived by hand), and that the draws vary.
"""
from __future__ import annotations

import numpy as np
import pytest
from helpers import run, scenario, series


def buyer(**over):
    """Buyer b uses ``rate`` a day from a large stock at s over a 1-day lane."""
    dem = {"product": "x", "rate": 10, **over.pop("demand", {})}
    node = {"inventory": {"x": 1e6}, "demand": dem, **over.pop("node", {})}
    return scenario(horizon=over.pop("horizon", 366), replications=over.pop("replications", 8), seed=3,
                    products={"x": {}}, nodes={"s": {"inventory": {"x": 1e9}}, "b": node},
                    lanes=over.pop("lanes", [{"from": "s", "to": "b", "product": "x"}]), shocks=over.pop("shocks", []))


def by_rep(res, node, metric, day):
    ts = res.timeseries
    sel = ts[(ts["node"] == node) & (ts["metric"] == metric) & (ts["day"] == day)]
    return sel.set_index("replication")["value"].sort_index()


def test_growth_drawn_per_replication():
    # demand on day 365 is rate x (1 + g)^(365/365) = 10 (1 + g), so g = demand/10 - 1 per run,
    # and every g lies in the distribution's range [0.1, 0.5]
    res = run(buyer(demand={"growth": {"dist": "uniform", "low": 0.1, "high": 0.5}}))
    g = by_rep(res, "b", "demand", 365) / 10 - 1
    assert ((g >= 0.1 - 1e-12) & (g <= 0.5 + 1e-12)).all()
    assert g.nunique() == len(g)  # one draw per replication
    # and the path is compounded daily with that same g: day 182 is 10 (1+g)^(182/365)
    d182 = by_rep(res, "b", "demand", 182)
    np.testing.assert_allclose(d182, 10 * (1 + g) ** (182 / 365))


def test_demand_change_multiplier_drawn():
    shock = {"type": "demand_change", "node": "b", "start": 10, "end": 20,
             "multiplier": {"dist": "uniform", "low": 0.2, "high": 0.8}}
    res = run(buyer(horizon=30, shocks=[shock]))
    m = by_rep(res, "b", "demand", 15) / 10
    assert ((m >= 0.2) & (m <= 0.8)).all() and m.nunique() == len(m)
    assert (by_rep(res, "b", "demand", 25) == 10).all()  # back to the rate after the shock


def test_lane_shares_drawn_and_normalised():
    # two lanes with shares w1 ~ U(1, 3) and w2 = 1: lane 1 takes w1 / (w1 + 1) of each order,
    # which lies in [0.5, 0.75]; the two flows add up to the day's order
    lanes = [{"from": "s", "to": "b", "product": "x", "share": {"dist": "uniform", "low": 1, "high": 3}},
             {"from": "t", "to": "b", "product": "x", "share": 1}]
    sc = buyer(horizon=10, lanes=lanes, node={"inventory": {"x": 100}, "reorder": {"level": 100}})
    sc = sc.model_copy(update={"nodes": {**sc.nodes, "t": sc.nodes["s"]}})
    res = run(sc)
    a = by_rep(res, "s->b", "flow", 3)
    b = by_rep(res, "t->b", "flow", 3)
    share = a / (a + b)
    np.testing.assert_allclose(a + b, 10.0)  # it re-orders its daily use
    assert ((share >= 0.5 - 1e-12) & (share <= 0.75 + 1e-12)).all() and share.nunique() == len(share)


def test_reorder_cover_drawn_once_per_node():
    # cover D ~ U(5, 15) days, use 10 a day, opening stock 0: on day 0 the order is 10 D, so
    # the shipment of day 0 reveals D; it is within the range and differs between runs
    sc = buyer(horizon=5, node={"inventory": {"x": 0}, "reorder": {"days_of_cover": {"dist": "uniform", "low": 5,
                                                                                       "high": 15}}})
    res = run(sc)
    cover = by_rep(res, "s", "shipped", 0) / 10
    assert ((cover >= 5) & (cover <= 15)).all() and cover.nunique() == len(cover)


def test_a_fixed_value_still_validates_and_bad_distributions_are_refused():
    from pydantic import ValidationError

    buyer(demand={"growth": 0.3})
    with pytest.raises(ValidationError, match="below the allowed range"):
        buyer(demand={"growth": {"dist": "uniform", "low": -2, "high": 0.5}})
    with pytest.raises(ValidationError, match="below the allowed range"):
        buyer(shocks=[{"type": "demand_change", "node": "b", "start": 1,
                       "multiplier": {"dist": "uniform", "low": -1, "high": 1}}])
