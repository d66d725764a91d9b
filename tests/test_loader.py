"""Scenario loading: positions of problems, extends, quantities and safety.

Every expected line and column below was worked out by reading the YAML in the test (or
in tests/fixtures/broken/); ``assert_token_at`` re-checks each one against the file
text, so a position in these tests never comes from the program under test.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

import sim
from helpers import BROKEN_FIXTURES, ROOT, TINY, write_file
from sim import Problem, Scenario, ScenarioError, load_scenario
from sim.distributions import Triangular
from sim.quantities import day_number


def assert_token_at(path: Path, line: int, col: int, token: str) -> None:
    """The fixture itself has ``token`` at 1-based ``line``:``col`` (guards the expectations)."""
    text = path.read_text(encoding="utf-8").splitlines()[line - 1]
    assert text[col - 1:].startswith(token), f"{path.name}:{line}:{col} is {text[col - 1:]!r}, not {token!r}"


def problems_of(path, **kwargs) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    problems = info.value.problems
    assert problems, "a ScenarioError must carry at least one problem"
    return problems


# --- the bundled example --------------------------------------------------------------

def test_quickstart_loads():
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    assert isinstance(sc, Scenario)
    assert sc.horizon == 730  # 2y
    assert sc.nodes["cn_magnets"].capacity == pytest.approx(5500 / 30)
    assert sc.nodes["us_motor_makers"].demand.rate == pytest.approx(20.0)  # 600/month


def test_tiny_scenario_is_valid(in_tmp):
    sc = load_scenario(write_file(in_tmp, "tiny.yaml", TINY))
    assert set(sc.nodes) == {"cn_magnets", "us_buyers"}
    assert sc.replications == 1 and sc.seed == 0 and sc.start_date == dt.date(2025, 1, 1)


# --- one problem per broken fixture -----------------------------------------------------

BROKEN = [
    # file, line, col, token found there, fragments of the message
    ("syntax_unclosed_flow.yaml", 18, 10, ":", ["YAML syntax error", "line 17, column 14"]),
    ("unknown_key.yaml", 10, 5, "capcity", ["unknown key 'capcity'", "(did you mean 'capacity'?)"]),
    ("unknown_node.yaml", 16, 12, "cn_magnet,", ["unknown node 'cn_magnet'", "(did you mean 'cn_magnets'?)"]),
    ("negative_capacity.yaml", 10, 15, "-10", ["capacity", ">= 0"]),
    ("python_tag.yaml", 2, 7, "!!python/object/apply:os.system", ["tag", "not allowed"]),
    ("duplicate_key.yaml", 11, 5, "capacity: 12", ["duplicate key", "capacity", "first defined on line 9"]),
    ("unknown_shock_type.yaml", 18, 11, "export_bann", ["export_bann", "(did you mean 'export_ban'?)"]),
    ("shock_no_lane.yaml", 18, 5, "type: export_ban", ["shocks[0]", "matches no lane"]),
    ("bad_distribution.yaml", 19, 16, "{dist: triangular", ["lead_time", "low <= mode <= high"]),
]


@pytest.mark.parametrize("name,line,col,token,fragments", BROKEN, ids=[b[0].removesuffix(".yaml") for b in BROKEN])
def test_broken_fixture_reports_one_positioned_problem(name, line, col, token, fragments, broken_dir):
    assert_token_at(BROKEN_FIXTURES / name, line, col, token)
    problems = problems_of(name)
    assert len(problems) == 1, "\n".join(map(str, problems))
    p = problems[0]
    assert isinstance(p, Problem)
    assert (p.file, p.line, p.col) == (name, line, col)
    for fragment in fragments:
        assert fragment in p.message
    assert str(p) == f"{name}:{line}:{col}: {p.message}"


def test_several_problems_all_reported_in_file_order(broken_dir):
    name = "several_problems.yaml"
    expected = [
        (10, 5, "capcity", "(did you mean 'capacity'?)"),
        (13, 23, "magnit", "unknown product 'magnit' (did you mean 'magnet'?)"),
        (14, 25, "-50", ">= 0"),
        (17, 12, "cn_magnet,", "unknown node 'cn_magnet' (did you mean 'cn_magnets'?)"),
        (18, 67, "{dist: uniform", "low <= high"),
    ]
    for line, col, token, _ in expected:
        assert_token_at(BROKEN_FIXTURES / name, line, col, token)
    problems = problems_of(name)
    assert [(p.file, p.line, p.col) for p in problems] == [(name, line, col) for line, col, _, _ in expected]
    for p, (_, _, _, fragment) in zip(problems, expected, strict=True):
        assert fragment in p.message


def test_scenario_error_is_exported_and_prints_every_problem(broken_dir):
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario("several_problems.yaml")
    assert isinstance(info.value, Exception)
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]


def test_positions_are_one_based(in_tmp):
    path = write_file(in_tmp, "s.yaml", "descripton: a typo on the very first key\n" + TINY)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.col) == ("s.yaml", 1, 1)
    assert "unknown key 'descripton'" in p.message and "(did you mean 'description'?)" in p.message


def test_missing_file_is_a_problem_not_a_crash(in_tmp):
    (p,) = problems_of("nowhere.yaml")
    assert p.file == "nowhere.yaml" and "no such" in p.message


@pytest.mark.parametrize("text", [
    "",
    "- just\n- a list\n",
    "just a string\n",
])
def test_empty_or_non_mapping_file(in_tmp, text):
    (p,) = problems_of(write_file(in_tmp, "s.yaml", text))
    assert (p.line, p.col) == (1, 1)


# --- safe YAML ---------------------------------------------------------------------------

def test_python_tag_is_never_executed(broken_dir):
    problems_of("python_tag.yaml")
    assert not (broken_dir / "tag-was-executed").exists()


@pytest.mark.parametrize("value", [
    '!!python/object/new:os.system ["true"]',
    "!!python/name:os.system",
    '!!python/object:builtins.dict {"a": 1}',
    "!custom {a: 1}",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
])
def test_tags_are_rejected_at_their_position(in_tmp, value):
    text = TINY.replace("    region: CN\n", f"    region: {value}\n")
    path = write_file(in_tmp, "s.yaml", text)
    assert_token_at(path, 7, 13, value.split()[0])  # line 7: "    region: <value>"
    problems = problems_of(path)
    assert [(p.line, p.col) for p in problems] == [(7, 13)], "\n".join(map(str, problems))


def test_alias_bomb_is_refused(in_tmp):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write_file(in_tmp, "bomb.yaml", "\n".join(lines) + "\n")
    problems = problems_of(path)
    assert any("more than" in p.message for p in problems)


# --- extends ---------------------------------------------------------------------------

PARENT = """\
name: parent
horizon: 30
seed: 3
products:
  magnet: {unit: t, price: 10}
  oxide: {unit: t}
nodes:
  cn_oxide:
    region: CN
    produces: oxide
    capacity: 5
  cn_magnets:
    region: CN
    produces: magnet
    capacity: 10
    consumes: {oxide: 0.1}
    inventory: {oxide: 5}
    reorder: {policy: base_stock, days_of_cover: 10}
  jp_magnets:
    region: JP
    produces: magnet
    capacity: 4
  us_buyers:
    region: US
    demand: {product: magnet, rate: 5}
    inventory: {magnet: 50}
    reorder: {policy: base_stock, days_of_cover: 10}
lanes:
  - {from: cn_oxide, to: cn_magnets, product: oxide, lead_time: 3}
  - {from: cn_magnets, to: us_buyers, product: magnet, lead_time: 5}
  - {from: jp_magnets, to: us_buyers, product: magnet, lead_time: 7}
shocks:
  - {type: export_ban, start: 5, product: magnet, from: {region: CN}, to: {region: US}}
"""


def test_extends_deep_merges_child_over_parent(in_tmp):
    write_file(in_tmp, "parent.yaml", PARENT)
    child = write_file(in_tmp, "child.yaml", """\
        extends: parent.yaml
        name: child
        nodes:
          jp_magnets: null
          us_buyers:
            demand: {rate: 8}
          kr_magnets:
            region: KR
            produces: magnet
            capacity: 2
        lanes:
          - {from: kr_magnets, to: us_buyers, product: magnet, lead_time: 9}
        shocks:
          - {type: export_ban, start: 10, end: 20, product: magnet, from: kr_magnets}
        """)
    sc = load_scenario(child)
    assert sc.name == "child"                        # scalar overridden
    assert sc.seed == 3 and sc.horizon == 30         # inherited
    assert sc.products["magnet"].price == 10
    # mappings merge key by key: only the rate changed
    buyers = sc.nodes["us_buyers"]
    assert buyers.demand.rate == 8 and buyers.demand.product == "magnet"
    assert buyers.inventory == {"magnet": 50} and buyers.reorder.days_of_cover == 10
    # nodes.X: null removes X, and the parent's lanes touching it go with it
    assert list(sc.nodes) == ["cn_oxide", "cn_magnets", "us_buyers", "kr_magnets"]
    assert [(lane.from_, lane.to, lane.lead_time) for lane in sc.lanes] == [
        ("cn_oxide", "cn_magnets", 3), ("cn_magnets", "us_buyers", 5), ("kr_magnets", "us_buyers", 9)]
    # shocks are appended, parent's first
    assert [(s.start, s.end) for s in sc.shocks] == [(5, None), (10, 20)]


def test_extends_chain_of_three(in_tmp):
    write_file(in_tmp, "parent.yaml", PARENT)
    write_file(in_tmp, "middle.yaml", """\
        extends: parent.yaml
        name: middle
        horizon: 60
        """)
    leaf = write_file(in_tmp, "leaf.yaml", """\
        extends: middle.yaml
        nodes:
          cn_magnets: {capacity: 20}
        """)
    sc = load_scenario(leaf)
    assert (sc.name, sc.horizon, sc.seed) == ("middle", 60, 3)
    assert sc.nodes["cn_magnets"].capacity == 20
    assert sc.nodes["cn_magnets"].consumes == {"oxide": 0.1}


def test_extends_errors_name_the_file_they_are_in(in_tmp):
    parent = write_file(in_tmp, "parent.yaml", PARENT.replace("    capacity: 5\n", "    capacity: -5\n")
                   .replace("{from: jp_magnets, to: us_buyers", "{from: jp_magnet, to: us_buyers"))
    child = write_file(in_tmp, "child.yaml", """\
        extends: parent.yaml
        name: child
        nodes:
          us_buyers:
            demand: {rate: 8, growht: 0.1}
            inventory: {magnet: -1}
        """)
    assert_token_at(parent, 11, 15, "-5")                 # cn_oxide's capacity
    assert_token_at(parent, 31, 12, "jp_magnet,")         # the third lane
    assert_token_at(child, 5, 23, "growht")
    assert_token_at(child, 6, 25, "-1")                   # merged over the parent's 50
    problems = problems_of(child)
    assert [(p.file, p.line, p.col) for p in problems] == [
        ("child.yaml", 5, 23), ("child.yaml", 6, 25), ("parent.yaml", 11, 15), ("parent.yaml", 31, 12)]
    assert "(did you mean 'growth'?)" in problems[0].message
    assert "(did you mean 'jp_magnets'?)" in problems[3].message


def test_extends_parent_with_syntax_error(in_tmp):
    write_file(in_tmp, "parent.yaml", "name: parent\nhorizon: [30\n")
    child = write_file(in_tmp, "child.yaml", "extends: parent.yaml\nname: child\n")
    problems = problems_of(child)
    # the parent is reported where it is broken; the child alone (no horizon, no
    # nodes) is not checked as if it were a whole scenario
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].file == "parent.yaml" and problems[0].line >= 2
    assert "YAML syntax error" in problems[0].message


def test_extends_cycle_is_an_error(in_tmp):
    write_file(in_tmp, "a.yaml", "extends: b.yaml\nname: a\nhorizon: 30\n")
    b = write_file(in_tmp, "b.yaml", "name: b\nextends: a.yaml\n")
    problems = problems_of(in_tmp / "a.yaml")
    assert len(problems) == 1, "\n".join(map(str, problems))
    (p,) = problems
    assert_token_at(b, 2, 10, "a.yaml")
    assert (p.file, p.line, p.col) == ("b.yaml", 2, 10)
    assert "cycle" in p.message and "a.yaml" in p.message and "b.yaml" in p.message


def test_extends_itself_is_a_cycle(in_tmp):
    path = write_file(in_tmp, "a.yaml", "name: a\nhorizon: 30\nextends: ./a.yaml\n")
    (p,) = problems_of(path)
    assert (p.file, p.line, p.col) == ("a.yaml", 3, 10) and "cycle" in p.message


def test_extends_missing_parent_suggests_a_name(in_tmp):
    write_file(in_tmp, "reference.yaml", PARENT)
    path = write_file(in_tmp, "s.yaml", "name: s\nextends: referense.yaml\n")
    (p,) = problems_of(path)
    assert (p.file, p.line, p.col) == ("s.yaml", 2, 10)
    assert "(did you mean 'reference.yaml'?)" in p.message


def test_extends_outside_the_folder_needs_a_search_path(tmp_path, monkeypatch):
    write_file(tmp_path, "outside.yaml", PARENT)
    proj = tmp_path / "proj"
    path = write_file(proj, "s.yaml", "extends: ../outside.yaml\nname: escaped\n")
    monkeypatch.chdir(proj)
    problems = problems_of("s.yaml")
    assert len(problems) == 1, "\n".join(map(str, problems))
    (p,) = problems
    assert (p.file, p.line, p.col) == ("s.yaml", 1, 10)
    assert "outside" in p.message and "--search-path" in p.message
    # an explicit search path allows it
    sc = load_scenario("s.yaml", search_paths=[tmp_path])
    assert sc.name == "escaped" and "jp_magnets" in sc.nodes
    assert load_scenario(path, search_paths=[str(tmp_path)]) == sc


def test_extends_may_reach_anywhere_below_the_top_level_folder(in_tmp):
    # net/ref.yaml extends ../common.yaml: outside net/, but inside the folder of the
    # top-level file, which is what counts
    write_file(in_tmp, "common.yaml", PARENT)
    write_file(in_tmp, "net/ref.yaml", "extends: ../common.yaml\nname: ref\n")
    top = write_file(in_tmp, "s.yaml", "extends: net/ref.yaml\nhorizon: 40\n")
    sc = load_scenario(top)
    assert (sc.name, sc.horizon) == ("ref", 40)
    # but net/ref.yaml loaded as the top-level file may not climb out of net/
    (p,) = problems_of(in_tmp / "net" / "ref.yaml")
    assert (p.file, p.line, p.col) == (os.path.join("net", "ref.yaml"), 1, 10)


def test_extends_through_a_symlink_pointing_outside_is_refused(tmp_path, monkeypatch):
    write_file(tmp_path, "outside.yaml", PARENT)
    proj = tmp_path / "proj"
    proj.mkdir()
    try:
        (proj / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not supported here")
    write_file(proj, "s.yaml", "extends: link.yaml\nname: via a link\n")
    monkeypatch.chdir(proj)
    (p,) = problems_of("s.yaml")
    assert (p.file, p.line, p.col) == ("s.yaml", 1, 10) and "outside" in p.message
    assert load_scenario("s.yaml", search_paths=[tmp_path]).name == "via a link"


def test_symlink_inside_the_folder_is_fine(in_tmp):
    write_file(in_tmp, "networks/parent.yaml", PARENT)
    try:
        (in_tmp / "parent.yaml").symlink_to(in_tmp / "networks" / "parent.yaml")
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not supported here")
    path = write_file(in_tmp, "s.yaml", "extends: parent.yaml\nname: linked\n")
    assert load_scenario(path).name == "linked"


@pytest.mark.parametrize("ref", ["42", "''", "[a.yaml]"])
def test_extends_must_be_a_path(in_tmp, ref):
    path = write_file(in_tmp, "s.yaml", f"name: s\nhorizon: 30\nextends: {ref}\n")
    (p,) = problems_of(path)
    assert (p.line, p.col) == (3, 10) and "extends" in p.message


# --- quantities -----------------------------------------------------------------------

@pytest.mark.parametrize("written,days", [("3y", 1095), ("18m", 540), ("2w", 14), ("90d", 90), ("30", 30), ("1.5y", 548)])
def test_horizon_units(in_tmp, written, days):
    path = write_file(in_tmp, "s.yaml", TINY.replace("horizon: 30", f"horizon: {written}"))
    assert load_scenario(path).horizon == days


@pytest.mark.parametrize("written,per_day", [
    ("1200/month", 40.0),
    ('"5e4/year"', 50000 / 365),
    ("70/week", 10.0),
    ("3/day", 3.0),
    ("12.5", 12.5),
    ('"1000/quarter"', 1000 / 91.25),
])
def test_capacity_rates(in_tmp, written, per_day):
    path = write_file(in_tmp, "s.yaml", TINY.replace("    capacity: 10\n", f"    capacity: {written}\n"))
    assert load_scenario(path).nodes["cn_magnets"].capacity == pytest.approx(per_day)


@pytest.mark.parametrize("written,fragment", [
    ("1200/fortnight", "unknown time unit"),
    ("lots", "must be a number"),
    (".nan", "finite"),
])
def test_bad_capacity_is_reported_at_the_value(in_tmp, written, fragment):
    path = write_file(in_tmp, "s.yaml", TINY.replace("    capacity: 10\n", f"    capacity: {written}\n"))
    assert_token_at(path, 9, 15, written)
    (p,) = problems_of(path)
    assert (p.line, p.col) == (9, 15) and fragment in p.message


@pytest.mark.parametrize("written", ["3 years", "-5", "0", "3q"])
def test_bad_horizon(in_tmp, written):
    path = write_file(in_tmp, "s.yaml", TINY.replace("horizon: 30", f"horizon: {written}"))
    (p,) = problems_of(path)
    assert (p.line, p.col) == (2, 10) and "horizon" in p.message


def test_lead_time_as_duration_and_distribution(in_tmp):
    text = TINY.replace("lead_time: 5}", "lead_time: 2w}") + \
        "  - {from: cn_magnets, to: us_buyers, product: magnet, lead_time: {dist: triangular, low: 1, mode: 2, high: 3}}\n"
    # a second lane for the same (from, to, product) is a duplicate; give it its own buyer
    text = text.replace("  us_buyers:\n", "  eu_buyers:\n    region: EU\n    demand: {product: magnet, rate: 1}\n"
                        "    reorder: {days_of_cover: 5}\n  us_buyers:\n")
    text = text.replace("to: us_buyers, product: magnet, lead_time: {dist", "to: eu_buyers, product: magnet, lead_time: {dist")
    sc = load_scenario(write_file(in_tmp, "s.yaml", text))
    assert sc.lanes[0].lead_time == 14
    dist = sc.lanes[1].lead_time
    assert isinstance(dist, Triangular)
    assert (dist.low, dist.mode, dist.high) == (1, 2, 3) and dist.mean_value() == pytest.approx(2)


def test_capacity_may_be_a_distribution_but_not_an_inverted_one(in_tmp):
    ok = write_file(in_tmp, "ok.yaml", TINY.replace("    capacity: 10\n", "    capacity: {dist: uniform, low: 8, high: 12}\n"))
    assert load_scenario(ok).nodes["cn_magnets"].capacity.mean_value() == pytest.approx(10)
    bad = write_file(in_tmp, "bad.yaml", TINY.replace("    capacity: 10\n", "    capacity: {dist: uniform, low: 12, high: 8}\n"))
    assert_token_at(bad, 9, 15, "{dist: uniform")
    (p,) = problems_of(bad)
    assert (p.file, p.line, p.col) == ("bad.yaml", 9, 15)
    assert "low <= high" in p.message


@pytest.mark.parametrize("dist,fragment", [
    ("{dist: gamma, shape: 2}", "unknown distribution gamma"),
    ("{dist: uniform, low: 1}", "high"),
    ("{dist: uniform, low: 1, high: 2, mode: 1.5}", "mode"),
    ("{low: 1, high: 2}", "'dist'"),
    ("{dist: uniform, low: -5, high: 10}", "below the allowed range"),  # a lead time cannot be negative
])
def test_bad_lead_time_distributions(in_tmp, dist, fragment):
    path = write_file(in_tmp, "s.yaml", TINY.replace("lead_time: 5}", f"lead_time: {dist}}}"))
    assert_token_at(path, 16, 67, dist)
    (p,) = problems_of(path)
    assert (p.line, p.col) == (16, 67) and fragment in p.message


SHOCK = """\
shocks:
  - type: export_ban
    name: CN halts magnet exports
    start: {start}
    end: {end}
    product: magnet
    from: {{region: CN}}
    to: us_buyers
"""


def test_shock_dates_and_day_numbers(in_tmp):
    sc = load_scenario(write_file(in_tmp, "s.yaml", TINY + SHOCK.format(start="2025-04-04", end="2025-10-04")))
    (shock,) = sc.shocks
    assert (shock.start, shock.end) == (dt.date(2025, 4, 4), dt.date(2025, 10, 4))
    # January 31 + February 28 + March 31 days, then three more
    assert day_number(shock.start, sc.start_date) == 93
    assert day_number(shock.end, sc.start_date) == (dt.date(2025, 10, 4) - dt.date(2025, 1, 1)).days
    sc = load_scenario(write_file(in_tmp, "t.yaml", TINY + SHOCK.format(start=10, end="2m")))
    assert (sc.shocks[0].start, sc.shocks[0].end) == (10, 60)


def test_impossible_dates_are_reported_where_they_are(in_tmp):
    start_date = write_file(in_tmp, "a.yaml", TINY.replace("horizon: 30\n", "horizon: 30\nstart_date: 2025-13-01\n"))
    assert_token_at(start_date, 3, 13, "2025-13-01")
    (p,) = problems_of(start_date)
    assert (p.file, p.line, p.col) == ("a.yaml", 3, 13) and "2025-13-01" in p.message and "month" in p.message
    shock = write_file(in_tmp, "b.yaml", TINY + SHOCK.format(start="2025-02-30", end="2025-03-30"))
    assert_token_at(shock, 20, 12, "2025-02-30")
    (p,) = problems_of(shock)
    assert (p.file, p.line, p.col) == ("b.yaml", 20, 12) and "2025-02-30" in p.message and "day" in p.message


def test_duplicate_key_in_a_flow_mapping(in_tmp):
    path = write_file(in_tmp, "s.yaml", TINY.replace("{product: magnet, rate: 5}", "{product: magnet, rate: 5, rate: 6}"))
    assert_token_at(path, 12, 40, "rate: 6")
    (p,) = problems_of(path)
    assert (p.line, p.col) == (12, 40)
    assert "duplicate key" in p.message and "first defined on line 12" in p.message


def test_shock_ending_before_it_starts(in_tmp):
    path = write_file(in_tmp, "s.yaml", TINY + SHOCK.format(start="2025-10-04", end="2025-04-04"))
    assert_token_at(path, 18, 5, "type: export_ban")
    (p,) = problems_of(path)
    assert (p.line, p.col) == (18, 5) and "end" in p.message and "start" in p.message


def test_shock_selector_with_unknown_region(in_tmp):
    path = write_file(in_tmp, "s.yaml", TINY + SHOCK.format(start=10, end=20).replace("{region: CN}", "{region: CHN}"))
    assert_token_at(path, 23, 11, "{region: CHN}")
    (p,) = problems_of(path)
    assert (p.line, p.col) == (23, 11)
    assert "no node matches region 'CHN'" in p.message and "(did you mean 'CN'?)" in p.message


def test_shock_with_unknown_node_in_selector(in_tmp):
    path = write_file(in_tmp, "s.yaml", TINY + SHOCK.format(start=10, end=20).replace("to: us_buyers", "to: us_buyer"))
    assert_token_at(path, 24, 9, "us_buyer")
    (p,) = problems_of(path)
    assert (p.line, p.col) == (24, 9) and "(did you mean 'us_buyers'?)" in p.message


# --- the resolved scenario ------------------------------------------------------------

def test_resolved_scenario_document_loads_back_equal(in_tmp):
    from sim.provenance import scenario_yaml

    shocked = write_file(in_tmp, "s.yaml", TINY + SHOCK.format(start="2025-02-01", end="10w"))
    for source in (ROOT / "scenarios" / "quickstart.yaml", shocked):
        original = load_scenario(source)
        copy = write_file(in_tmp, "resolved.yaml", scenario_yaml(original))
        again = load_scenario(copy)
        assert again == original
        assert again.to_document() == original.to_document()


# --- added with the mixed-share, short-code and rate fixes --------------------------

MIXED_SHARES = """\
name: mixed shares
horizon: 10
products:
  x: {}
nodes:
  a: {region: CN, produces: x, capacity: 1}
  b: {region: JP, produces: x, capacity: 1}
  c: {region: US, reorder: {level: 5}}
lanes:
  - {from: a, to: c, product: x, share: 0.8}
  - {from: b, to: c, product: x}
shocks:
  - {type: export_ban, start: 1, from: {region: CM}}
"""


def test_mixed_shares_and_region_typo_are_reported(tmp_path):
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED_SHARES)
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    by_line = {p.line: p for p in info.value.problems}
    # lanes[1] is the flow mapping on line 11, column 5; the selector {region: CM} on line 13
    assert by_line[11].col == 5 and "share" in by_line[11].message
    assert "did you mean 'CN'" in by_line[13].message


def test_rate_accepts_digit_separators():
    from sim.quantities import parse_rate_per_day
    assert parse_rate_per_day("1_000/quarter") == pytest.approx(1000 / 91.25)


def test_end_before_start_across_date_and_day_number(in_tmp):
    # start 2025-06-01 is day 151 from 2025-01-01; end 30 is day 30: the window is empty
    path = write_file(in_tmp, "s.yaml", TINY + SHOCK.format(start="2025-06-01", end=30))
    (p,) = problems_of(path)
    assert "end" in p.message and "day 151" in p.message and "day 30" in p.message


def test_every_contract_type_is_implemented():
    # scenario-format.md section 7: seven shocks and four policies
    from sim.loader import CONTRACT_TYPES, PLANNED_TYPES
    from sim.policies import POLICY_TYPES
    from sim.shocks import SHOCK_TYPES
    assert len(CONTRACT_TYPES) == 11 and not PLANNED_TYPES
    assert CONTRACT_TYPES <= set(SHOCK_TYPES) | set(POLICY_TYPES)


@pytest.mark.parametrize("typo", ["prise", "Price", "unitt"])
def test_product_field_typos_are_caught(in_tmp, typo):
    doc = TINY.replace("products:\n", f"products:\n  extra_product: {{{typo}: 5}}\n", 1)
    path = write_file(in_tmp, "s.yaml", doc)
    messages = [p.message for p in problems_of(path)]
    assert any("did you mean" in m for m in messages), messages


def test_distribution_above_the_allowed_range(in_tmp):
    path = write_file(in_tmp, "s.yaml",
                      TINY + SHOCK.format(start=1, end=5) + "    leakage: {dist: uniform, low: 0.5, high: 1.5}\n")
    messages = [p.message for p in problems_of(path)]
    assert any("above the allowed range" in m for m in messages), messages


# --- issue 3: bad parameters of shocks and policies, with positions ---------------

LEVERS = """\
name: levers
horizon: 100
products:
  x: {}
nodes:
  cn: {region: CN, entity: Huawei, produces: x, capacity: 10}
  us: {region: US, inventory: {x: 5}, demand: {product: x, rate: 1}}
lanes:
  - {from: cn, to: us, product: x}
shocks:
  - {type: export_license, start: 0, approval_rate: 1.5}
  - {type: export_license, start: 0, review_days: 45wdd}
  - {type: entity_list, start: 0, entities: Huawai}
  - {type: capacity_loss, start: 0, node: us, fraction: 0.5}
  - {type: export_license, start: 0, approval_rate: [{rate: 0.2}, {rate: 0.5}]}
policies:
  - {type: stockpile, node: usa, product: x, target: 10}
  - {type: new_lane, from: cn, to: us, product: x}
"""


def test_bad_lever_parameters_are_reported_with_positions(in_tmp):
    path = write_file(in_tmp, "levers.yaml", LEVERS)
    problems = problems_of(path)
    by_line = {}
    for p in problems:
        by_line.setdefault(p.line, []).append(p.message)
    text = "\n".join(str(p) for p in problems)
    assert any("approval_rate" in m and "<= 1" in m for m in by_line[11]), text          # rate 1.5 on line 11
    assert any("review" in m or "duration" in m for m in by_line[12]), text              # 45wdd on line 12
    assert any("unknown entity 'Huawai'" in m and "Huawei" in m for m in by_line[13]), text
    assert any("step 2" in m for m in by_line[15]), text                                 # second step lacks after/from
    assert any("unknown node 'usa'" in m and "'us'" in m for m in by_line[17]), text     # stockpile node typo


def test_semantic_lever_checks_need_a_clean_file(in_tmp):
    # once the file is otherwise valid, semantic checks run: a capacity loss on a node that
    # produces nothing (line 14) and a new lane that duplicates lanes[0] into a node
    # without a reorder rule (line 18)
    fixed = (LEVERS.replace("approval_rate: 1.5", "approval_rate: 0.5").replace("45wdd", "45wd")
             .replace("Huawai", "Huawei").replace("[{rate: 0.2}, {rate: 0.5}]", "[{rate: 0.2}, {after: 2m, rate: 0.5}]")
             .replace("node: usa", "node: us"))
    path = write_file(in_tmp, "levers.yaml", fixed)
    problems = problems_of(path)
    lines = {p.line: p.message for p in problems}
    assert "produce nothing" in lines[14]
    assert "no reorder rule" in " ".join(p.message for p in problems if p.line == 18)
    assert "already exists" in " ".join(p.message for p in problems)


def test_misspelled_keys_get_a_suggestion_at_any_depth(tmp_path):
    # One misspelling in each nested block; the hint is the nearest key of that block's own
    # fields, also below a node whose id ("demand") is itself a field name.
    text = """name: typos
horizon: 30
products:
  g: {unit: t, price: 1, market: {elasticity: -1, window_day: 5}}
nodes:
  src: {region: CN, produces: g, capacity: 5}
  demand:
    region: US
    demand: {product: g, rate: 1}
    reorder: {policy: base_stock, days_of_cover: 5, precaution: {days_of_cover: 9, relax_day: 3}}
lanes:
  - {from: src, to: demand, product: g, lead_time: 1}
policies:
  - {type: capacity_expansion, node: src, capacity: 1,
     trigger: {metric: shortfall, node: demand, product: g, abov: 0}}
"""
    lines = "\n".join(str(p) for p in problems_of(write_file(tmp_path, "typos.yaml", text)))
    assert "products.g.market.window_day: unknown key 'window_day' (did you mean 'window_days'?)" in lines
    assert "nodes.demand.reorder.precaution.relax_day: unknown key 'relax_day' (did you mean 'relax_days'?)" in lines
    assert "policies[0].trigger.abov: unknown key 'abov' (did you mean 'above'?)" in lines


@pytest.mark.parametrize("value, words", [("0", "got the number 0"), ("1735689600", "got the number 1735689600"),
                                          ("true", "got true")])
def test_a_number_is_not_a_start_date(tmp_path, value, words):
    # pydantic alone would read 0 as 1970-01-01 (a Unix timestamp)
    text = f"name: d\nstart_date: {value}\nhorizon: 5\nproducts: {{g: {{unit: t}}}}\nnodes:\n  s: {{produces: g, capacity: 1}}\n"
    (problem,) = problems_of(write_file(tmp_path, "d.yaml", text))
    assert (problem.line, problem.col) == (2, 13)
    assert problem.message == f"start_date: expected a date such as 2025-01-01, {words}"


def test_ids_and_names_must_be_one_line(tmp_path):
    # a line break in a name printed by validate or run would forge a whole output line
    text = """name: "ok\\nFAKE LINE: all problems fixed"
horizon: 10
products:
  g: {unit: t}
nodes:
  "s\\nx": {region: CN, produces: g, capacity: 1}
  b: {region: US, demand: {product: g, rate: 1}, reorder: {days_of_cover: 2}}
lanes:
  - {from: "s\\nx", to: b, product: g}
shocks:
  - {type: export_ban, name: "ban\\nFAKE", start: 2, to: b}
"""
    lines = "\n".join(str(p) for p in problems_of(write_file(tmp_path, "nl.yaml", text)))
    assert "nl.yaml:1:7: name: holds a line break" in lines
    assert "nl.yaml:6:3: nodes: the id 's\\nx' holds a line break" in lines
    assert "nl.yaml:11:30: shocks[0].name: holds a line break" in lines
