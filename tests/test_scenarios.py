"""Every bundled scenario validates and runs (on a short horizon to stay fast)."""
from __future__ import annotations

import pytest

import sim
from helpers import ROOT

# Data files that live beside the scenarios but are not scenarios.
NOT_SCENARIOS = {"scenarios/history/bands.yaml"}   # the replays' error bands (docs/validation.md)
SCENARIOS = [p for p in sorted(ROOT.glob("scenarios/**/*.yaml"))
             if p.relative_to(ROOT).as_posix() not in NOT_SCENARIOS] + sorted(ROOT.glob("bench/scenarios/*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_scenario_validates_and_runs(path):
    scenario = sim.load_scenario(path)
    short = scenario.model_copy(update={"horizon": min(scenario.horizon, 120)})
    results = sim.run(short, replications=2)
    assert len(results.timeseries) > 0
    assert (results.timeseries.query("metric == 'inventory'")["value"] >= 0).all()


def test_scenario_library_is_not_empty():
    assert any(p.name == "quickstart.yaml" for p in SCENARIOS)
