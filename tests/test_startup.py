"""Start-up stays cheap: ``import sim`` and the CLI's ``--help`` and ``validate`` paths
load no heavy stack (pandas, matplotlib, the engine); the public names still resolve."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "scenarios" / "quickstart.yaml"
HEAVY = ("numpy", "pandas", "matplotlib", "pyarrow", "scipy", "simpy", "reportlab", "sim.engine", "sim.experiment")


def _loaded_after(code: str) -> list[str]:
    """The heavy modules present in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"import sys, json\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_sim_loads_nothing_heavy():
    assert _loaded_after("import sim") == []


def test_cli_and_loader_load_no_tables_or_charts():
    loaded = _loaded_after(f"import sim.cli, sim.loader\nsim.loader.load_scenario({str(QUICKSTART)!r})")
    assert not set(loaded) & set(HEAVY)


def test_public_names_resolve_on_first_use():
    import sim
    from sim.comparison import Comparison, compare
    from sim.experiment import run

    assert sim.compare is compare and sim.Comparison is Comparison and sim.run is run
    assert set(sim.__all__) <= set(dir(sim))


def test_unknown_attribute_is_an_attribute_error():
    import sim

    try:
        sim.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("sim.no_such_name resolved")
