"""Golden regression: every bundled scenario still gives the KPIs and daily series
recorded in ``tests/golden/`` (see ``tests/golden/record.py``).

A change that moves these numbers must be deliberate: re-record and say so in the commit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from golden.digest import GOLDEN_DIR, ROOT, bundled_scenarios, digest

GOLDEN_KPIS = pd.read_parquet(GOLDEN_DIR / "kpis.parquet")
GOLDEN_SERIES = pd.read_parquet(GOLDEN_DIR / "series.parquet")
RTOL = 1e-9


def _compare(fresh: pd.DataFrame, golden: pd.DataFrame, keys: list[str], what: str) -> None:
    fresh = fresh.set_index(keys).sort_index()
    golden = golden.set_index(keys).sort_index()
    assert list(fresh.index) == list(golden.index), f"{what}: the set of rows changed"
    for col in golden.columns:
        if col not in fresh.columns:
            # the golden table holds the union of every scenario's columns (market KPIs only
            # exist in files with a market): a column a run does not have must be empty here
            assert golden[col].isna().all(), f"{what}: column {col} is missing"
            continue
        a, b = golden[col], fresh[col]
        if pd.api.types.is_numeric_dtype(b):
            ok = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=RTOL, atol=1e-9, equal_nan=True)
            assert ok.all(), f"{what}: {col} moved at {list(golden.index[~ok][:5])}"
        else:
            assert (a.astype(str) == b.astype(str)).all(), f"{what}: {col} changed"


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_bundled_scenario_matches_golden(path):
    rel = path.relative_to(ROOT).as_posix()
    kpis, series = digest(path)
    gk = GOLDEN_KPIS[GOLDEN_KPIS["scenario"] == rel].reset_index(drop=True)
    gs = GOLDEN_SERIES[GOLDEN_SERIES["scenario"] == rel].reset_index(drop=True)
    assert len(gk) and len(gs), f"no golden data for {rel}: re-record with tests/golden/record.py"
    _compare(kpis, gk, ["scenario", "node", "product"], f"{rel} KPIs")
    _compare(series, gs, ["scenario", "kind", "replication", "node", "product", "metric", "day"], f"{rel} series")


def test_every_bundled_scenario_has_golden_data():
    recorded = set(GOLDEN_KPIS["scenario"])
    assert {p.relative_to(ROOT).as_posix() for p in bundled_scenarios()} == recorded
