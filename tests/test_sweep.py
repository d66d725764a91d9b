"""Sweeps: designs, parameter paths and the tornado sensitivities."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import scenario
from sim.errors import ChipsimUserError
from sim.sweep import Lever, parse_vary, samples, sensitivity, sweep


def test_parse_vary():
    assert parse_vary("shocks.0.leakage=0:0.2") == Lever("shocks.0.leakage", 0.0, 0.2)
    for bad in ("leakage", "x=2:1", "x=a:b"):
        with pytest.raises(ChipsimUserError):
            parse_vary(bad)


def test_latin_hypercube_puts_one_point_in_each_stratum():
    # n points of a Latin hypercube: each of the n equal strata of every lever holds one
    pts = samples([Lever("a", 0, 10), Lever("b", 100, 200)], 8, "lhs", seed=1)
    for j, (lo, hi) in enumerate(((0, 10), (100, 200))):
        strata = np.floor((pts[:, j] - lo) / (hi - lo) * 8).astype(int)
        assert sorted(strata) == list(range(8))


def test_grid_is_full_factorial():
    pts = samples([Lever("a", 0, 1), Lever("b", 0, 2)], 3, "grid", seed=0)
    assert len(pts) == 9 and sorted(set(pts[:, 1])) == [0.0, 1.0, 2.0]


def test_sensitivity_recovers_a_linear_response():
    # KPI = 5 + 2 a - 3 b with a in [0, 1] and b in [0, 2]: moving a across its range
    # changes the KPI by +2, moving b by -6; b ranks first.
    levers = [Lever("a", 0, 1), Lever("b", 0, 2)]
    pts = samples(levers, 12, "lhs", seed=3)
    table = pd.DataFrame({"a": pts[:, 0], "b": pts[:, 1], "node": "n", "product": "p", "metric": "shortfall",
                          "value": 5 + 2 * pts[:, 0] - 3 * pts[:, 1]})
    sens = sensitivity(table, levers, "n", "p")
    assert list(sens["lever"]) == ["b", "a"]
    assert sens.set_index("lever")["effect"].to_dict() == pytest.approx({"a": 2.0, "b": -6.0})
    assert sens["centre"].iloc[0] == pytest.approx(5 + 2 * 0.5 - 3 * 1.0)


def test_sweep_varies_a_shock_parameter_on_common_random_numbers():
    # a ban of 30 to 90 days on a consumer with 10 days of stock: shortfall grows with
    # the ban's end day, so the sensitivity to shocks.0.end is positive
    sc = scenario(horizon=150, products={"x": {}},
                  nodes={"s": {"produces": "x", "capacity": 100},
                         "b": {"inventory": {"x": 100}, "demand": {"product": "x", "rate": 10}, "reorder": {"level": 100}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 3}],
                  shocks=[{"type": "export_ban", "start": 0, "end": 30, "from": "s"}])
    lever = Lever("shocks.0.end", 30, 90)
    table = sweep(sc, [lever], n=5, design="grid")
    short = table[table.metric == "shortfall"].sort_values("shocks.0.end")
    # ban end e, stock lasts 10 days, lead 3: short on days 10..e+2 -> 10 x (e - 7)
    expected = 10 * (short["shocks.0.end"].round() - 7)
    np.testing.assert_allclose(short["value"], expected)
    assert sensitivity(table, [lever], "b", "x")["effect"].iloc[0] == pytest.approx(600)


def test_unknown_path_is_a_user_error():
    sc = scenario(horizon=5, products={"x": {}}, nodes={"plant": {"produces": "x", "capacity": 1}})
    with pytest.raises(ChipsimUserError, match="did you mean 'plant'"):
        sweep(sc, [Lever("nodes.plnt.capacity", 1, 2)], n=2)


def test_a_sweep_starts_one_process_pool_for_every_sample(monkeypatch):
    # three samples on two workers: one pool is entered once and serves all three; the
    # numbers equal those of a serial sweep
    import sim.executors
    import sim.sweep

    started = []
    real = sim.executors.ProcessExecutor.__enter__

    def counting(self):
        started.append(self)
        return real(self)

    monkeypatch.setattr(sim.executors.ProcessExecutor, "__enter__", counting)
    sc = scenario(horizon=60, products={"x": {}},
                  nodes={"s": {"produces": "x", "capacity": 100},
                         "b": {"inventory": {"x": 100}, "demand": {"product": "x", "rate": 10}, "reorder": {"level": 100}}},
                  lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 3}],
                  shocks=[{"type": "export_ban", "start": 0, "end": 30, "from": "s"}])
    lever = Lever("shocks.0.end", 20, 40)
    pooled = sim.sweep.sweep(sc, [lever], n=3, design="grid", replications=2, workers=2)
    assert len(started) == 1
    serial = sim.sweep.sweep(sc, [lever], n=3, design="grid", replications=2, workers=1)
    pd.testing.assert_frame_equal(pooled, serial)
