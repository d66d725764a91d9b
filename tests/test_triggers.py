"""Policies that wait for a signpost (contract section 12): trigger and duration.

The network, worked out by hand. Buyer ``b`` holds 100 units, serves 10 a day and
re-orders to 10 days of cover (level 100) from ``s`` (a million in stock) over a 2-day
lane. Before the ban its end-of-day stock is 90 on day 0 and 80 from day 1 on (20 more
in transit). An export ban s -> b from day 20 blocks the orders of day 20 on; the orders
of days 18 and 19 still arrive on days 20 and 21, so the end-of-day stock is 80 on day
21, then 70, 60, ... on days 22, 23, ...: 50 on day 24, 40 on day 25, 0 on day 29. From
day 30 on nothing is left: shortfall 10 a day, for ever (the ban never ends).

``plant`` (capacity 1 of ``y``, nobody buys it) is where the policies act: a
capacity_expansion on it is visible in its ``capacity`` series.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import cli, run, scenario, series


def network(policies, horizon=200, poisson=False, ban_end=None, shocks=None):
    ban = {"type": "export_ban", "product": "x", "from": "s", "to": "b", "start": 20}
    if ban_end is not None:
        ban["end"] = ban_end
    demand = {"product": "x", "rate": 10}
    if poisson:
        demand["distribution"] = "poisson"
    return scenario(horizon=horizon, products={"x": {}, "y": {}, "z": {}},
                    nodes={"s": {"inventory": {"x": 1e6}},
                           "b": {"inventory": {"x": 100}, "demand": demand, "reorder": {"days_of_cover": 10}},
                           "zsrc": {"inventory": {"z": 1e6}},
                           "plant": {"produces": "y", "capacity": 1, "consumes": {"z": 1},
                                     "inventory": {"z": 5}, "reorder": {"days_of_cover": 5}}},
                    lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2},
                           {"from": "zsrc", "to": "plant", "product": "z", "lead_time": 1}],
                    shocks=shocks if shocks is not None else [ban], policies=policies)


def expansion(trigger, **kw):
    return {"type": "capacity_expansion", "node": "plant", "capacity": 6, "trigger": trigger, **kw}


SHORT_7 = {"metric": "shortfall", "node": "b", "product": "x", "above": 0, "for_days": 7}


def capacity(res, replication=0):
    return series(res, "plant", "capacity", replication=replication).to_numpy()


def test_fires_on_the_first_day_a_seven_day_condition_holds_plus_its_delay():
    # shortfall > 0 on days 30, 31, ...: the 7-day run 30..36 first holds on d0 = 36;
    # start = d0 + 1 + delay 20 = 57; open-ended: +6 from day 57 to the end
    res = run(network([expansion({**SHORT_7, "delay": "20d"})]))
    row = res.triggers.iloc[0]
    assert (row["fired_day"], row["start_day"]) == (36, 57)
    assert row["fired_date"] == pd.Timestamp("2025-02-06") and row["start_date"] == pd.Timestamp("2025-02-27")
    cap = capacity(res)
    assert (cap[:57] == 1).all() and (cap[57:] == 7).all()


def test_a_drawn_delay_is_whole_days_of_its_replication():
    # the delay ~ uniform(10, 30) shares its draw u with the added capacity ~ uniform(0, 1),
    # which the plant shows as 1 + u; d0 = 36 as above, so start = 37 + round(10 + 20u)
    u_draw = {"dist": "uniform", "low": 0, "high": 1, "shared": "u"}
    delay = {"dist": "uniform", "low": 10, "high": 30, "shared": "u"}
    sc = network([expansion({**SHORT_7, "delay": delay}, capacity=u_draw)])
    res = run(sc.model_copy(update={"replications": 4}))
    starts = res.triggers.set_index("replication")["start_day"]
    for r in range(4):
        u = capacity(res, r)[-1] - 1
        assert 0 < u < 1
        assert starts[r] == 37 + round(10 + 20 * u)
    assert starts.nunique() > 1
    from sim.reporting.words import trigger_text
    assert "10 to 30 days later (drawn once per run)" in trigger_text(sc.policies[0], sc)


def test_below_is_strict_and_reads_cover_days():
    # cover = free stock / 10: 5.0 on day 24 (not below 5), 4.0 on day 25, 3.0 on day 26;
    # for_days 2 holds first on d0 = 26; start 27
    trig = {"metric": "cover_days", "node": "b", "product": "x", "below": 5, "for_days": 2}
    res = run(network([expansion(trig)]))
    assert (res.triggers.loc[0, "fired_day"], res.triggers.loc[0, "start_day"]) == (26, 27)
    # inventory below 50: strictly, so day 25 (40), not day 24 (50); start 26
    res = run(network([expansion({"metric": "inventory", "node": "b", "product": "x", "below": 50})]))
    assert (res.triggers.loc[0, "fired_day"], res.triggers.loc[0, "start_day"]) == (25, 26)


def test_a_start_beside_a_trigger_is_the_earliest_day_and_duration_counts_from_the_start():
    # d0 = 36 (delay 0: 37), but not before day 60; 20 days: active 60..79
    res = run(network([expansion(SHORT_7, start=60, duration=20)]))
    assert (res.triggers.loc[0, "fired_day"], res.triggers.loc[0, "start_day"]) == (36, 60)
    cap = capacity(res)
    assert (cap[:60] == 1).all() and (cap[60:80] == 7).all() and (cap[80:] == 1).all()
    # a start earlier than d0 + 1 changes nothing: 37 .. 37 + 10
    res = run(network([expansion(SHORT_7, start=10, duration="10d")]))
    assert res.triggers.loc[0, "start_day"] == 37
    cap = capacity(res)
    assert (cap[:37] == 1).all() and (cap[37:47] == 7).all() and (cap[47:] == 1).all()


def test_a_trigger_fires_at_most_once():
    # bans 20-40 and 100-200: short on days 30-4x and again from day 110; the first 3-day run
    # ends on d0 = 32, start 33, 5 days; the second shortage starts nothing
    shocks = [{"type": "export_ban", "product": "x", "from": "s", "to": "b", "start": 20, "end": 40},
              {"type": "export_ban", "product": "x", "from": "s", "to": "b", "start": 100}]
    res = run(network([expansion({**SHORT_7, "for_days": 3}, duration=5)], shocks=shocks), replications=2)
    short = series(res, "b", "shortfall").to_numpy()
    assert short[115] > 0  # the condition holds again later
    assert len(res.triggers) == 2 and (res.triggers["fired_day"] == 32).all()
    cap = capacity(res)
    assert (cap[33:38] == 7).all() and (np.delete(cap, range(33, 38)) == 1).all()


def test_a_trigger_that_never_fires_leaves_the_run_as_without_the_policy(tmp_path):
    never = expansion({**SHORT_7, "above": 1e9})
    res = run(network([never]), replications=2, seed=3)
    base = run(network([]), replications=2, seed=3)
    assert res.triggers["fired_day"].isna().all() and res.triggers["start_day"].isna().all()
    pd.testing.assert_frame_equal(res.timeseries, base.timeseries)
    folder = res.save(tmp_path / "run", report=False)
    text = (folder / "triggers.csv").read_text().splitlines()
    assert text[0] == "policy,label,replication,fired_day,fired_date,start_day,start_date"
    assert text[1] == "0,capacity_expansion #1,0,,,,"


def test_a_triggered_expansion_builds_ramps_and_refreshes_the_cached_paths():
    # d0 = 36, start 37; build 3 days: first output on day 40; ramp 3 days adds 6 x k/3:
    # 3 on day 40, 5 on day 41, 7 from day 42
    res = run(network([expansion(SHORT_7, build_days=3, ramp_days=3)]))
    cap = capacity(res)
    assert (cap[:40] == 1).all()
    np.testing.assert_allclose(cap[40:43], [3, 5, 7])
    assert (cap[42:] == 7).all()
    # the plant's input orders follow its new nominal use: 5 days of cover of 7 a day; a
    # stale daily-use path (1 a day, level 5) would hold production at 5 a day
    produced = series(res, "plant", "produced").to_numpy()
    assert produced[60:] == pytest.approx(7.0)
    assert series(res, "plant", "inventory", product="z").to_numpy()[60:] == pytest.approx(35 - 7)


def test_the_same_seed_gives_the_same_fired_days_in_every_keep_mode(tmp_path):
    sc = network([expansion({**SHORT_7, "for_days": 3})], poisson=True)
    a = run(sc, replications=4, seed=11)
    b = run(sc, replications=4, seed=11, workers=2)
    c = run(sc, replications=4, seed=11, keep="summary")
    pd.testing.assert_frame_equal(a.triggers, b.triggers)
    pd.testing.assert_frame_equal(a.triggers, c.triggers)
    assert a.triggers["fired_day"].notna().all()
    # read back by Results.load and by `chipsim report`
    folder = c.save(tmp_path / "run", report=False)
    pd.testing.assert_frame_equal(sim.Results.load(folder).triggers, a.triggers)
    assert cli("report", folder).exit_code == 0


def test_files_without_triggers_write_no_triggers_csv(tmp_path):
    folder = run(network([])).save(tmp_path / "run", report=False)
    assert not (folder / "triggers.csv").exists()


BAD = """\
    name: bad
    horizon: 30
    products: {x: {}}
    nodes:
      s: {inventory: {x: 100}}
      b: {inventory: {x: 10}, demand: {product: x, rate: 1}, reorder: {days_of_cover: 5}}
      p: {produces: x, capacity: 1}
    lanes:
      - {from: s, to: b, product: x}
    policies:
      - type: capacity_expansion
        node: p
        capacity: 1
        trigger: {metric: %s, node: %s, product: x, %s}
    %s
"""


def problems(tmp_path, metric="shortfall", node="b", side="above: 0", extra=""):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(BAD % (metric, node, side, extra)))
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    return [f"{p.line}:{p.col}: {p.message}" for p in info.value.problems]


def test_bad_triggers_are_positioned_errors(tmp_path):
    assert problems(tmp_path, side="above: 0, below: 1") == ["14:14: policies[0].trigger: give exactly one of `above` or "
                                                             "`below`"]
    assert problems(tmp_path, side="for_days: 2") == ["14:14: policies[0].trigger: give exactly one of `above` or `below`"]
    assert problems(tmp_path, node="bb") == ["14:40: policies[0].trigger.node: unknown node 'bb' (did you mean 'b'?)"]
    [metric] = problems(tmp_path, metric="shortfal")
    assert metric.startswith("14:23: policies[0].trigger.metric: unknown metric 'shortfal' (did you mean 'shortfall'?)")
    [records] = problems(tmp_path, node="s")
    assert records == "14:23: policies[0].trigger.metric: 's' has no demand for 'x', so it records no shortfall"
    [price] = problems(tmp_path, metric="price_multiplier")
    assert price == "14:23: policies[0].trigger.metric: 'x' has no `market:`, so it has no price_multiplier"
    assert problems(tmp_path, extra="    duration: 10\n        end: 20") == [
        "15:15: policies[0].duration: give `end` or `duration`, not both"]


def test_the_briefing_says_when_and_how_often_a_triggered_policy_started(tmp_path):
    # deterministic: every run fires on d0 = 36 and starts on day 37 = 7 Feb 2025;
    # the never-firing policy has its own sentence
    res = run(network([expansion(SHORT_7, label="The <b>plant</b>"),
                       expansion({**SHORT_7, "above": 1e9}, label="A second plant")]), replications=2)
    folder = res.save(tmp_path / "run", pdf=False)
    html = (folder / "briefing.html").read_text()
    assert "The &lt;b&gt;plant&lt;/b&gt; started on 7 Feb 2025 (median) in 100% of 2 runs." in html
    assert "A second plant never started: its trigger did not fire in any of the 2 runs." in html
    assert "once shortfall of" in html  # the policy's timing in words, not "in force since 1 Jan 2025"


@pytest.mark.parametrize("policy", [
    {"type": "stockpile", "node": "b", "product": "x", "target": 10},
    {"type": "stockpile_release", "node": "b", "product": "x", "rate": 1},
    {"type": "capacity_expansion", "node": "plant", "capacity": 1},
    {"type": "new_lane", "from": "zsrc", "to": "plant", "product": "z"},
    {"type": "general_licence"},
])
def test_every_policy_type_takes_a_trigger_and_keeps_day_0_without_one(policy):
    sc = network([dict(policy, trigger=SHORT_7, duration=5), policy])
    triggered, fixed = sc.policies
    assert (triggered.start, triggered.duration, triggered.end) == (None, 5, None)
    assert (fixed.start, fixed.trigger) == (0, None)
