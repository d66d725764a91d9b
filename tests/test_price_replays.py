"""The price replays of docs/validation.md section 4, with the market extensions
(scenarios/history/prices/*-signals.yaml: signal: orders, thrift, hoarding Japanese users
in 2010), with speculative traders in 2010-11 (rare-earths-2010-traders.yaml,
docs/markets.md section 9) and with a dysprosium chain added to that copy
(rare-earths-2010-dy.yaml), against the bands stated on that page before the first runs.

The bands are copied here from docs/validation.md section 4 (and checked against it).
Known misses are kept as strict xfails whose reason names the mechanism they point to: if
the model ever gets one right, the test fails so that docs/validation.md is updated.
"""
from __future__ import annotations

import importlib.util

import pytest

from helpers import ROOT

_spec = importlib.util.spec_from_file_location(
    "price_replays", ROOT / "scenarios" / "history" / "prices" / "price_replays.py")
P = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(P)

# (band low, band high) of each measure, in the order price_replays.measures() gives them
BANDS = [(2.3, 3.6), (2.26, 4.0), (0.0, 1.05), (1.89, 2.40), (0.90, 1.0), (13, 52), (-3, 3), (0.46, 0.66)]

_PEAK = ("no speculative stock-building outside the network: with the order weight fitted on Dy 2025 and "
         "Japan's hoarding, the 2010 peak reaches about 1.8, not 26 (a mean supply ratio near 0.1 would be "
         "needed at elasticity -0.7); one elasticity and weight do not carry across the episodes")
_MONTH = ("the network's tightest months are the 2H-2010 quota and the embargo, so the price peaks in 2010; "
          "the observed peak (August 2011) came under the looser 2011 quota, from buying that no node of the "
          "network holds (speculative stock-building)")
_EXPORTS = ("lasting demand destruction needs a high price: thrift keeps at most 1 - M^e of demand away "
            "(about a third at M = 1.8), while exports at 56% of the quota need two thirds of foreign "
            "demand gone through 2011")
XFAIL = {5: _PEAK, 6: _MONTH, 7: _EXPORTS}

# the traders copy: the peak month is inside; the peak and the exports still miss
_TRADER_PEAK = ("the traders' hold is at most 90 days of Japan's demand (7,640 t): once it is full they sell what "
                "they import again, so Japan's users are starved for about a month (June 2011) and the 30-day mean "
                "supply ratio falls to about 0.29 (M = 6.0), not the 0.1 a 26-fold rise needs; and no hold could take "
                "M above (6,000/31,000)^(1/-0.7) = 10.4, the non-Chinese supply's floor in this aggregate-oxide network")
_TRADER_EXPORTS = ("a trader that buys and sells within 2011 moves exports between months, not out of the year: 2011 "
                   "exports fall below the quota only if foreign demand at price stays below it for months (a long high "
                   "price, or stock carried over from 2010, when the network holds exports to the quota while the "
                   "record's were a third above it)")
TRADER_XFAIL = {5: _TRADER_PEAK, 7: _TRADER_EXPORTS}
TRADER_ROWS = (5, 6, 7)  # the rows the traders change; the others are the signals copies' (no trader)


@pytest.fixture(scope="module")
def after():
    return P.measures("-signals")


@pytest.fixture(scope="module")
def traders():
    return P.rare_earth_measures(P.TRADERS)


def test_the_bands_are_those_stated_in_validation_md():
    # the band column of the table stated before the runs, in the order of BANDS
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    stated = ["2.3 to 3.6", "2.26 to 4.0", "at most 1.05", "1.89 to 2.40", "at least 0.90",
              "13 to 52 (a factor 2 either way)", "May to November 2011", "46% to 66%"]
    for words in stated:
        assert f"| {words} |" in text, words


@pytest.mark.parametrize("k", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=XFAIL[k])) if k in XFAIL else k
    for k in range(len(BANDS))])
def test_price_replay_measure_inside_its_band(after, k):
    name, value, _, _ = after[k]
    low, high = BANDS[k]
    assert low <= value <= high, f"{name}: {value:.3f} outside {low} to {high}"


def test_the_fitted_weight_moves_the_may_jump_into_its_band(after):
    # the measure the weight was fitted on (dy-oxide-2025-signals.yaml): the shelves-only
    # replay gives 1.92 (docs/validation.md section 4), the order signal lifts it
    before = P.measures()
    assert before[1][1] < 2.26 <= after[1][1]


def _rows(xfails: dict[int, str]) -> list:
    """The 2010-11 rows, those in ``xfails`` as strict xfails with their reason."""
    return [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=xfails[k])) if k in xfails else k
            for k in TRADER_ROWS]


def _inside_its_band(measures, k: int) -> None:
    name, value, _, _ = measures[k - TRADER_ROWS[0]]
    low, high = BANDS[k]
    assert low <= value <= high, f"{name}: {value:.3f} outside {low} to {high}"


@pytest.mark.parametrize("k", _rows(TRADER_XFAIL))
def test_traders_replay_measure_inside_its_band(traders, k):
    _inside_its_band(traders, k)


def test_the_traders_peak_stays_below_the_floor_the_non_chinese_supply_sets(traders):
    # even a trader that held back all of Japan's Chinese supply would leave the users the
    # other suppliers' 6,000 t a year against notional demand of 31,000 t: the shelves'
    # ratio cannot fall below 6/31, so M <= (6/31)^(1/-0.7) = 10.44
    assert 1.77 < traders[0][1] <= (6000 / 31000) ** (-1 / 0.7) + 1e-9


def test_the_traders_exponent_is_the_one_the_fit_rule_picks():
    # the one fitted parameter, on the one measure it is fitted on (the peak multiplier)
    grid = P.fit_grid()
    spec = P.sim.load_scenario(P.TRADERS).nodes["jp_ree_traders"].reorder.speculation
    assert spec.exponent == P.fitted(grid) == 12
    assert [k for k, _ in grid] == [1, 2, 4, 8, 12, 16, 24, 32, 64]  # the grid stated in docs/validation.md


def test_the_traders_copy_differs_from_the_signals_copy_only_where_it_says():
    # the file's header lists the differences (it cannot `extends` the signals copy)
    sig = P.sim.load_scenario(P.HERE / "rare-earths-2010-signals.yaml").to_document()
    tr = P.sim.load_scenario(P.TRADERS).to_document()
    assert tr["products"] == sig["products"]
    assert tr["horizon"] == sig["horizon"] and tr["start_date"] == sig["start_date"] and tr["seed"] == sig["seed"]
    trader = tr["nodes"].pop("jp_ree_traders")
    assert trader["reorder"]["precaution"] == sig["nodes"]["jp_ree_users"]["reorder"].pop("precaution")
    assert tr["nodes"] == sig["nodes"]
    for a, b in zip(tr["shocks"], sig["shocks"], strict=True):
        if b.get("to") == "jp_ree_users":
            assert a.pop("to") == "jp_ree_traders"
            b.pop("to")
        assert a == b
    lanes = {(ln["from"], ln["to"]): ln for ln in tr["lanes"]}
    old = {(ln["from"], ln["to"]): ln for ln in sig["lanes"]}
    assert old.pop(("cn_ree_exporters", "jp_ree_users"))["share"] == lanes.pop(("jp_ree_traders", "jp_ree_users"))["share"]
    assert lanes.pop(("cn_ree_exporters", "jp_ree_traders"))["lead_time"] == 21
    assert lanes == old


# the dysprosium chain (rare-earths-2010-dy.yaml), added after the traders copy missed the
# peak: Japan's Dy with 1% of its supply from outside China, every number reused
_DY_MONTH = ("with 1% of Japan's dysprosium from outside China, the traders' hold (k = 12, reused) empties "
             "the users' shelves within two months of January 2011, so the price reaches the cap in "
             "March 2011, five months before the record's August peak")
DY_XFAIL = {6: _DY_MONTH, 7: _TRADER_EXPORTS}


@pytest.fixture(scope="module")
def dysprosium():
    return P.rare_earth_measures(P.DYSPROSIUM, "jp_dy_users")


@pytest.mark.parametrize("k", _rows(DY_XFAIL))
def test_dysprosium_replay_measure_inside_its_band(dysprosium, k):
    _inside_its_band(dysprosium, k)


def test_the_dysprosium_peak_is_the_cap_not_the_mechanism(dysprosium):
    # inside the band only because the cap (30, set before the runs) is inside it: without the
    # aggregate's non-Chinese floor nothing holds the multiplier below the cap; raised to 1,000
    # the peak passes the band's top (52)
    assert dysprosium[0][1] == pytest.approx(30.0)
    doc = P.sim.load_scenario(P.DYSPROSIUM).to_document()
    doc["products"]["dy_oxide"]["market"]["max_multiplier"] = 1000
    uncapped = P.rare_earth_measures(P.Scenario.model_validate(doc), "jp_dy_users")
    assert uncapped[0][1] > 52


def test_the_dysprosium_chain_reuses_the_traders_numbers():
    # the file's header: every rule, cover, exponent and market number is the traders copy's
    doc = P.sim.load_scenario(P.DYSPROSIUM).to_document()
    assert doc["products"]["dy_oxide"]["market"] == doc["products"]["ree_oxide"]["market"]
    dy, ree = doc["nodes"]["jp_dy_traders"]["reorder"], doc["nodes"]["jp_ree_traders"]["reorder"]
    assert {**dy["speculation"], "market": None} == {**ree["speculation"], "market": None}
    assert dy["precaution"] == ree["precaution"] and dy["days_of_cover"] == ree["days_of_cover"]
    assert doc["nodes"]["jp_dy_users"]["reorder"] == doc["nodes"]["jp_ree_users"]["reorder"]
    # the quotas scaled by Japan's Chinese Dy need over its Chinese aggregate need (990 / 27,900)
    quotas = {s["name"]: s.get("quota") for s in doc["shocks"]}
    for half in ("1H-2010", "2H-2010", "2011"):
        assert quotas[f"{half} quota (Japan, Dy)"] == pytest.approx(quotas[f"{half} quota (Japan)"] * 990 / 27900, abs=0.06)
    # and the aggregate chain is the traders copy's, untouched, so its exports are too
    traders = P.sim.load_scenario(P.TRADERS).to_document()
    for key in ("nodes", "products"):
        assert {k: v for k, v in doc[key].items() if k in traders[key]} == traders[key]
    assert doc["shocks"][:len(traders["shocks"])] == traders["shocks"]


# the fifth step (rare-earths-2010-cnprice.yaml): the shelves-only copy with China's 2011
# export price (9.54 x 2009's export unit value) carried as a fee of 8.54 on the 2011 licences
_FEE = 9.54 - 1


@pytest.fixture(scope="module")
def china_price():
    return P.sim.run(P.CHINA_PRICE)


def test_china_price_copy_differs_from_the_shelves_only_copy_only_in_the_2011_fees():
    doc = P.sim.load_scenario(P.CHINA_PRICE).to_document()
    base = P.sim.load_scenario(P.HERE / "rare-earths-2010.yaml").to_document()
    for key in ("products", "nodes", "lanes", "start_date", "horizon", "seed", "replications"):
        assert doc[key] == base[key], key
    for a, b in zip(doc["shocks"], base["shocks"], strict=True):
        if a["name"].startswith("2011 quota"):
            assert a.pop("fee") == pytest.approx(_FEE)
        assert {k: v for k, v in a.items() if k != "fee" or v} == {k: v for k, v in b.items() if k != "fee" or v}


def test_china_price_steady_state_is_demand_at_the_fee_inclusive_price(china_price):
    # with full shelves M = 1, so demand at price is N x (1 + fee)^e (docs/markets.md, section 1):
    # the others pay the whole premium; Japan's fee is weighted by its lane shares, 0.9 x 8.54,
    # and takes 90% of its demand from China. From July 2011 shelves are full: the second half's
    # exports, scaled to a year, are that demand.
    e = -0.7
    others = 22100 * (1 + _FEE) ** e
    japan = 0.9 * 31000 * (1 + 0.9 * _FEE) ** e
    ts = china_price.timeseries
    shipped = ts[(ts["metric"] == "shipped") & (ts["node"] == "cn_ree_exporters")]
    h2 = shipped[(shipped["date"] >= "2011-07-01") & (shipped["date"] < "2012-01-01")]["value"].sum()
    assert h2 * 365 / 184 == pytest.approx(others + japan, rel=0.01)
    short = ts[(ts["metric"] == "shortfall") & ts["node"].isin(["jp_ree_users", "row_ree_users"])]
    assert short[short["date"].dt.year == 2011]["value"].sum() == pytest.approx(0.0, abs=1e-6)


def test_china_price_2011_exports_inside_the_band_stated_before_the_run():
    _, value, low, high = P.rare_earth_measures(P.CHINA_PRICE)[2]
    assert (low, high) == BANDS[7]
    assert low <= value <= high, f"2011 exports / quota {value:.3f} outside {low} to {high}"


# the sixth step: the fifth with `cover: at_price` (docs/markets.md, section 10)
_COVER_EXPORTS = ("with covers counted at price the 2011 exports are demand at price alone, and the 2025 Dy "
                  "elasticity (-0.7) cuts it too far: 22,100 x 9.54^e + 27,900 x 8.69^e = 16,900 t, the record, needs "
                  "e near -0.5; the fifth step's pass rested on restocking a notional cover at 9.5x the price")


def test_the_cover_copy_differs_from_the_fifth_step_only_in_the_cover_key():
    doc = P.sim.load_scenario(P.CHINA_PRICE_COVER).to_document()
    fifth = P.sim.load_scenario(P.CHINA_PRICE).to_document()
    assert doc["products"]["ree_oxide"]["market"].pop("cover") == "at_price"
    fifth["products"]["ree_oxide"]["market"].pop("cover", None)
    doc.pop("name"), fifth.pop("name")
    assert doc == fifth


@pytest.mark.xfail(strict=True, reason=_COVER_EXPORTS)
def test_cover_copy_2011_exports_inside_the_band_stated_before_the_run():
    _, value, low, high = P.rare_earth_measures(P.CHINA_PRICE_COVER)[2]
    assert low <= value <= high, f"2011 exports / quota {value:.3f} outside {low} to {high}"


def test_the_cover_copy_ends_2011_at_demand_at_price_with_smaller_stocks(china_price):
    # from July the two copies ship the same (demand at price, M = 1), and the cover copy's
    # buyers end 2011 with 90 days of their use at price less what is on the way, far below
    # the 90 days of notional use the fifth step's buyers restock to
    cover = P.sim.run(P.CHINA_PRICE_COVER)
    def h2(res):
        ts = res.timeseries
        rows = ts[(ts["metric"] == "shipped") & (ts["node"] == "cn_ree_exporters") & (ts["date"] >= "2011-07-01")]
        return rows["value"].sum()
    assert h2(cover) == pytest.approx(h2(china_price), rel=1e-6)
    def stock(res, node):
        ts = res.timeseries
        return float(ts[(ts["metric"] == "inventory") & (ts["node"] == node)]["value"].iloc[-1])
    # Japan: 90 days of 31,000 x 8.686^-0.7 a year, less 21 days of its China lane's flow
    # (90% of that use) and 45 days of the other lane's (10%): about 1,250 t
    use = 31000 * (1 + 0.9 * _FEE) ** -0.7 / 365
    assert stock(cover, "jp_ree_users") == pytest.approx(use * (90 - 0.9 * 21 - 0.1 * 45), rel=0.02)
    assert stock(china_price, "jp_ree_users") > 5 * stock(cover, "jp_ree_users")
