"""Small builders shared by the engine tests."""
from __future__ import annotations

import pandas as pd

import sim
from sim.schema import Scenario


def scenario(**doc) -> Scenario:
    """A Scenario from keyword sections, with a name and a short default horizon."""
    doc.setdefault("name", "test")
    doc.setdefault("horizon", 100)
    return Scenario.model_validate(doc)


def series(results, node: str, metric: str, product: str | None = None, replication: int = 0) -> pd.Series:
    """Daily values of one metric at one node (indexed by day)."""
    ts = results.timeseries
    mask = (ts["node"] == node) & (ts["metric"] == metric) & (ts["replication"] == replication)
    if product is not None:
        mask &= ts["product"] == product
    return ts.loc[mask].set_index("day")["value"]


def run(sc: Scenario, **kw):
    return sim.run(sc, **kw)
