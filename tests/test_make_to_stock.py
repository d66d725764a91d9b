"""Producers that follow their orders: ``make_to_stock`` (contract 10.1).

Every expected number below is worked out by hand in the comments from the rule:
on day d a make-to-stock producer makes
    min(effective capacity, what its inputs allow, max(0, target - free stock of its output))
with target = days_of_cover x mean daily requests, the mean taken over the requests of
days max(0, d-30) .. d-1 (min(d, 30) days; on day 0 the nominal capacity). Requests are
what its buyers asked of it in step 5 after trade gates, filled or not. Its inputs are
ordered for a daily use of min(nominal capacity, mean requests) x recipe amount.

All networks are deterministic (no distributions; tool-free), so every day follows
from the arithmetic.
"""
from __future__ import annotations

import pytest

from helpers import run, scenario, series, write_file
from sim import ScenarioError, load_scenario


def steady_buyer(horizon: int = 12, cover: float = 10, shocks=(), **producer) -> dict:
    """Producer ``p`` (capacity 100, make_to_stock ``cover``) ships over a 1-day lane to
    ``b``, which holds 1000, uses 20 a day and re-orders up to a level of 1000."""
    return dict(
        horizon=horizon, products={"x": {}},
        nodes={"p": {"region": "CN", "produces": "x", "capacity": 100, "make_to_stock": {"days_of_cover": cover},
                     **producer},
               "b": {"region": "CN", "inventory": {"x": 1000}, "demand": {"product": "x", "rate": 20},
                     "reorder": {"level": 1000}}},
        lanes=[{"from": "p", "to": "b", "product": "x", "lead_time": 1}], shocks=list(shocks))


def test_production_settles_to_the_requests():
    # b's order each day: level 1000 - (1000 - 20 served) = 20 (yesterday's 20 arrives at
    # step 2 with the 1-day lane), so p is asked 20 every day.
    # day 0: mean = nominal 100, target 10 x 100 = 1000; free stock 0 -> makes min(100, 1000) = 100;
    #        ships 20 -> 80.
    # day 1: mean = 20 (day 0 only), target 200; gap 200 - 80 = 120 -> makes 100 -> 180; ships 20 -> 160.
    # day 2: gap 200 - 160 = 40 -> makes 40 -> 200; ships 20 -> 180.
    # day 3 on: gap 200 - 180 = 20 -> makes 20; stock ends every day at 180.
    res = run(scenario(**steady_buyer()))
    assert series(res, "p", "produced").tolist() == pytest.approx([100, 100, 40] + [20] * 9)
    assert series(res, "p", "target_stock").tolist() == pytest.approx([1000] + [200] * 11)
    assert series(res, "p", "inventory").tolist() == pytest.approx([80, 160] + [180] * 10)
    assert series(res, "b", "shortfall").sum() == 0


def test_the_mean_is_over_the_days_so_far_then_the_last_30():
    # p starts with 5000, so it never runs short and b is always filled.
    # b's requests: day 0: level 1300 - (1000 - 20) = 320; from day 1 (the 320 arrived): 20.
    # Mean on day d, 1 <= d <= 30: days 0..d-1 -> (320 + 20 (d - 1)) / d; on day 31 and
    # later the window d-30..d-1 no longer holds day 0 -> 20. Target = 10 x mean:
    #   day 0: 10 x nominal 100 = 1000; day 1: 3200; day 2: 10 x 340 / 2 = 1700;
    #   day 10: 10 x 500 / 10 = 500; day 30: 10 x 900 / 30 = 300; day 31: 200.
    # Stock 4680 after day 0 falls 20 a day and stays far above target: nothing is made.
    doc = steady_buyer(horizon=40, inventory={"x": 5000})
    doc["nodes"]["b"]["reorder"] = {"level": 1300}
    res = run(scenario(**doc))
    target = series(res, "p", "target_stock")
    expected = {0: 1000, 1: 3200, 2: 1700, 10: 500, 30: 300, 31: 200, 39: 200}
    assert {d: target[d] for d in expected} == pytest.approx(expected)
    for d in range(1, 31):
        assert target[d] == pytest.approx(10 * (320 + 20 * (d - 1)) / d)
    assert series(res, "p", "produced").sum() == 0


def test_the_window_follows_a_change_in_requests():
    # b's demand (and so its daily request) goes from 20 to 2.5 x 20 = 50 on day 40.
    # p never runs short (its stock is at least target - 50 >= 150 when b asks 50), so
    # requests are 20 on days 0..39 and 50 from day 40. For 40 <= d <= 70 the window
    # d-30..d-1 holds 70 - d days of 20 and d - 40 days of 50:
    #   target = 10 x (20 (70 - d) + 50 (d - 40)) / 30; day 55: 10 x 1050 / 30 = 350; day 70 on: 500.
    shock = {"type": "demand_change", "node": "b", "multiplier": 2.5, "start": 40}
    res = run(scenario(**steady_buyer(horizon=80, shocks=[shock])))
    target = series(res, "p", "target_stock")
    for d in range(40, 71):
        assert target[d] == pytest.approx(10 * (20 * (70 - d) + 50 * (d - 40)) / 30)
    assert target[55] == pytest.approx(350) and target[79] == pytest.approx(500)
    assert series(res, "b", "shortfall").sum() == pytest.approx(0)


def test_requests_of_blocked_buyers_do_not_count():
    # A second buyer `us` (region US) asks as much as b, but an export ban on lanes to US
    # admits none of it: only b's 20 a day count, so the path is the one of
    # test_production_settles_to_the_requests (target 200, not 400).
    doc = steady_buyer(shocks=[{"type": "export_ban", "start": 0, "to": {"region": "US"}}])
    doc["nodes"]["us"] = {**doc["nodes"]["b"], "region": "US"}
    doc["lanes"].append({"from": "p", "to": "us", "product": "x", "lead_time": 1})
    res = run(scenario(**doc))
    assert series(res, "p", "target_stock").tolist() == pytest.approx([1000] + [200] * 11)
    assert series(res, "p", "produced").tolist() == pytest.approx([100, 100, 40] + [20] * 9)
    assert series(res, "us", "received").sum() == 0


def test_a_producer_whose_orders_stop_stops_at_its_target():
    # Steady at 20 a day (stock 180 at the end of each day) until the ban on its only lane
    # from day 40: b's orders are refused, requests are 0 from day 40.
    # day 40: window 10..39 -> mean 20, target 200, gap 200 - 180 -> makes 20; nothing ships: 200.
    # day 41 on: the window holds 70 - d days of 20, target 200 (70 - d) / 30 < 200 = stock
    # -> makes nothing; the stock stays at 200 and the target reaches 0 on day 70.
    ban = {"type": "export_ban", "start": 40, "from": "p"}
    res = run(scenario(**steady_buyer(horizon=90, shocks=[ban])))
    produced, target = series(res, "p", "produced"), series(res, "p", "target_stock")
    assert produced[39] == pytest.approx(20) and produced[40] == pytest.approx(20)
    assert produced.loc[41:].sum() == 0
    assert series(res, "p", "inventory").loc[40:].tolist() == pytest.approx([200] * 50)
    for d in range(41, 71):
        assert target[d] == pytest.approx(200 * (70 - d) / 30)
    assert target.loc[70:].sum() == 0


def input_chain(horizon: int) -> dict:
    """``steady_buyer`` with p consuming 2 r per x, holding no r at first and re-ordering
    5 days of cover from ``s`` (a million r) over a 1-day lane."""
    doc = steady_buyer(horizon=horizon, consumes={"r": 2}, inventory={"r": 0}, reorder={"days_of_cover": 5})
    doc["products"]["r"] = {}
    doc["nodes"]["s"] = {"inventory": {"r": 1e6}}
    doc["lanes"].append({"from": "s", "to": "p", "product": "r", "lead_time": 1})
    return doc


def test_inputs_are_ordered_for_the_requests_not_the_capacity():
    # day 0: no r yet, p makes nothing; mean = nominal 100: r level 5 x min(100, 100) x 2 =
    #        1000 -> orders 1000 (flow s->p on day 0). b asks 20, which p cannot fill: the
    #        admitted request still counts.
    # day 1: mean 20 (day 0's unfilled request) -> target 10 x 20 = 200 (0 if unfilled
    #        requests did not count); r level 5 x min(100, 20) x 2 = 200.
    # Once the window holds only days asked 20 (requests settle within a few days, so by
    # day 60 surely): p makes 20 a day using 40 r, orders up to 200 on its position, so
    # it orders 40 a day and ends each day with 200 - 40 in transit = 160 r. At full
    # capacity's use (100 x 2) the level would be 1000.
    res = run(scenario(**input_chain(90)))
    flow = series(res, "s->p", "flow")
    assert flow[0] == pytest.approx(1000)
    assert series(res, "p", "target_stock")[1] == pytest.approx(200)
    assert flow.loc[60:].tolist() == pytest.approx([40] * 30)
    assert series(res, "p", "inventory", "r").loc[60:].tolist() == pytest.approx([160] * 30)
    assert series(res, "p", "produced", "x").loc[60:].tolist() == pytest.approx([20] * 30)


def test_a_fab_counts_its_target_in_good_dies():
    # Dies per wafer (300 mm, 100 mm^2): pi 150^2 / 100 - pi 300 / sqrt(200) = 706.86 - 66.64
    # -> 640; fixed yield 0.5 -> 320 good dies per wafer. Capacity 10 wafers a day.
    # b holds 1e5 dies, uses 640 a day, re-orders to 1e5: asks 640 a day.
    # day 0: mean = nominal 10 x 320 = 3200 dies, target 32000; starts min(10, 32000 / 320) = 10
    #        wafers -> 3200 dies; ships 640 -> 2560.
    # day 1: mean 640, target 6400; gap 3840 dies = 12 wafers -> 10 wafers -> 5760; ships -> 5120.
    # day 2: gap 1280 -> 4 wafers; day 3 on: gap 640 -> 2 wafers (640 dies) a day.
    # Its blanks (1 per wafer, 5 days of cover) are ordered for min(10, 640 / 320) = 2
    # wafers a day: level 10 (50 on day 0). Starting with 100 blanks it uses 10, 10, 4,
    # then 2 a day: 80 - 2k left after day k, first below 10 on day 36 (8 left); from
    # then on it orders 2 a day and ends every day with 8.
    doc = steady_buyer(horizon=60, capacity=10, consumes={"blank": 1}, inventory={"blank": 100},
                       reorder={"days_of_cover": 5},
                       fab={"die_area_mm2": 100, "yield_model": "fixed", "yield": 0.5})
    doc["nodes"]["b"].update(inventory={"x": 1e5}, demand={"product": "x", "rate": 640}, reorder={"level": 1e5})
    doc["products"]["blank"] = {}
    doc["nodes"]["s"] = {"inventory": {"blank": 1e6}}
    doc["lanes"].append({"from": "s", "to": "p", "product": "blank", "lead_time": 1})
    res = run(scenario(**doc))
    wafers = series(res, "p", "wafers_started", "x")
    assert wafers.loc[:4].tolist() == pytest.approx([10, 10, 4, 2, 2])
    assert series(res, "p", "good_dies", "x").loc[3:].tolist() == pytest.approx([640] * 57)
    assert series(res, "p", "target_stock").loc[:2].tolist() == pytest.approx([32000, 6400, 6400])
    flow = series(res, "s->p", "flow")
    assert flow.loc[:35].sum() == 0 and flow.loc[36:].tolist() == pytest.approx([2] * 24)
    assert series(res, "p", "inventory", "blank").loc[36:].tolist() == pytest.approx([8] * 24)


def test_target_stock_is_reported_only_for_make_to_stock_producers():
    doc = steady_buyer()
    doc["nodes"]["q"] = {"produces": "x", "capacity": 5}
    doc["lanes"].append({"from": "q", "to": "b", "product": "x", "lead_time": 1})
    ts = run(scenario(**doc)).timeseries
    assert set(ts.loc[ts.metric == "target_stock", "node"]) == {"p"}
    del doc["nodes"]["p"]["make_to_stock"]
    ts = run(scenario(**doc)).timeseries
    assert "target_stock" not in set(ts.metric)


def test_zero_cover_makes_nothing_after_day_0():
    # cover 0: the target is 0 every day, so the producer never makes anything (day 0's
    # target 0 x 100 = 0 too).
    res = run(scenario(**steady_buyer(cover=0)))
    assert series(res, "p", "produced").sum() == 0


# --- bad input: FILE:LINE:COL problems --------------------------------------------------

BASE = """\
name: mts
horizon: 10
products:
  x: {}
nodes:
  p:
    produces: x
    capacity: 100
  b:
    inventory: {x: 10}
    demand: {product: x, rate: 1}
    reorder: {level: 10}
lanes:
  - {from: p, to: b, product: x}
"""


def position_of(text: str, token: str, after: str = "") -> tuple[int, int]:
    """1-based line and column of the first ``token`` after the line holding ``after``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    for i in range(start, len(lines)):
        if token in lines[i]:
            return i + 1, lines[i].index(token) + 1
    raise AssertionError(f"{token!r} not in the text")


def problems(in_tmp, text: str) -> list[str]:
    path = write_file(in_tmp, "mts.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [f"{p.file}:{p.line}:{p.col}: {p.message}" for p in info.value.problems]


def test_make_to_stock_on_a_node_that_produces_nothing(in_tmp):
    text = BASE.replace("    reorder: {level: 10}\n", "    reorder: {level: 10}\n    make_to_stock: {days_of_cover: 30}\n")
    line, col = position_of(text, "{days_of_cover: 30}")
    (only,) = problems(in_tmp, text)
    assert only.startswith(f"mts.yaml:{line}:{col}: nodes.b.make_to_stock: ")
    assert "needs a node that produces" in only


@pytest.mark.parametrize("value, message", [("-5", "must be >= 0"), ("1e6", "100000")])
def test_days_of_cover_out_of_range(in_tmp, value, message):
    text = BASE.replace("    capacity: 100\n", f"    capacity: 100\n    make_to_stock: {{days_of_cover: {value}}}\n")
    line, col = position_of(text, value)
    (only,) = problems(in_tmp, text)
    assert only.startswith(f"mts.yaml:{line}:{col}: nodes.p.make_to_stock.days_of_cover: ")
    assert message in only


def test_a_misspelt_key_gets_a_suggestion(in_tmp):
    text = BASE.replace("    capacity: 100\n", "    capacity: 100\n    make_to_stock: {days_of_cuver: 5}\n")
    line, col = position_of(text, "days_of_cuver")
    found = problems(in_tmp, text)
    assert f"mts.yaml:{line}:{col}: nodes.p.make_to_stock.days_of_cuver: unknown key 'days_of_cuver' " \
           "(did you mean 'days_of_cover'?)" in found


def test_a_valid_file_loads_and_keeps_the_key(in_tmp):
    text = BASE.replace("    capacity: 100\n", "    capacity: 100\n    make_to_stock: {days_of_cover: 30d}\n")
    with pytest.raises(ScenarioError):  # days of cover is a number of days, as in reorder
        load_scenario(write_file(in_tmp, "mts.yaml", text))
    text = text.replace("30d", "30")
    sc = load_scenario(write_file(in_tmp, "mts.yaml", text))
    assert sc.nodes["p"].make_to_stock.days_of_cover == 30
    assert sc.to_document()["nodes"]["p"]["make_to_stock"] == {"days_of_cover": 30.0}
