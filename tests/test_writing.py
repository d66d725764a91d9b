"""Writing a run stays cheap and memory stays flat: SVGs only on request, the constant
``variant`` column as codes, the comparison's tables stacked column by column, chunks of
replications bounded in bytes, and error bars that a rounding step cannot make negative."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import ban_text
from sim.executors import CHUNK_BYTES, _chunks
from sim.results import stack_tables


def _file(tmp_path, name: str, end: int):
    path = tmp_path / f"{name}.yaml"
    path.write_text(ban_text(name, end, horizon=120, replications=2))
    return path


@pytest.mark.parametrize("svg", [False, True])
def test_svgs_are_written_only_when_asked_for(tmp_path, svg):
    out = sim.run(_file(tmp_path, "ban", 60)).save(tmp_path / "run", pdf=False, svg=svg)
    pngs = sorted(p.stem for p in (out / "charts").glob("*.png"))
    svgs = sorted(p.stem for p in (out / "charts").glob("*.svg"))
    assert "shortfall_fan" in pngs and "network_map" in pngs
    assert svgs == (pngs if svg else [])
    assert all((out / "charts" / f"{stem}.csv").is_file() for stem in pngs)


def _old_stack(frames, ids):
    """The stacking of every variant's table as chipsim did it before (concat, then categories)."""
    ts = pd.concat([f.assign(variant=i) for f, i in zip(frames, ids, strict=True)], ignore_index=True)
    ts["variant"] = pd.Categorical(ts["variant"], categories=list(ids))
    for col in ("node", "product", "metric"):
        ts[col] = ts[col].astype("category")
    return ts[["variant", *[c for c in ts.columns if c != "variant"]]]


def test_stacked_tables_equal_the_concatenation():
    a = pd.DataFrame({"day": np.arange(4, dtype=np.int32),
                      "node": pd.Categorical(["b", "a", "b", "c"], categories=["b", "a", "c"]),
                      "product": pd.Categorical(["x"] * 4), "metric": pd.Categorical(["m", "n", "m", "n"]),
                      "value": np.arange(4.0)})
    b = pd.DataFrame({"day": np.arange(3, dtype=np.int32), "node": pd.Categorical(["z", "a", "b"]),
                      "product": pd.Categorical(["x"] * 3), "metric": pd.Categorical(["m", "n", "m"]),
                      "value": [10.0, 11.0, 12.0]})
    for frames in ([a, b], [a, a.copy()], [b, a, b]):
        ids = [f"v{i}" for i in range(len(frames))]
        stacked = stack_tables(frames, ids)
        pd.testing.assert_frame_equal(stacked, _old_stack(frames, ids))
    stacked = stack_tables([a, b], ["base", "opt"])
    # by hand: the second table's nodes z, a, b keep their names, the categories are sorted
    assert list(stacked["node"].cat.categories) == ["a", "b", "c", "z"]
    assert list(stacked["node"].astype(str)) == ["b", "a", "b", "c", "z", "a", "b"]
    assert list(stacked["variant"].astype(str)) == ["base"] * 4 + ["opt"] * 3


def test_chunks_cover_every_replication_and_stay_within_the_byte_bound():
    per_rep = 4 * 2**20  # a reference replication: 730 days x 678 series x 8 bytes is about 4 MB
    chunks = _chunks(list(range(1000)), 2, per_rep)
    assert [r for c in chunks for r in c] == list(range(1000))
    assert max(len(c) for c in chunks) == CHUNK_BYTES // per_rep
    # without a byte figure: four chunks per worker, as before
    assert [len(c) for c in _chunks(list(range(16)), 2)] == [2] * 8


def test_survive_recover_bars_take_equal_values_whose_mean_rounds(tmp_path):
    from sim.reporting.charts import survive_recover
    from sim.rundir import run_data_from_results

    data = run_data_from_results(sim.run(_file(tmp_path, "ban", 60), replications=50))
    survive = data.table["metric"] == "time_to_survive_days"
    data.table.loc[survive, "value"] = 0.7  # the mean of fifty 0.7s exceeds 0.7 by one rounding step
    values = np.full(50, 0.7)
    assert values.mean() != 0.7
    _, table = survive_recover(data, "b", "x")
    row = table[table["metric"] == "time_to_survive_days"].iloc[0]
    assert row["p05"] == row["p95"] == 0.7


def test_summary_statistics_table_equals_one_tidy_table_per_statistic(tmp_path):
    # the per-day statistics table, built column by column, is the tidy table of each
    # statistic in turn with a stat column (how it was built before, by concatenation)
    from sim.experiment import DAILY_STATS, summary_frame
    from sim.network import build_network
    from sim.results import tidy_timeseries

    net = build_network(sim.load_scenario(_file(tmp_path, "ban", 60)))
    rng = np.random.default_rng(0)
    stats = rng.random((4, net.horizon, len(net.series)))
    frames = [tidy_timeseries(net, stats[k][None], [0]).drop(columns="replication").assign(stat=name)
              for k, name in enumerate(DAILY_STATS)]
    expected = pd.concat(frames, ignore_index=True)
    expected["stat"] = pd.Categorical(expected["stat"], categories=DAILY_STATS)
    expected = expected[["day", "date", "node", "product", "metric", "stat", "value"]]
    pd.testing.assert_frame_equal(summary_frame(net, stats), expected)
    # by hand: the first row is day 0 of the first series' mean, the last the last day's p95
    got = summary_frame(net, stats)
    assert got["value"].iloc[0] == stats[0, 0, 0] and got["value"].iloc[-1] == stats[3, -1, -1]


NOISY = """\
name: noisy
horizon: 90
replications: 12
seed: 5
products: {x: {unit: t}}
nodes:
  s: {region: CN, produces: x, capacity: 30}
  b: {region: US, inventory: {x: 50}, demand: {product: x, rate: 20, distribution: poisson}, reorder: {level: 120}}
lanes:
  - {from: s, to: b, product: x, lead_time: {dist: uniform, low: 2, high: 6}}
shocks:
  - {type: export_ban, start: 20, end: 40, from: s}
headlines:
  - {name: short, metric: shortfall, node: b, product: x}
"""


def test_summary_files_are_the_same_bytes_whatever_the_worker_count(tmp_path):
    # twelve replications on two workers come back in chunks of one, in any order; the
    # files equal those of one worker byte for byte (headline values in replication order)
    path = tmp_path / "noisy.yaml"
    path.write_text(NOISY)
    folders = [sim.run(path, workers=w, keep="summary").save(tmp_path / f"w{w}", report=False) for w in (1, 2)]
    for name in ("timeseries.parquet", "per_replication.csv", "kpis.csv", "headlines.csv"):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_summary_statistics_do_not_depend_on_how_many_series_a_temporary_file_holds(tmp_path, monkeypatch):
    # a long run reads its temporary files one series at a time (BLOCK_BYTES); each
    # statistic is taken over replications column by column, so the numbers are the same
    from sim.engine import run_replication
    from sim.experiment import _SummarySink
    from sim.network import build_network

    path = tmp_path / "noisy.yaml"
    path.write_text(NOISY)
    net = build_network(sim.load_scenario(path))
    values = [run_replication(net, 5, r).values for r in range(6)]
    tables = []
    for cap in (2**40, 1):
        monkeypatch.setattr(_SummarySink, "BLOCK_BYTES", cap)
        sink = _SummarySink(net, 6, tmp_path)
        assert len(sink.blocks) == (-(-len(net.series) // 16) if cap > 1 else len(net.series))
        for r, v in enumerate(values):
            sink.add(r, v)
        tables.append(sink.summary())
        sink.close()
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


def test_per_replication_outcomes_do_not_depend_on_the_order_replications_arrive(tmp_path):
    # workers finish in any order; the per-replication totals (cost: a sum over days of
    # fractional values) must be the same bits as when the replications arrive in order
    from sim.engine import run_replication
    from sim.experiment import _SummarySink
    from sim.network import build_network

    path = tmp_path / "priced.yaml"
    path.write_text(NOISY.replace("products: {x: {unit: t}}", "products: {x: {unit: t, price: 1234.5678}}"))
    net = build_network(sim.load_scenario(path))
    values = [run_replication(net, 5, r).values for r in range(8)]
    tables = []
    for order in (range(8), [5, 2, 7, 0, 3, 6, 1, 4]):
        sink = _SummarySink(net, 8, tmp_path)
        for r in order:
            sink.add(r, values[r])
        tables.append(sink.kpis())
        sink.close()
    assert (tables[0]["metric"] == "cost").any()
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)
