"""Summary runs reduced in the workers (issue 17, 10,000 replications in minutes): the
outcomes computed from the daily cube equal those of the tidy table, the pool's workers
writing the temporary files and taking the blocks' statistics give the bytes of a serial
run, a full disk in a worker is one user error, and the memory estimate stays flat."""
from __future__ import annotations

import errno
import os

import numpy as np
import pandas as pd
import pytest

import sim
from helpers import ROOT

PRICED = """\
name: priced
horizon: 90
replications: 10
seed: 5
products: {x: {unit: t, price: 1234.5678}, y: {unit: kg, price: 0.37}}
nodes:
  s: {region: CN, produces: x, capacity: 30}
  t: {region: CN, produces: y, capacity: 8}
  b: {region: US, inventory: {x: 50}, demand: {product: x, rate: 20, distribution: poisson}, reorder: {level: 120}}
  c: {region: EU, inventory: {y: 10}, demand: {product: y, rate: 5, distribution: poisson}, reorder: {level: 30}}
lanes:
  - {from: s, to: b, product: x, lead_time: {dist: uniform, low: 2, high: 6}}
  - {from: t, to: c, product: y, lead_time: 3}
shocks:
  - {type: export_ban, start: 20, end: 40, from: s}
headlines:
  - {name: short, metric: shortfall, node: b, product: x}
"""


def _priced(tmp_path):
    path = tmp_path / "priced.yaml"
    path.write_text(PRICED)
    return path


@pytest.mark.parametrize("source", ["priced", "reference.yaml", "quickstart.yaml"])
def test_outcomes_from_the_cube_equal_those_of_the_tidy_table(tmp_path, source):
    # the reference computation: sim.statistics.outcomes over the long table (pandas
    # groupby per demand row and metric), the route every summary run took before
    from sim.engine import run_replication
    from sim.experiment import _kpi_view
    from sim.network import build_network
    from sim.results import tidy_timeseries
    from sim.statistics import OutcomePlan, outcomes

    path = _priced(tmp_path) if source == "priced" else ROOT / "scenarios" / source
    net = build_network(sim.load_scenario(path))
    cube = np.stack([run_replication(net, 7, r, "reference").values for r in range(4)])
    expected = outcomes(tidy_timeseries(net, cube, range(4)), net.scenario).sort_values(
        ["node", "product", "metric", "replication"], ignore_index=True)
    assert {"cost", "fill_rate", "time_to_recover_days"} <= set(expected["metric"])
    cols, kpi_net = _kpi_view(net)
    for plan, part in ((OutcomePlan(net), cube), (OutcomePlan(kpi_net), cube[:, :, cols])):
        # in chunks of 3 and 1 replications, as workers ship them
        values = np.concatenate([plan.values(part[:3]), plan.values(part[3:])])
        pd.testing.assert_frame_equal(plan.frame(values, np.arange(4)), expected, check_exact=True)


def test_the_pool_writing_and_summarising_blocks_gives_the_serial_bytes(tmp_path, monkeypatch):
    # one series per temporary file: many blocks, so the two workers each take some of
    # the statistics, and each writes its chunks into every file itself
    from sim.experiment import _SummarySink

    path = _priced(tmp_path)
    serial = sim.run(path, workers=1, keep="summary").save(tmp_path / "w1", report=False)
    monkeypatch.setattr(_SummarySink, "BLOCK_BYTES", 1)
    pooled = sim.run(path, workers=2, keep="summary")
    assert pooled.manifest["executor"] == "processes"
    pooled = pooled.save(tmp_path / "w2", report=False)
    for name in ("timeseries.parquet", "per_replication.csv", "kpis.csv", "headlines.csv"):
        assert (serial / name).read_bytes() == (pooled / name).read_bytes(), name


def test_a_full_disk_in_a_worker_is_one_user_error_and_leaves_nothing(tmp_path, monkeypatch):
    import tempfile

    from sim.errors import ChipsimUserError

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)  # the forked workers inherit it
    with pytest.raises(ChipsimUserError, match="No space left on device") as caught:
        sim.run(_priced(tmp_path), replications=6, workers=2, keep="summary")
    assert str(private) in str(caught.value) and "TMPDIR" in str(caught.value)
    assert os.listdir(private) == []


def test_a_summary_run_of_10000_reference_replications_is_not_refused_for_memory():
    # what grows with replications is bounded (a chunk, one block read back) but for the
    # outcomes: a row per replication and outcome, 10,000 x 11 demand rows x 11 metrics
    from sim.experiment import estimated_bytes
    from sim.memory import run_note
    from sim.network import build_network

    scenario = sim.load_scenario(ROOT / "scenarios" / "reference.yaml")
    net = build_network(scenario)
    assert run_note(scenario, 10_000, "summary") is None
    small, large = estimated_bytes(net, 1_000, "summary"), estimated_bytes(net, 10_000, "summary")
    assert large < 2 * 2**30
    # ten times the replications add the outcomes' rows (150 bytes each) and a wider block read, no more
    rows = 9_000 * len(net.demands) * 11 * 150
    assert rows <= large - small <= rows + 3 * 128 * 2**20
