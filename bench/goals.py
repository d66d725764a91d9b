"""The goals of issue 17 ("performance, round 2"), each measured on this machine and
printed in one table: goal, target, measured, met.

- engine: replication-node-days per CPU second on the reference network and on the
  40-node bench network, against the figures measured before round 2 (``BASELINE``,
  same machine, CPU time) and against bare SimPy's timeouts per second;
- many: ``chipsim run scenarios/reference.yaml -n 1000 --workers 2`` end to end (tables,
  KPIs, summary files, charts, briefing): its peak memory summed over the parent and the
  pool's workers; then ``-n 10000`` measured end to end, wall clock and CPU seconds
  (``--quick`` scales the 1,000's wall time instead, and the row says so);
- compare memory: the README's four-option comparison at 50 replications, peak memory
  summed over the processes;
- writing: for the README's commands, the time spent writing (tables, charts, briefing)
  against the time spent simulating, in one fresh interpreter each;
- scaling: the exponent k of engine time ~ (nodes x days)^k on trees up to 5,000 nodes;
- start-up: wall time of ``chipsim --help`` and ``chipsim validate`` (median of 5).
"""
from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import peak  # noqa: E402

# Engine speed before round 2, measured on the 2-core bench machine at commit 7a4c02e in
# CPU time (best of 5 replications after one warm-up): node-days per second
BASELINE = {"reference.yaml": 252_854, "forty_nodes.yaml": 364_524}
ENGINE_RATIO_TARGET = 10.0       # x the baseline
SIMPY_RATIO_TARGET = 3.0         # x bare SimPy timeouts/s, per node-day
TEN_K_SECONDS = 300.0            # 10,000 reference replications end to end
MEMORY_BYTES = 2 * 2**30         # peak, summed over the processes
EXPONENT_TARGET = 1.05
STARTUP_SECONDS = 0.5
README_COMPARE = ["scenarios/00-as-it-happened-2025-26.yaml", "scenarios/07a-policy-eu-stockpile.yaml",
                  "scenarios/07b-policy-separation-ramp.yaml", "scenarios/07c-policy-magnet-recycling.yaml"]
# the README's commands (README.md): the first run, the comparison, the H200 run
README_COMMANDS = [
    ("run quickstart", ["run", "scenarios/quickstart.yaml"]),
    ("compare 00 + 07a/b/c -n 20 -w 2", ["compare", *README_COMPARE, "--focus", "eu_magnet_users", "-n", "20",
                                           "--workers", "2"]),
    ("run 02b", ["run", "scenarios/02b-h200-conditional-exports.yaml"]),
]


class Goals:
    """Rows of the goal table: goal, target, measured, met (yes/no)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, goal: str, target: str, measured: str, met: bool | None) -> None:
        self.rows.append((goal, target, measured, "-" if met is None else ("yes" if met else "no")))
        print(f"   {goal}: {measured} (target {target}) {self.rows[-1][3]}", flush=True)

    def print(self) -> None:
        if not self.rows:
            return
        widths = [max(len(r[i]) for r in [("goal", "target", "measured", "met"), *self.rows]) for i in range(4)]
        print("\nIssue 17 goals")
        for row in [("goal", "target", "measured", "met"), *self.rows]:
            print("   " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _chipsim(*args: str) -> list[str]:
    # -P: the folder run from is not put first on the path, so PYTHONPATH chooses the
    # chipsim measured (as `chipsim` itself, an installed script, does)
    return [sys.executable, "-P", "-m", "sim", *args]


def startup(goals: Goals, repeats: int = 5) -> None:
    print(f"\nStart-up: wall time, median of {repeats}")
    for label, args in (("chipsim --help", ["--help"]), ("chipsim validate quickstart", ["validate",
                                                                                        "scenarios/quickstart.yaml"])):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(_chipsim(*args), cwd=ROOT, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        med = statistics.median(times)
        goals.add(f"start-up: {label}", f"< {STARTUP_SECONDS:g} s", f"{med:.2f} s (min {min(times):.2f})",
                  med < STARTUP_SECONDS)


def _engine_rate(path: Path, repeats: int) -> float:
    """Node-days per CPU second of the engine a large job gets: the compiled kernel where it
    covers the network (``auto`` picks it once compiled), else the readable engine."""
    import sim
    from sim.engine import run_replication
    from sim.network import build_network

    scenario = sim.load_scenario(path)
    net = build_network(scenario)
    engine = os.environ.get("CHIPSIM_ENGINE", "kernel")
    try:
        run_replication(net, 1, 0, engine)  # warm-up (and any compilation)
    except Exception as exc:  # the kernel does not cover this network: the readable engine runs it
        print(f"   {path.name}: {exc}; measuring the readable engine")
        engine = "reference"
    best = math.inf
    for r in range(repeats):
        started = time.process_time()
        run_replication(net, 1, r, engine)
        best = min(best, time.process_time() - started)
    return len(scenario.nodes) * scenario.horizon / best


def engine(goals: Goals, bare: float, repeats: int = 5) -> None:
    print(f"\nEngine: replication-node-days per CPU second (best of {repeats}); bare SimPy {bare:,.0f} timeouts/s")
    for path in (ROOT / "scenarios" / "reference.yaml", HERE / "scenarios" / "forty_nodes.yaml"):
        rate = _engine_rate(path, repeats)
        base = BASELINE[path.name]
        goals.add(f"engine vs before round 2, {path.name}", f">= {ENGINE_RATIO_TARGET:g}x",
                  f"{rate / base:.2f}x ({rate:,.0f} vs {base:,.0f} node-days/s)", rate / base >= ENGINE_RATIO_TARGET)
        goals.add(f"engine vs bare SimPy, {path.name}", f">= {SIMPY_RATIO_TARGET:g}x", f"{rate / bare:.2f}x",
                  rate / bare >= SIMPY_RATIO_TARGET)


def _cpu_children() -> float:
    """CPU seconds (user + system) of the finished children and their children so far."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def many(goals: Goals, replications: int = 1000, full: bool = True) -> None:
    """The -n ``replications`` run (its memory is a goal) and, unless ``full`` is false,
    the 10,000 measured end to end; with ``full`` false the 10,000 row is the -n run's
    wall time scaled (said so in the row)."""
    runs = [replications, 10_000] if full and replications != 10_000 else [replications]
    print(f"\nMany replications: chipsim run scenarios/reference.yaml -n N --workers 2 (N = "
          f"{' and '.join(f'{n:,}' for n in runs)}), wall clock and CPU seconds of the command and its workers; "
          "memory summed over the processes")
    for n in runs:
        cpu = _cpu_children()
        with tempfile.TemporaryDirectory() as tmp:
            got = peak.measure(_chipsim("run", "scenarios/reference.yaml", "-n", str(n), "--workers", "2", "-q",
                                        "--out", str(Path(tmp) / "run")), cwd=str(ROOT))
        cpu = _cpu_children() - cpu
        if got.returncode:
            print(f"   run -n {n} failed ({got.returncode}): {got.stderr.strip()[-400:]}")
            goals.add(f"run reference -n {n:,}", "completes", "failed", False)
            continue
        print(f"   -n {n:,}: {got.wall_s:.0f} s wall, {cpu:.0f} CPU s (parent and workers), peak "
              f"{got.summed_bytes / 2**30:.2f} GiB summed (largest process {got.largest_bytes / 2**30:.2f} GiB)")
        if n == replications:
            goals.add(f"memory: run reference -n {n:,}", f"< {MEMORY_BYTES / 2**30:g} GiB",
                      f"{got.summed_bytes / 2**30:.2f} GiB", got.summed_bytes < MEMORY_BYTES)
        if n == 10_000:
            goals.add("10,000 reference replications end to end", f"< {TEN_K_SECONDS / 60:g} min",
                      f"{got.wall_s / 60:.1f} min (measured; {cpu:.0f} CPU s; peak {got.summed_bytes / 2**30:.2f} GiB)",
                      got.wall_s < TEN_K_SECONDS)
        elif not full:
            scaled = got.wall_s * 10_000 / n
            goals.add("10,000 reference replications end to end", f"< {TEN_K_SECONDS / 60:g} min",
                      f"{scaled / 60:.1f} min (extrapolated x{10_000 // n} from -n {n:,}: {got.wall_s:.0f} s; "
                      "--quick only)", scaled < TEN_K_SECONDS)


def compare_memory(goals: Goals, replications: int = 50) -> None:
    print(f"\nCompare memory: the README's comparison at {replications} replications, --workers 2")
    with tempfile.TemporaryDirectory() as tmp:
        got = peak.measure(_chipsim("compare", *README_COMPARE, "--focus", "eu_magnet_users", "-n", str(replications),
                                    "--workers", "2", "-q", "--out", str(Path(tmp) / "cmp")), cwd=str(ROOT))
    if got.returncode:
        print(f"   compare failed ({got.returncode}): {got.stderr.strip()[-400:]}")
        goals.add(f"memory: 4-option compare -n {replications}", "< 2 GiB", "failed", False)
        return
    print(f"   {got.wall_s:.0f} s wall; peak {got.summed_bytes / 2**30:.2f} GiB summed "
          f"(largest process {got.largest_bytes / 2**30:.2f} GiB)")
    goals.add(f"memory: 4-option compare -n {replications}", f"< {MEMORY_BYTES / 2**30:g} GiB",
              f"{got.summed_bytes / 2**30:.2f} GiB", got.summed_bytes < MEMORY_BYTES)


def _split_times(args: list[str]) -> dict:
    """Simulating and writing times of one README command, as ``chipsim`` does them
    (summary mode, charts, briefing and PDF), in this interpreter. As the command, it
    imports the engine and the tables' libraries, forks the report process
    (``sim.cliout.drawing``: it imports the plotting libraries meanwhile), loads the
    scenarios and simulates, all counted as simulating; then writes the folder, the report
    drawn by that process beside the tables: writing."""
    import sim
    from sim.cli import _variant_ids
    from sim.cliout import drawing, save

    kind, files, rest = args[0], [a for a in args[1:] if a.endswith(".yaml")], args[1:]
    opts = {"focus": None, "replications": None, "workers": 1}
    for flag, key, conv in (("--focus", "focus", str), ("-n", "replications", int), ("--workers", "workers", int)):
        if flag in rest:
            opts[key] = conv(rest[rest.index(flag) + 1])
    started = time.perf_counter()
    simulate = sim.run if kind == "run" else sim.compare  # imports the engine and the tables' libraries
    with drawing(True) as process:  # then, as the command, the report process, which imports the plotting libraries
        scenarios = [sim.load_scenario(f) for f in files]
        if kind == "run":
            result = simulate(scenarios[0], replications=opts["replications"], workers=opts["workers"], keep="summary")
        else:
            result = simulate(scenarios, replications=opts["replications"], workers=opts["workers"], keep="summary",
                              focus=opts["focus"], ids=_variant_ids([Path(f) for f in files]))
        simulated = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            save(result, Path(tmp) / "out", False, True, True, False, False, process)
            written = time.perf_counter() - started
    return {"simulate_s": simulated, "write_s": written}


def writing(goals: Goals) -> None:
    print("\nWriting against simulating, the README's commands (a fresh interpreter each; wall clock)")
    for label, args in README_COMMANDS:
        done = subprocess.run([sys.executable, str(Path(__file__)), "split", *args], cwd=ROOT, capture_output=True,
                              text=True)
        if done.returncode:
            print(f"   {label} failed: {done.stderr.strip()[-400:]}")
            goals.add(f"writing <= simulating: {label}", "write <= simulate", "failed", False)
            continue
        t = json.loads(done.stdout.strip().splitlines()[-1])
        goals.add(f"writing <= simulating: {label}", "write <= simulate",
                  f"write {t['write_s']:.1f} s, simulate {t['simulate_s']:.1f} s", t["write_s"] <= t["simulate_s"])


def scaling_exponent(goals: Goals, sizes: tuple[int, ...] = (100, 1000, 5000), years: tuple[float, ...] = (1, 2),
                     budget: float = 2.0) -> None:
    import numpy as np
    import scaling

    engine = os.environ.get("CHIPSIM_ENGINE", "kernel")
    rows = scaling.kernel_scaling(sizes=sizes, years=years, engines=(engine,), budget=budget)["rows"]
    x = np.log([r["nodes"] * r["days"] for r in rows])
    y = np.log([r[engine] for r in rows])
    k = float(np.polyfit(x, y, 1)[0])
    print(f"   fitted log t = a + k log(nodes x days) over {len(rows)} trees: k = {k:.3f}")
    goals.add(f"scaling: exponent in nodes x days, trees to {max(sizes):,} nodes", f"<= {EXPONENT_TARGET:g}",
              f"{k:.3f}", k <= EXPONENT_TARGET)


def run(goals: Goals, bare: float, full: bool = True, replications: int = 1000) -> None:
    """Every goal of issue 17, in the order of the issue, then start-up."""
    engine(goals, bare)
    many(goals, replications, full)
    compare_memory(goals)
    writing(goals)
    scaling_exponent(goals)
    startup(goals)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "split":
        print(json.dumps(_split_times(sys.argv[2:])))
