"""chipsim: discrete-event simulation of the semiconductor supply chain.

Public API::

    import sim
    scenario = sim.load_scenario("scenarios/quickstart.yaml")
    results = sim.run(scenario, replications=20, seed=1)
    results.kpis, results.timeseries
"""
from ._version import __version__
from .errors import Problem, ScenarioError  # noqa: E402
from .experiment import run  # noqa: E402
from .loader import load_scenario  # noqa: E402
from .results import Results  # noqa: E402
from .schema import Scenario  # noqa: E402

__all__ = ["__version__", "load_scenario", "run", "Results", "Scenario", "ScenarioError", "Problem"]
