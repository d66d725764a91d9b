"""Plain builders and paths shared by the tests (fixtures live in conftest.py).

Import what you need: ``from helpers import scenario, series``. Everything here is an
ordinary function or constant, so it also works at import time (in ``parametrize``).
Importing this module does not import ``sim``; the builders do, when called.
"""
from __future__ import annotations

import re
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from sim.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
BROKEN_FIXTURES = ROOT / "tests" / "fixtures" / "broken"
# the closing line of a report of broken files: "1 problem found", "3 problems found"
SUMMARY_LINE = re.compile(r"^\d+ problems? found$")

# A complete, valid two-node scenario; the loader tests add to it or break it.
TINY = """\
name: tiny
horizon: 30
products:
  magnet: {unit: t}
nodes:
  cn_magnets:
    region: CN
    produces: magnet
    capacity: 10
  us_buyers:
    region: US
    demand: {product: magnet, rate: 5}
    inventory: {magnet: 50}
    reorder: {policy: base_stock, days_of_cover: 10}
lanes:
  - {from: cn_magnets, to: us_buyers, product: magnet, lead_time: 5}
"""


def ban_text(name: str, end: int, horizon: int = 150, replications: int = 4) -> str:
    """One buyer with 250 t of stock and 10 t/day of demand, fed over a 7-day lane by a
    supplier banned from day 0 to ``end``: its stock lasts to day 25, and it is short from
    then until day end + 6 (the first shipment after the ban arrives on day end + 7)."""
    return f"""\
name: {name}
horizon: {horizon}
replications: {replications}
seed: 3
products: {{x: {{unit: t}}}}
nodes:
  s: {{region: CN, produces: x, capacity: 1000}}
  b: {{region: US, inventory: {{x: 250}}, demand: {{product: x, rate: 10}}, reorder: {{level: 500}}}}
lanes:
  - {{from: s, to: b, product: x, lead_time: 7}}
shocks:
  - {{type: export_ban, start: 0, end: {end}, from: s}}
"""


# --- scenarios and their results -----------------------------------------------------

def scenario(**doc) -> Scenario:
    """A Scenario from keyword sections, with a name and a short default horizon."""
    from sim.schema import Scenario

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
    """``sim.run`` (one name to patch or wrap for every engine test)."""
    import sim

    return sim.run(sc, **kw)


def covered_buyer(shocks) -> Scenario:
    """120 days; buyer ``b`` holds 100 units, uses 10 a day and re-orders to 10 days of
    cover from ``s`` (a million units in stock) over a 2-day lane."""
    return scenario(horizon=120, products={"x": {}},
                    nodes={"s": {"inventory": {"x": 1e6}},
                           "b": {"inventory": {"x": 100}, "demand": {"product": "x", "rate": 10},
                                 "reorder": {"days_of_cover": 10}}},
                    lanes=[{"from": "s", "to": "b", "product": "x", "lead_time": 2}], shocks=list(shocks))


# --- files and the command line ------------------------------------------------------

def write_file(folder: Path, name: str, text: str) -> Path:
    """Write dedented ``text`` to ``folder/name`` (creating sub-folders); return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def cli(*args):
    """Run the ``chipsim`` Typer app in-process; the result keeps .stdout and .stderr apart."""
    from typer.testing import CliRunner

    from sim.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


def chipsim_command(*args) -> list[str]:
    """The argv of a real ``python -m sim ...`` process, as a user would start it."""
    return [sys.executable, "-m", "sim", *map(str, args)]


# Debian's chromium, for the briefing's browser checks (.ci/run installs it)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
