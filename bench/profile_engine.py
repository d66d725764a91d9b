"""Part 4 of run_bench.py: where the chipsim engine spends its time.

Two views of ``run_replication`` on a scenario (default: the 40-node network):

* pyinstrument: the functions with the most time of their own ("self time");
* a line sampler for ``World._days``: the engine does all of a day's work in that one
  generator function, so a function profiler sees a single hot spot. A helper thread
  reads the main thread's current line in ``_days`` every ~0.5 ms and the samples are
  grouped by the step of the day they fall in (the ``# 1.``, ``# 2.`` ... ``# record``
  comments in ``_days``; calls such as ``Lane.next_lead`` count in the step that makes
  them). CPython notices the sampler at loop back-edges and calls, so the step of a
  loop is right even though single lines inside it are not.
"""
from __future__ import annotations

import collections
import re
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _timing import Targets  # noqa: E402

_STEP = re.compile(r"^\s*#\s*(\d+[a-z]?\.|record\b)\s*(.*)$")


_SOURCE: dict[str, list[str]] = {}


def snapshot_engine_source() -> None:
    """Keep the text of sim/engine/world.py as it is now (call right after importing
    sim): if the file is edited while the bench runs, the line numbers of the loaded
    code still match this copy."""
    import sim.engine.world as world

    _SOURCE["lines"] = Path(world.__file__).read_text().splitlines(keepends=True)


def _day_steps(func) -> list[tuple[int, str]] | None:
    """(first line, label) of each step of ``World._days``, from its step comments;
    None if the source no longer matches the loaded code."""
    code = func.__code__
    if "lines" not in _SOURCE:
        snapshot_engine_source()
    lines = _SOURCE["lines"]
    first = code.co_firstlineno
    if first > len(lines) or "def _days" not in lines[first - 1]:
        return None
    last = max(line for _, _, line in code.co_lines() if line is not None)
    steps = [(first, "setup before day 0, day-loop header")]
    for i in range(first, min(last, len(lines))):
        m = _STEP.match(lines[i])
        if m:
            steps.append((i + 1, f"{m.group(1)} {m.group(2)}".strip()[:64]))
    return steps


def _step_of(steps, lineno: int) -> str:
    label = steps[0][1]
    for start, name in steps:
        if lineno >= start:
            label = name
    return label


def sample_steps(fn, code, interval: float = 0.0005) -> tuple[collections.Counter, int]:
    """Seconds spent at each line of ``code`` (key -1: elsewhere) while ``fn()`` runs, and
    the number of samples.

    Each sample is weighted by the wall time since the previous one: the sampler gets
    the GIL at once while NumPy has released it but waits about a switch interval while
    Python code runs, so unweighted counts would over-represent NumPy-heavy code.
    """
    # a running frame read from another thread sometimes has f_lineno None (CPython
    # 3.11); then map its last instruction offset to a line through co_lines()
    spans = [(start, end, line) for start, end, line in code.co_lines() if line is not None]

    def line_of(frame):
        if frame.f_lineno is not None:
            return frame.f_lineno
        lasti = frame.f_lasti
        best = None
        for start, end, line in spans:
            if start <= lasti < end:
                return line
            if start <= lasti:
                best = line
        return best

    seconds: collections.Counter = collections.Counter()
    main = threading.get_ident()
    done = threading.Event()
    samples = 0

    def sampler():
        nonlocal samples
        last = time.perf_counter()
        while not done.is_set():
            frame = sys._current_frames().get(main)
            now = time.perf_counter()
            while frame is not None and frame.f_code is not code:
                frame = frame.f_back
            line = line_of(frame) if frame is not None else None
            seconds[line if line is not None else -1] += now - last
            samples += 1
            last = now
            time.sleep(interval)

    old = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(old)
    return seconds, samples


def top_self_time(session_root, limit: int = 5):
    """[(self seconds, function, file:line)] of a pyinstrument frame tree."""
    from pyinstrument.frame import SELF_TIME_FRAME_IDENTIFIER

    totals: collections.Counter = collections.Counter()
    stack = [session_root]
    while stack:
        frame = stack.pop()
        children = list(frame.children)
        own = frame.time - sum(c.time for c in children if c.identifier != SELF_TIME_FRAME_IDENTIFIER)
        if frame.identifier != SELF_TIME_FRAME_IDENTIFIER and not frame.is_synthetic:
            where = f"{frame.file_path_short}:{frame.line_no}"
            totals[(frame.function, where)] += own
        stack.extend(c for c in children if c.identifier != SELF_TIME_FRAME_IDENTIFIER)
    return [(t, fn, where) for (fn, where), t in totals.most_common(limit)], session_root.time


def run(targets: Targets, scenario_path: Path, replications: int = 10, sampled_replications: int = 20) -> dict:
    import sim
    from sim.engine import run_replication
    from sim.engine.world import World
    from sim.network import build_network

    print(f"\n4. Profile: run_replication on {scenario_path.name}, {replications} replications (no targets; "
          f"informational)")
    scenario = sim.load_scenario(scenario_path)
    net = build_network(scenario)
    run_replication(net, scenario.seed, 0)

    def work(reps=replications):
        for r in range(reps):
            run_replication(net, scenario.seed, r)

    result = {}
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("   pyinstrument is not installed (pip install pyinstrument): function profile skipped")
    else:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        work()
        profiler.stop()
        top, total = top_self_time(profiler.last_session.root_frame(), 5)
        print(f"   pyinstrument, top 5 functions by own time (of {total:.2f} s):")
        for i, (t, fn, where) in enumerate(top, 1):
            print(f"   {i}. {t / total:6.1%}  {fn:28} {where}")
        result["top"] = top

    code = World._days.__code__
    steps = _day_steps(World._days)
    if steps is None:
        print("   step breakdown unavailable: sim/engine/world.py changed on disk after it was imported")
        return result
    seconds, n = sample_steps(lambda: work(sampled_replications), code)
    total = sum(seconds.values())
    by_step: collections.Counter = collections.Counter()
    for lineno, t in seconds.items():
        by_step["outside World._days (World setup, output, SimPy)" if lineno < 0 else _step_of(steps, lineno)] += t
    print(f"   sampled line of World._days, grouped by step of the day ({sampled_replications} replications, {n} "
          f"samples, time-weighted; share of run_replication time):")
    for label, t in by_step.most_common():
        print(f"      {t / total:6.1%}  {label}")
    result["steps"] = {k: v / total for k, v in by_step.items()}
    return result
