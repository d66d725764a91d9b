"""Part 3 of run_bench.py: chipsim against SupplyNetPy on the same tree and chain.

SupplyNetPy (https://pypi.org/project/supplynetpy/) is not a chipsim dependency. The
bench runs it in a separate interpreter: ``--snp-python`` if given; else this Python if
it can import SupplyNetPy; else a throwaway virtualenv (default
``bench/.venv-supplynetpy``), created and filled with ``pip install 'supplynetpy>=0.5,<0.6'``
on first use unless ``--no-install`` is given. If that fails, the part is skipped with
a note. The model itself is bench/supplynetpy_model.py; both sides are built from the
same ``make_network.supply_spec``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_network  # noqa: E402
import _timing  # noqa: E402
from _timing import Targets, best_of  # noqa: E402

DEFAULT_VENV = HERE / ".venv-supplynetpy"
REQUIREMENT = "supplynetpy>=0.5,<0.6"
CASES = (  # (topology, nodes, days, target speed-up, reference SupplyNetPy node-days/s measured earlier)
    ("tree", 50, 3650, 10.0, 21_000),
    ("chain", 3, 3650, 3.0, 52_000),
)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _can_import(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import SupplyNetPy.Components"], capture_output=True, text=True)
    return probe.returncode == 0


def find_python(snp_python: str | None, venv: Path, install: bool) -> tuple[str | None, str]:
    """(interpreter with SupplyNetPy or None, how it was found / why not)."""
    if snp_python:
        if _can_import(snp_python):
            return snp_python, f"given interpreter {snp_python}"
        return None, f"--snp-python {snp_python} cannot import SupplyNetPy"
    if importlib.util.find_spec("SupplyNetPy") is not None and _can_import(sys.executable):
        return sys.executable, "installed in this interpreter"
    py = _venv_python(venv)
    if py.exists() and _can_import(str(py)):
        return str(py), f"throwaway virtualenv {venv}"
    if not install:
        return None, f"SupplyNetPy is not installed (no usable {venv}) and --no-install was given"
    print(f"   installing {REQUIREMENT} into the throwaway virtualenv {venv} ...", flush=True)
    try:
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True,
                           timeout=300)
        subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", REQUIREMENT],
                       check=True, capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = (getattr(exc, "stderr", None) or str(exc)).strip().splitlines()
        return None, f"could not install {REQUIREMENT}: {detail[-1] if detail else exc}"
    if _can_import(str(py)):
        return str(py), f"throwaway virtualenv {venv} (installed now)"
    return None, f"installed {REQUIREMENT} into {venv} but cannot import SupplyNetPy.Components"


def run_supplynetpy(python: str, topology: str, nodes: int, days: int, budget: float,
                    policy: str = "base_stock") -> dict:
    cmd = [python, str(HERE / "supplynetpy_model.py"), "--topology", topology, "--nodes", str(nodes),
           "--days", str(days), "--budget", str(budget), "--policy", policy, "--clock", _timing.clock_name]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise RuntimeError(f"SupplyNetPy model failed: {tail[0]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_chipsim(topology: str, nodes: int, days: int, budget: float) -> dict:
    """Times of chipsim on the same network: load (YAML, validation), build, engine, sim.run."""
    import sim
    from sim.engine import run_replication
    from sim.network import build_network

    spec = make_network.supply_spec(topology, nodes)
    text = make_network.scenario_yaml(make_network.scenario_data(spec, days))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{topology}{nodes}.yaml"
        path.write_text(text)
        load_s, _, scenario = best_of(lambda: sim.load_scenario(path), budget=0.5)
    build_s, _, net = best_of(lambda: build_network(scenario), budget=0.5)
    run_replication(net, scenario.seed, 0)  # warm up imports and caches, as the core part does
    engine_s, runs, out = best_of(lambda: run_replication(net, scenario.seed, 0), budget=budget)
    e2e_s, _, _ = best_of(lambda: sim.run(scenario, replications=1), budget=budget)
    col = {key: i for i, key in enumerate(net.series)}
    source = next(n["id"] for n in spec["nodes"] if n["role"] == "source")
    demand = delivered = 0.0
    for n in spec["nodes"]:
        if n["role"] == "retailer":
            slot = net.slot_of[(n["id"], "p")]
            demand += out.values[:, col[(slot, "demand")]].sum()
            delivered += out.values[:, col[(slot, "delivered")]].sum()
    shipped = out.values[:, col[(net.slot_of[(source, "p")], "shipped")]].sum()
    return {"load_s": load_s, "build_s": build_s, "engine_s": engine_s, "e2e_s": e2e_s, "runs": runs,
            "demand": float(demand), "delivered": float(delivered), "source_shipped": float(shipped)}


def run(targets: Targets, snp_python: str | None = None, venv: Path = DEFAULT_VENV, install: bool = True,
        budget: float = 3.0) -> dict:
    print("\n3. SupplyNetPy comparison: the same tree and chain in both (bench/supplynetpy_model.py)")
    python, how = find_python(snp_python, venv, install)
    if python is None:
        print(f"   SKIPPED: {how}")
        targets.rows.append(("speed-up over SupplyNetPy (see the note above)", "skipped",
                             " / ".join(f">= {c[3]:g}x" for c in CASES), "SKIP"))
        return {}
    results = {}
    header_done, fills = False, []
    for topology, nodes, days, target, quoted in CASES:
        try:
            snp = run_supplynetpy(python, topology, nodes, days, budget)
            lenient = run_supplynetpy(python, topology, nodes, days, budget, policy="sS")
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
            print(f"   {nodes}-node {topology}: SupplyNetPy SKIPPED: {exc}")
            targets.rows.append((f"speed-up {nodes}-node {topology}", "skipped", f">= {target:g}x", "SKIP"))
            continue
        if not header_done:
            print(f"   SupplyNetPy {snp['supplynetpy']} (simpy {snp['simpy']}, Python {snp['python']}) from {how}; "
                  f"logging off")
            print("   node-days = nodes x days (SupplyNetPy also has one Demand object per retailer, not counted);")
            print("   simulate = SupplyNetPy simulate_sc_net vs chipsim run_replication (engine, includes per-run setup);")
            print("   build + simulate = constructing the SupplyNetPy objects vs chipsim load_scenario (YAML, validation)")
            print("   + build_network; sim.run = chipsim end to end with tables and KPIs")
            header_done = True
        chip = run_chipsim(topology, nodes, days, budget)
        nd = nodes * days
        snp_rate = nd / snp["simulate_s"]
        chip_rate = nd / chip["engine_s"]
        speedup = chip_rate / snp_rate
        snp_full = nd / (snp["build_s"] + snp["simulate_s"])
        chip_full = nd / (chip["load_s"] + chip["build_s"] + chip["engine_s"])
        e2e_rate = nd / chip["e2e_s"]
        label = f"{nodes}-node {topology}, {days} days ({nd:,} node-days)"
        print(f"   {label}")
        print(f"     {'':30} {'SupplyNetPy':>12} {'chipsim':>12} {'speed-up':>9}   target")
        verdict = targets.add(f"speed-up over SupplyNetPy, {nodes}-node {topology} (simulate)", f"{speedup:.1f}x",
                              f">= {target:g}x", speedup >= target)
        print(f"     {'node-days/s, simulate':30} {snp_rate:12,.0f} {chip_rate:12,.0f} {speedup:8.1f}x   "
              f">= {target:g}x  {verdict}   (runs: {snp['runs']} / {chip['runs']})")
        print(f"     {'node-days/s, build + simulate':30} {snp_full:12,.0f} {chip_full:12,.0f} "
              f"{chip_full / snp_full:8.1f}x")
        print(f"     {'node-days/s, chipsim sim.run':30} {'':>12} {e2e_rate:12,.0f} {e2e_rate / snp_rate:8.1f}x")
        sS_rate = nd / lenient["simulate_s"]
        verdict = targets.add(f"speed-up over SupplyNetPy (s,S) s=S/2 variant, {nodes}-node {topology}",
                              f"{chip_rate / sS_rate:.1f}x", f">= {target:g}x", chip_rate / sS_rate >= target)
        print(f"     {'simulate, SupplyNetPy (s,S)*':30} {sS_rate:12,.0f} {chip_rate:12,.0f} "
              f"{chip_rate / sS_rate:8.1f}x   >= {target:g}x  {verdict}")
        print(f"     SupplyNetPy here: {snp_rate:,.0f} node-days/s (equivalent model), {sS_rate:,.0f} ((s,S)*); "
              f"reference figure for this kind of machine: about {quoted:,}")
        fill_snp = snp["delivered"] / snp["demand"] if snp["demand"] else float("nan")
        fill_chip = chip["delivered"] / chip["demand"] if chip["demand"] else float("nan")
        print(f"     check: final demand {snp['demand']:,.0f} / {chip['demand']:,.0f} units, fill rate "
              f"{fill_snp:.1%} / {fill_chip:.1%}, source shipped {snp['source_shipped']:,.0f} / "
              f"{chip['source_shipped']:,.0f} (SupplyNetPy / chipsim)")
        fills.append(f"{lenient['delivered'] / lenient['demand']:.1%} on the {nodes}-node {topology}")
        results[(topology, nodes)] = {"supplynetpy": snp, "supplynetpy_sS": lenient, "chipsim": chip,
                                      "speedup": speedup}
    if fills:
        print("   * not equivalent, a sensitivity check: SupplyNetPy's (s,S) with s = S/2, reviewed at each inventory")
        print("     drop, orders every few days instead of every day: less work for SupplyNetPy, lower service")
        print(f"     (fill rate {', '.join(fills)})")
    return results


def _self_test() -> None:  # python bench/supplynetpy_bench.py: this part alone
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snp-python")
    parser.add_argument("--snp-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    targets = Targets()
    run(targets, args.snp_python, args.snp_venv, not args.no_install)
    for row in targets.rows:
        print("  ", *row)


if __name__ == "__main__":
    _self_test()
