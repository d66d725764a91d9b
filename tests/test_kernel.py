"""The compiled engine kernel (``sim/engine/kernel.py``) against the readable engine.

The readable day loop (``World._days``) is the reference: on random networks that use
every mechanism the kernel covers (plants, deterministic fabs, tools repaired from
spares, warehouses, plain and compute demand with mandates, priority allocation, fixed
and random lead times, export bans with and without leakage and their announcements,
capacity losses, demand changes, yield shocks, service bans, capacity expansions, new
lanes), both must give the same bytes for every daily series. Networks the kernel does
not cover fall back to the readable engine, which the second property checks.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_engine_properties import networks as any_networks

import sim
from sim.engine import fastpath
from sim.engine.world import World
from sim.network import build_network
from sim.replication import BuildContext, Streams
from sim.schema import Scenario

pytestmark = pytest.mark.skipif(not fastpath.K.available(), reason="numba is not installed")


def _run(net, seed: int, r: int, engine: str):
    world = World(net, Streams(np.random.SeedSequence(seed, spawn_key=(r,))))
    used = world.run(engine)
    return used, world.output(r)


def assert_same(sc: Scenario, replications: int = 2, engine: str = "kernel") -> str:
    """Both engines on every replication: the same bytes; returns the engine ``engine`` resolved to."""
    net = build_network(sc)
    used = "reference"
    for r in range(replications):
        _, ref = _run(net, sc.seed, r, "reference")
        used, out = _run(net, sc.seed, r, engine)
        assert out.values.shape == ref.values.shape
        assert out.values.tobytes() == ref.values.tobytes(), [net.series[j] for j in
                                                              np.flatnonzero((out.values != ref.values).any(axis=0))]
        assert out.triggers == ref.triggers
    return used


def test_working_days_closed_form_matches_numpy():
    """The closed form equals numpy's business-day offset for every weekday, day and count."""
    for start in (dt.date(2025, 1, 1), dt.date(2025, 1, 4), dt.date(2026, 3, 8)):
        ctx = BuildContext.__new__(BuildContext)
        ctx.start_date = start
        for day in range(0, 15):
            for n in range(0, 23):
                begin = np.datetime64(start) + np.timedelta64(day, "D")
                want = 0 if n <= 0 else int((np.busday_offset(begin, n, roll="forward") - begin) / np.timedelta64(1, "D"))
                assert ctx.working_days_to_calendar(day, n) == want, (start, day, n)


def test_reference_network_and_bench_network_run_in_the_kernel_with_the_same_bytes():
    for path in ("scenarios/reference.yaml", "bench/scenarios/forty_nodes.yaml"):
        sc = sim.load_scenario(path)
        assert assert_same(sc, replications=1) == "kernel"


def test_unsupported_network_falls_back_or_refuses():
    doc = {"name": "x", "horizon": 20, "products": {"p": {}},
           "nodes": {"a": {"produces": "p", "capacity": 5, "make_to_stock": {"days_of_cover": 3}},
                     "b": {"inventory": {"p": 5}, "demand": {"product": "p", "rate": 4},
                           "reorder": {"days_of_cover": 5}}},
           "lanes": [{"from": "a", "to": "b", "product": "p", "lead_time": 2}]}
    sc = Scenario.model_validate(doc)
    assert assert_same(sc, engine="auto") == "reference"
    with pytest.raises(ValueError, match="make-to-stock"):
        _run(build_network(sc), 1, 0, "kernel")


@st.composite
def kernel_networks(draw) -> Scenario:
    """Sources -> plants (fabs, tools) -> depots -> cities (plain or compute demand), with
    the shocks and policies the kernel covers."""
    n_src, n_plant, n_depot, n_dem = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(0, 2)),
                                      draw(st.integers(1, 3)))
    qty = st.floats(0, 500, allow_nan=False)
    lead = st.one_of(st.integers(1, 6), st.just({"dist": "triangular", "low": 1, "mode": 2, "high": 5}))
    regions = ["CN", "US", "EU"]
    nodes, lanes = {}, []
    for i in range(n_src):
        nodes[f"src{i}"] = {"region": draw(st.sampled_from(regions)), "produces": "p0",
                            "capacity": draw(st.floats(0, 50)), "inventory": {"p0": draw(qty)}}
    for i in range(n_plant):
        plant = nodes[f"plant{i}"] = {"region": draw(st.sampled_from(regions)), "produces": "p1",
                                      "capacity": draw(st.floats(0, 40)), "consumes": {"p0": draw(st.floats(0.1, 3))},
                                      "inventory": {"p0": draw(qty), "p1": draw(qty)},
                                      "reorder": {"days_of_cover": draw(st.floats(0, 30))}}
        if draw(st.booleans()):
            plant["fab"] = {"die_area_mm2": draw(st.floats(50, 800)),
                            "yield_model": draw(st.sampled_from(["murphy", "poisson"])),
                            "d0_per_cm2": {"start": 0.5, "end": 0.1, "halflife": 30}}
            plant["consumes"] = {"p0": draw(st.floats(100, 2000))}
        if draw(st.booleans()):
            plant["equipment"] = {"tool": {"required": 10, "installed": draw(st.floats(0, 12)),
                                           "attrition": draw(st.floats(0, 0.2)), "spares": "kit"}}
            plant["inventory"]["kit"] = draw(st.floats(0, 20))
            plant["inventory"]["tool"] = draw(st.floats(0, 3))
            plant["stochastic"] = False  # expected attrition (random failures fall back to the readable engine)
        for j in draw(st.sets(st.integers(0, n_src - 1), min_size=1)):
            lanes.append({"from": f"src{j}", "to": f"plant{i}", "product": "p0", "lead_time": draw(lead)})
    tool_maker = any("equipment" in n for n in nodes.values())
    if tool_maker:  # tools and spares come from a maker, so that the tool and spares order lines ship
        nodes["toolco"] = {"region": "US", "produces": "tool", "capacity": draw(st.floats(0, 2)),
                           "inventory": {"tool": draw(st.floats(0, 5))}}
        nodes["kitco"] = {"region": "EU", "produces": "kit", "capacity": draw(st.floats(0, 5))}
        for nid, node in list(nodes.items()):
            if "equipment" in node:
                lanes.append({"from": "toolco", "to": nid, "product": "tool", "lead_time": draw(lead)})
                lanes.append({"from": "kitco", "to": nid, "product": "kit", "lead_time": draw(lead)})
    ups = [f"plant{i}" for i in range(n_plant)]
    for i in range(n_depot):
        nodes[f"depot{i}"] = {"inventory": {"p1": draw(qty)},
                              "reorder": draw(st.sampled_from([{"days_of_cover": 10}, {"level": 200}]))}
        for j in draw(st.sets(st.integers(0, n_plant - 1), min_size=1)):
            lanes.append({"from": f"plant{j}", "to": f"depot{i}", "product": "p1", "lead_time": draw(lead)})
    ups += [f"depot{i}" for i in range(n_depot)]
    for i in range(n_dem):
        compute = i > 0 and draw(st.booleans())
        nodes[f"city{i}"] = {
            "region": draw(st.sampled_from(regions)), "inventory": {"p1": draw(qty)},
            "demand": {"product": ["p1"] if compute else "p1", "rate": draw(st.floats(0, 30)),
                       **({"measure": "perf", "mandate": {"region": "CN", "min_share": draw(st.floats(0, 1))}}
                          if compute else {}),
                       "distribution": draw(st.sampled_from(["deterministic", "poisson"])),
                       "backlog": draw(st.booleans()), "growth": draw(st.floats(-0.5, 1.0))},
            "reorder": {"days_of_cover": draw(st.floats(0, 40))}}
        for up in draw(st.sets(st.sampled_from(ups), min_size=1)):
            lanes.append({"from": up, "to": f"city{i}", "product": "p1", "lead_time": draw(lead),
                          "share": draw(st.floats(0.1, 5))})
    for nid in sorted(nodes):
        if not nid.startswith("city") and draw(st.booleans()):
            nodes[nid]["allocation"] = {"priority": draw(st.lists(st.sampled_from(sorted(nodes)), max_size=3))}
    shocks, policies = _levers(draw, nodes, lanes, regions, n_src)
    doc = {"name": "kernel", "horizon": draw(st.integers(5, 90)), "seed": draw(st.integers(0, 1000)),
           "replications": 2, "products": {"p0": {"price": 2}, "p1": {"price": 5, "perf": 2.0, "power_kw": 0.5},
                                           "tool": {"kind": "equipment"}, "kit": {}},
           "nodes": nodes, "lanes": lanes, "shocks": shocks, "policies": policies}
    sc = Scenario.model_validate(doc)
    from sim.selectors import lanes_matching
    live = [s for s in sc.shocks if s.type != "export_ban" or lanes_matching(sc, s)]
    return sc.model_copy(update={"shocks": live})


def _levers(draw, nodes, lanes, regions, n_src) -> tuple[list, list]:
    shocks = []
    fabs = sorted(n for n, node in nodes.items() if "fab" in node)
    tooled = sorted(n for n, node in nodes.items() if "equipment" in node)
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, 40))
        window = {"start": start, "end": draw(st.one_of(st.none(), st.integers(start + 1, 80)))}
        kind = draw(st.sampled_from(["export_ban", "capacity_loss", "demand_change", "yield_shock", "service_ban"]))
        if kind == "export_ban":
            announced = {"announced": start - 5, "anticipation": {"days_of_cover": draw(st.floats(0, 60))}} \
                if start >= 5 and draw(st.booleans()) else {}
            shocks.append({"type": kind, **window, **announced, "to": {"region": draw(st.sampled_from(regions))},
                           "leakage": draw(st.sampled_from([0.0, 0.3]))})
        elif kind == "capacity_loss":
            shocks.append({"type": kind, **window, "node": "plant0", "fraction": draw(st.floats(0, 1)),
                           "recovery_days": draw(st.integers(0, 10))})
        elif kind == "yield_shock" and fabs:
            shocks.append({"type": kind, **window, "node": fabs[0], "d0_multiplier": draw(st.floats(0.5, 3))})
        elif kind == "service_ban" and tooled:
            shocks.append({"type": kind, **window, "equipment": "tool", "to": tooled[0]})
        elif kind == "demand_change":
            shocks.append({"type": kind, **window, "node": "city0", "multiplier": draw(st.floats(0, 3))})
    policies = []
    if draw(st.booleans()):
        policies.append({"type": "capacity_expansion", "node": "plant0", "capacity": draw(st.floats(0, 30)),
                         "start": draw(st.integers(-10, 40)), "ramp_days": draw(st.integers(0, 20))})
    if n_src > 1 and draw(st.booleans()):
        held = {lane["from"] for lane in lanes if lane["to"] == "plant0"}
        free = [f"src{j}" for j in range(n_src) if f"src{j}" not in held]
        if free:
            policies.append({"type": "new_lane", "from": free[0], "to": "plant0", "product": "p0",
                             "start": draw(st.integers(0, 30)), "qualification_days": draw(st.integers(0, 10)),
                             **({"end": 60} if draw(st.booleans()) else {})})
    return shocks, policies


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kernel_networks())
def test_kernel_gives_the_readable_engines_bytes(sc):
    world = World(build_network(sc), Streams(np.random.SeedSequence(sc.seed, spawn_key=(0,))))
    assume(fastpath.unsupported(world) is None)  # only a leaky ban from day 0 on a warehouse's lane
    assert assert_same(sc) == "kernel"


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_networks())
def test_auto_engine_gives_the_readable_engines_bytes(sc):
    """Networks with every mechanism: the kernel where it covers them, the readable engine elsewhere."""
    assert_same(sc, engine="auto")


def test_tools_installed_after_the_horizon_are_never_installed():
    """Tools in stock on day 0 and tools arriving late are due after the horizon: both
    engines leave them in stock (the kernel's calendars stop at the horizon)."""
    doc = {"name": "late tools", "horizon": 12, "products": {"p": {}, "tool": {"kind": "equipment"}},
           "nodes": {"maker": {"produces": "tool", "capacity": 1},
                     "plant": {"produces": "p", "capacity": 10, "inventory": {"tool": 3},
                               "equipment": {"tool": {"required": 5, "installed": 4, "attrition": 0.05,
                                                      "install_days": 20}},
                               "stochastic": False, "reorder": {"days_of_cover": 10}},
                     "city": {"inventory": {"p": 5}, "demand": {"product": "p", "rate": 6},
                              "reorder": {"days_of_cover": 4}}},
           "lanes": [{"from": "maker", "to": "plant", "product": "tool", "lead_time": 2},
                     {"from": "plant", "to": "city", "product": "p", "lead_time": 1}]}
    sc = Scenario.model_validate(doc)
    assert assert_same(sc, replications=1) == "kernel"
    res = sim.run(sc, replications=1)
    ts = res.timeseries
    inv = ts[(ts.node == "plant") & (ts["product"] == "tool") & (ts.metric == "inventory")]
    assert inv["value"].iloc[-1] >= 3.0  # the opening 3 tools wait for day 20, beyond day 11
