"""Results of a run as tidy tables, and run directories written atomically."""
from __future__ import annotations

import datetime as _dt
import io
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ._version import __version__
from .metrics import ShockWindow, earliest_window, kpi_table
from .network import Network
from .quantities import day_number
from .schema import Scenario

TIMESERIES_COLUMNS = ["replication", "day", "date", "node", "product", "metric", "value"]


def _shock_windows(scenario: Scenario) -> list[tuple[int, Optional[int]]]:
    return [(day_number(s.start, scenario.start_date),
             None if s.end is None else day_number(s.end, scenario.start_date)) for s in scenario.shocks]


def tidy_timeseries(net: Network, cube: np.ndarray, replications: Sequence[int]) -> pd.DataFrame:
    """Long table from a (replication, day, series) cube of daily values."""
    n_rep, horizon, n_series = cube.shape
    sc = net.scenario
    series_node = [net.slots[s][0] for s, _ in net.series]
    series_product = [net.slots[s][1] for s, _ in net.series]
    series_metric = [m for _, m in net.series]

    def categorical(labels: list[str]) -> pd.Categorical:
        cats = list(dict.fromkeys(labels))
        codes = np.array([cats.index(x) for x in labels], dtype=np.int32) if labels else np.zeros(0, np.int32)
        return pd.Categorical.from_codes(np.tile(codes, n_rep * horizon), categories=cats)

    days = np.arange(horizon, dtype=np.int32)
    dates = pd.Timestamp(sc.start_date).to_datetime64().astype("datetime64[D]") + days
    return pd.DataFrame({
        "replication": np.repeat(np.asarray(replications, dtype=np.int32), horizon * n_series),
        "day": np.tile(np.repeat(days, n_series), n_rep),
        "date": np.tile(np.repeat(dates.astype("datetime64[s]"), n_series), n_rep),
        "node": categorical(series_node),
        "product": categorical(series_product),
        "metric": categorical(series_metric),
        "value": cube.reshape(-1),
    }, columns=TIMESERIES_COLUMNS)


@dataclass
class Results:
    """What a run produced: the tidy daily table, the KPIs and the provenance.

    ``timeseries`` columns: replication, day, date, node, product, metric, value.
    ``kpis``: one row per demand (node, product); see ``sim.metrics``.
    """

    scenario: Scenario
    timeseries: pd.DataFrame
    kpis: pd.DataFrame
    seed: int
    replications: int
    shock_window: ShockWindow
    manifest: dict = field(default_factory=dict)
    keep: str = "all"
    per_replication: Optional[pd.DataFrame] = None  # outcomes per replication (summary mode keeps them)

    @classmethod
    def from_cube(cls, net: Network, cube: np.ndarray, seed: int, manifest: dict) -> "Results":
        sc = net.scenario
        ts = tidy_timeseries(net, cube, range(cube.shape[0]))
        window = earliest_window(_shock_windows(sc))
        units = {pid: p.unit for pid, p in sc.products.items()}
        return cls(sc, ts, kpi_table(ts, window, units), seed, cube.shape[0], window, manifest)

    @classmethod
    def from_summary(cls, net: Network, summary: pd.DataFrame, per_rep: pd.DataFrame, seed: int,
                     replications: int, manifest: dict) -> "Results":
        """Results of a ``keep="summary"`` run: ``timeseries`` holds, per day and series,
        the mean and 5/50/95% quantiles over replications (a ``stat`` column instead of
        ``replication``); the KPIs come from every replication."""
        from .metrics import summarise

        sc = net.scenario
        window = earliest_window(_shock_windows(sc))
        kpi_rows = per_rep[per_rep["metric"].isin(["demand", "delivered", "shortfall", "fill_rate",
                                                   "time_to_survive_days", "time_to_recover_days"])]
        return cls(sc, summary, summarise(kpi_rows), seed, replications, window, manifest, keep="summary",
                   per_replication=per_rep)

    def save(self, out: str | os.PathLike, force: bool = False, report: bool = True) -> Path:
        """Write the run directory atomically (a temporary folder beside ``out``, then a
        rename): tables, resolved scenario, manifest, and unless ``report`` is false the
        charts and the briefing."""
        from .reporting.rundir import save_run
        return save_run(self, Path(out), force=force, report=report)


def scenario_yaml(scenario: Scenario) -> str:
    """The resolved scenario (extends merged, defaults filled in) as YAML."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    buf = io.StringIO()
    buf.write(f"# resolved by chipsim {__version__}: extends merged, every default filled in\n")
    yaml.dump(scenario.to_document(), buf)
    return buf.getvalue()


def _git_sha() -> Optional[str]:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def build_manifest(scenario: Scenario, seed: int, replications: int, workers: int, wall_s: float) -> dict:
    """Provenance of a run: versions, seed, timing and hashes of the input files."""
    import numpy
    import simpy

    from .loader import scenario_sources

    return {
        "chipsim_version": __version__,
        "git_sha": _git_sha(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "scenario": scenario.name,
        "seed": seed,
        "replications": replications,
        "workers": workers,
        "horizon_days": scenario.horizon,
        "start_date": scenario.start_date.isoformat(),
        "wall_time_s": round(wall_s, 3),
        "inputs": [{"path": s.path, "sha256": s.sha256} for s in scenario_sources(scenario)],
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "simpy": simpy.__version__,
        "pandas": pd.__version__,
    }
