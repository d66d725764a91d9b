"""Who a short supplier serves first: ``allocation: {priority: [...]}`` (contract 10.3).

The supplier ``s`` is a source making 100 a day with no stock of its own, so on day 0 it
has exactly 100 to allocate. Each buyer starts empty and re-orders up to a fixed
``level``, so on day 0 it asks exactly its level. Expected splits are worked out in the
comments from the rule: the buyers of the first selector are served in full (pro rata
among them when even they cannot be), then those of the next, then every other buyer
pro rata.
"""
from __future__ import annotations

import pytest

from helpers import run, scenario, series, write_file
from sim import ScenarioError, load_scenario


def short_supplier(asks: dict[str, tuple[str, float]], priority=None, shocks=(), entity=None, horizon: int = 3):
    """``s`` (CN, 100 a day) and buyers name -> (region, level), each over a 1-day lane."""
    supplier = {"region": "CN", "produces": "x", "capacity": 100}
    if priority is not None:
        supplier["allocation"] = {"priority": priority}
    nodes = {"s": supplier}
    for name, (region, level) in asks.items():
        nodes[name] = {"region": region, "reorder": {"level": level}, "inventory": {"x": 0}}
        if entity and name in entity:
            nodes[name]["entity"] = entity[name]
    lanes = [{"from": "s", "to": name, "product": "x", "lead_time": 1} for name in asks]
    return scenario(horizon=horizon, products={"x": {}}, nodes=nodes, lanes=lanes, shocks=list(shocks))


def day_flows(res, day: int) -> dict[str, float]:
    ts = res.timeseries
    rows = ts[(ts.metric == "flow") & (ts.day == day)]
    return {node.removeprefix("s->"): value for node, value in zip(rows.node, rows.value, strict=True)}


def test_home_buyers_first():
    # 100 for asks CN 80 + JP 60: CN is served in full (80), JP gets the 20 left.
    # Day 1: cn has 80 on hand (its level), jp 20 -> asks 40, and s makes 100: jp gets 40.
    res = run(short_supplier({"cn": ("CN", 80), "jp": ("JP", 60)}, [{"region": "CN"}]))
    assert day_flows(res, 0) == pytest.approx({"cn": 80, "jp": 20})
    assert day_flows(res, 1) == pytest.approx({"cn": 0, "jp": 40})


def test_without_priority_the_split_is_pro_rata():
    # The same buyers without the key: 100 x 80/140 and 100 x 60/140.
    res = run(short_supplier({"cn": ("CN", 80), "jp": ("JP", 60)}))
    assert day_flows(res, 0) == pytest.approx({"cn": 8000 / 140, "jp": 6000 / 140})


def test_a_tier_that_cannot_be_served_in_full_shares_pro_rata():
    # Two CN buyers ask 80 + 80 = 160 > 100: they share 100 pro rata, 50 each; JP gets 0.
    res = run(short_supplier({"cn1": ("CN", 80), "cn2": ("CN", 80), "jp": ("JP", 60)}, [{"region": "CN"}]))
    assert day_flows(res, 0) == pytest.approx({"cn1": 50, "cn2": 50, "jp": 0})


def test_unmatched_buyers_share_the_rest_pro_rata():
    # priority [jp]: jp is served 60 in full; the 40 left go to the unmatched cn1 (80) and
    # cn2 (40) pro rata: 40 x 80/120 = 26.67 and 40 x 40/120 = 13.33.
    res = run(short_supplier({"cn1": ("CN", 80), "cn2": ("CN", 40), "jp": ("JP", 60)}, ["jp"]))
    assert day_flows(res, 0) == pytest.approx({"cn1": 80 / 3, "cn2": 40 / 3, "jp": 60})


def test_tiers_in_order_and_first_match_wins():
    # priority [{region: CN}, kr, {region: [CN, KR]}]: cn (50) first, then kr (30), then the
    # rest; jp (50) is unmatched and gets 100 - 50 - 30 = 20. kr also matches the third
    # selector but belongs to the first that names it.
    res = run(short_supplier({"cn": ("CN", 50), "kr": ("KR", 30), "jp": ("JP", 50)},
                             [{"region": "CN"}, "kr", {"region": ["CN", "KR"]}]))
    assert day_flows(res, 0) == pytest.approx({"cn": 50, "kr": 30, "jp": 20})


def test_entity_selector():
    # priority [{entity: Trader}]: the Trader's node jp2 (asks 70) first, then jp1 (60)
    # gets the 30 left.
    res = run(short_supplier({"jp1": ("JP", 60), "jp2": ("JP", 70)}, [{"entity": "Trader"}],
                             entity={"jp2": "Trader"}))
    assert day_flows(res, 0) == pytest.approx({"jp1": 30, "jp2": 70})


def test_a_blocked_priority_buyer_takes_no_share():
    # Trade gates filter before allocation: the ban on lanes to CN refuses cn's 80, so
    # jp's 60 is served in full from the 100.
    ban = {"type": "export_ban", "start": 0, "to": {"region": "CN"}}
    res = run(short_supplier({"cn": ("CN", 80), "jp": ("JP", 60)}, [{"region": "CN"}], shocks=[ban]))
    assert day_flows(res, 0) == pytest.approx({"cn": 0, "jp": 60})


def test_licensed_lanes_get_their_allocation_then_go_to_review():
    # JP's lane is under licence (3 days of review, always approved). Allocation decides
    # the quantity: cn 80 ships on day 0, jp's 20 is reserved for review and leaves on
    # day 3 (flow counts at departure). Day 1: jp's position counts the 20 awaiting the
    # licence, so it asks 60 - 20 = 40 of the new 100 (cn, holding 80, asks nothing):
    # reserved too, it leaves on day 4.
    lic = {"type": "export_license", "start": 0, "to": {"region": "JP"}, "approval_rate": 1.0, "review_days": 3}
    res = run(short_supplier({"cn": ("CN", 80), "jp": ("JP", 60)}, [{"region": "CN"}], shocks=[lic], horizon=6))
    jp = series(res, "s->jp", "flow")
    assert series(res, "s->cn", "flow")[0] == pytest.approx(80)
    assert jp.tolist() == pytest.approx([0, 0, 0, 20, 40, 0])


def test_a_supplier_that_is_not_short_fills_every_order():
    # asks 30 + 40 <= 100: everyone is filled whatever the priority.
    res = run(short_supplier({"cn": ("CN", 30), "jp": ("JP", 40)}, ["jp"]))
    assert day_flows(res, 0) == pytest.approx({"cn": 30, "jp": 40})


# --- bad input: FILE:LINE:COL problems --------------------------------------------------

BASE = """\
name: priority
horizon: 10
products:
  ga: {}
nodes:
  cn_gallium:
    region: CN
    produces: ga
    capacity: 100
    allocation: {priority: [PRIORITY]}
  cn_traders:
    region: CN
    reorder: {level: 10}
lanes:
  - {from: cn_gallium, to: cn_traders, product: ga}
"""


def problems(in_tmp, priority: str) -> tuple[str, list[str]]:
    text = BASE.replace("PRIORITY", priority)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_file(in_tmp, "priority.yaml", text))
    return text, [f"{p.file}:{p.line}:{p.col}: {p.message}" for p in info.value.problems]


def column_of(text: str, token: str) -> tuple[int, int]:
    """1-based line and column of ``token`` in the text."""
    for i, line in enumerate(text.splitlines()):
        if token in line:
            return i + 1, line.index(token) + 1
    raise AssertionError(token)


def test_unknown_node_id_with_a_suggestion(in_tmp):
    text, found = problems(in_tmp, "{region: CN}, cn_trader")
    line, col = column_of(text, "cn_trader]")
    assert found == [f"priority.yaml:{line}:{col}: nodes.cn_gallium.allocation.priority[1]: unknown node 'cn_trader' "
                     "(did you mean 'cn_traders'?)"]


def test_region_that_matches_no_node(in_tmp):
    text, found = problems(in_tmp, "{region: CM}")
    line, col = column_of(text, "{region: CM}")
    assert found == [f"priority.yaml:{line}:{col}: nodes.cn_gallium.allocation.priority[0]: no node matches region 'CM' "
                     "(did you mean 'CN'?)"]


def test_a_selector_of_the_wrong_shape(in_tmp):
    text, found = problems(in_tmp, "{country: CN}")
    line, col = column_of(text, "{country: CN}")
    assert len(found) == 1 and found[0].startswith(f"priority.yaml:{line}:{col}: nodes.cn_gallium.allocation.priority[0]: ")
    assert "needs 'region' or 'entity'" in found[0]


def test_a_valid_priority_loads(in_tmp):
    sc = load_scenario(write_file(in_tmp, "priority.yaml", BASE.replace("PRIORITY", "{region: CN}, cn_traders")))
    assert sc.to_document()["nodes"]["cn_gallium"]["allocation"] == {"priority": [{"region": "CN"}, "cn_traders"]}


def test_a_list_of_ids_survives_a_dump_and_revalidation():
    # A list of ids is stored as a tuple; validating the dumped model again must accept it
    # (the property tests rebuild scenarios this way).
    from sim.schema import Scenario

    doc = {"name": "t", "horizon": 5, "products": {"x": {}},
           "nodes": {"s": {"inventory": {"x": 10}, "allocation": {"priority": [["a", "b"]]}},
                     "a": {"demand": {"product": "x", "rate": 1}, "reorder": {"days_of_cover": 1}},
                     "b": {"demand": {"product": "x", "rate": 1}, "reorder": {"days_of_cover": 1}}},
           "lanes": [{"from": "s", "to": "a", "product": "x"}, {"from": "s", "to": "b", "product": "x"}]}
    sc = Scenario.model_validate(doc)
    again = Scenario.model_validate(sc.model_dump(by_alias=True))
    assert again.nodes["s"].allocation.priority == sc.nodes["s"].allocation.priority == [("a", "b")]
