"""chipsim: discrete-event simulation of the semiconductor supply chain.

Public API::

    import sim
    scenario = sim.load_scenario("scenarios/quickstart.yaml")
    results = sim.run(scenario, replications=20, seed=1)
    results.kpis, results.timeseries
    results.save("runs/quick"); sim.Results.load("runs/quick")
    comparison = sim.compare(["base.yaml", "option.yaml"], replications=20)
    exploration = sim.explore(["base.yaml", "option.yaml"], ["shocks.0.leakage=0:0.2"], futures=200,
                              threshold="fill_rate@us_motor_makers>=0.95")

Importing ``sim`` is cheap: the names above are loaded on first use (PEP 562), so
``import sim`` (and ``chipsim --help`` or ``validate``) does not import pandas, the
engine or matplotlib. It never changes matplotlib's settings; charts are drawn only
when a run directory is saved with its report.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from .comparison import Comparison, compare
    from .errors import Problem, ScenarioError
    from .experiment import run
    from .exploration import explore
    from .loader import load_scenario
    from .results import Results
    from .schema import Scenario

# public name -> the module that defines it (imported on first use)
_LAZY = {"load_scenario": "loader", "run": "experiment", "compare": "comparison", "Results": "results",
         "Comparison": "comparison", "explore": "exploration", "Scenario": "schema", "ScenarioError": "errors",
         "Problem": "errors"}

__all__ = ["__version__", "load_scenario", "run", "compare", "explore", "Results", "Comparison", "Scenario",
           "ScenarioError", "Problem"]


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
