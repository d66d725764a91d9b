"""chipsim: discrete-event simulation of the semiconductor supply chain.

Public API::

    import sim
    scenario = sim.load_scenario("scenarios/quickstart.yaml")
    results = sim.run(scenario, replications=20, seed=1)
    results.kpis, results.timeseries
    results.save("runs/quick"); sim.Results.load("runs/quick")
    comparison = sim.compare(["base.yaml", "option.yaml"], replications=20)

Importing ``sim`` does not import matplotlib or change its settings; charts are drawn
only when a run directory is saved with its report.
"""
from ._version import __version__
from .compare import Comparison, compare
from .errors import Problem, ScenarioError
from .experiment import run
from .loader import load_scenario
from .results import Results
from .schema import Scenario

__all__ = ["__version__", "load_scenario", "run", "compare", "Results", "Comparison", "Scenario", "ScenarioError",
           "Problem"]
