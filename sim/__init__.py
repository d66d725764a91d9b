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

__all__ = ["__version__", "load_scenario", "run", "compare", "explore", "Results", "Comparison", "Scenario",
           "ScenarioError", "Problem"]


def explore(*args, **kwargs):
    """Every option in sampled futures: ``sim.exploration.explore`` (imported on first
    use, so ``import sim`` does not load scipy's samplers); returns an ``Exploration``."""
    from .exploration import explore as run_explore

    return run_explore(*args, **kwargs)
