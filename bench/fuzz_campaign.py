"""A long fuzz campaign for the scenario loader, outside CI.

    .venv/bin/python bench/fuzz_campaign.py --minutes 10
    .venv/bin/python bench/fuzz_campaign.py --minutes 1 --seed 7 --cli-every 5

Runs the Hypothesis strategies of tests/test_fuzz_loader.py (mostly-valid scenarios, then
data and text mutations) in batches until the time is up, loads every generated file with
``sim.load_scenario`` and sorts the outcome:

- valid: a ``sim.Scenario``;
- error: a ``sim.ScenarioError`` whose problems all name a file read, a line and column
  inside it and a non-empty message;
- escaped: any other exception (KeyError, TypeError, RecursionError, ...);
- breach: a ScenarioError that breaks the contract (position outside the file, empty
  message), or a load slower than ``--slow`` seconds, or one stopped after ``--hang``;
- cli: ``chipsim validate`` (in-process, every ``--cli-every`` cases) exited with a code
  other than 0 or 2, or printed a traceback.

Every failing input is written to bench/fuzz_failures/<kind>-<n>/ (the files as generated,
byte for byte, and report.txt: how the case was made and what happened). That folder is
created only when something fails. At most ``--keep`` cases are kept per distinct failure
(exception type and the innermost frame in sim/). Exit status: 0 if nothing failed, 1
otherwise.
"""
from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _load_fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_loader", REPO / "tests" / "test_fuzz_loader.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


fz = _load_fuzz_module()


def _signature(exc: BaseException) -> str:
    """Exception type and the innermost frame inside sim/ (or the innermost frame at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}sim{os.sep}" in f.filename] or frames
    where = f"{os.path.relpath(ours[-1].filename, REPO)}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__}@{where}"


class Campaign:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        self.work = Path(tempfile.mkdtemp(prefix="chipsim-fuzz-"))
        self.deadline = time.monotonic() + args.minutes * 60
        self.started = time.monotonic()
        self.cases = 0
        self.outcomes: collections.Counter = collections.Counter()
        self.ops: collections.Counter = collections.Counter()
        self.unmutated: collections.Counter = collections.Counter()
        self.failures: collections.Counter = collections.Counter()
        self.saved: collections.Counter = collections.Counter()
        self.slowest: list[tuple[float, str]] = []
        self.cli_runs = 0
        self.next_report = time.monotonic() + args.report_every

    # --- one case -----------------------------------------------------------------

    def run(self, case) -> None:
        if time.monotonic() > self.deadline:
            return
        self.cases += 1
        folder = self.work / f"case{self.cases}"
        path = case.write(folder)
        files = tuple(folder / name for name in case.files)
        for op in case.ops:
            self.ops[re.sub(r"^[^:]*: (text )?", "", op).split(" at ")[0]] += 1
        kind, detail = None, ""
        try:
            outcome, problems, seconds = fz.load_outcome(path, self.args.slow)
        except fz.LoadTimeout:
            kind, detail, outcome = f"hang>{self.args.slow * 2:g}s", "load interrupted", "breach"
        except Exception as exc:  # noqa: BLE001 - that is what we are looking for
            kind, detail, outcome = _signature(exc), traceback.format_exc(), "escaped"
        else:
            self.slowest = sorted(self.slowest + [(seconds, " ".join(case.ops)[:120] or "unmutated")], reverse=True)[:5]
            breaches = fz.contract_breaches(outcome, problems, seconds, files, self.args.slow)
            if breaches:
                kind = "breach-" + breaches[0].split(":")[0]
                detail = "\n".join(breaches) + "\n\nproblems:\n" + "\n".join(map(str, problems))
                outcome = "breach"
            if not case.ops:
                self.unmutated[outcome] += 1
            if kind is None and self.args.cli_every and self.cases % self.args.cli_every == 0:
                self.cli_runs += 1
                try:
                    code = fz.check_cli(path)
                    if code != (0 if outcome == "valid" else 2):
                        kind, detail = "cli-exit-code", f"chipsim validate exited {code} for a {outcome} load"
                except AssertionError as exc:
                    kind, detail = "cli", str(exc)
                if kind:
                    outcome = "cli"
        self.outcomes[outcome] += 1
        if kind is not None:
            self.failures[kind] += 1
            self._save(kind, case, folder, detail)
        shutil.rmtree(folder, ignore_errors=True)
        if time.monotonic() > self.next_report:
            self.next_report = time.monotonic() + self.args.report_every
            self.progress()

    def _save(self, kind: str, case, folder: Path, detail: str) -> None:
        if self.saved[kind] >= self.args.keep:
            return
        self.saved[kind] += 1
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", kind)[:80]
        target = self.out / f"{slug}-{self.saved[kind]}"
        self.out.mkdir(parents=True, exist_ok=True)  # only now: something failed
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target)
        report = [f"failure: {kind}", f"load: {case.main}", "how the case was made:"]
        report += [f"  {op}" for op in case.ops] or ["  (unmutated)"]
        report += ["", detail]
        (target / "report.txt").write_text("\n".join(report), encoding="utf-8", errors="backslashreplace")
        print(f"  FAILURE {kind}: saved {target.relative_to(REPO) if target.is_relative_to(REPO) else target}", flush=True)

    # --- reporting ----------------------------------------------------------------

    def progress(self) -> None:
        elapsed = time.monotonic() - self.started
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        print(f"[{elapsed / 60:5.1f} min] {self.cases} cases ({self.cases / max(elapsed, 1e-9):.0f}/s): {counts}", flush=True)

    def summary(self) -> int:
        elapsed = time.monotonic() - self.started
        print()
        print(f"fuzz campaign: {self.cases} cases in {elapsed / 60:.1f} min ({self.cases / max(elapsed, 1e-9):.1f} per second), "
              f"chipsim validate run on {self.cli_runs} of them")
        for name in ("valid", "error", "escaped", "breach", "cli"):
            n = self.outcomes.get(name, 0)
            print(f"  {name:8} {n:8d}  {100 * n / max(self.cases, 1):5.1f}%")
        if self.unmutated:
            total = sum(self.unmutated.values())
            print(f"  unmutated documents: {total}, of which valid {self.unmutated['valid']} "
                  f"({100 * self.unmutated['valid'] / total:.0f}%)")
        print("  slowest loads: " + "; ".join(f"{s:.2f} s ({what})" for s, what in self.slowest[:3]))
        print("  mutations applied: " + ", ".join(f"{k} {v}" for k, v in self.ops.most_common()))
        if self.failures:
            print("  FAILURES (kind: count), inputs in " + str(self.out))
            for kind, n in self.failures.most_common():
                print(f"    {kind}: {n}")
        else:
            print("  no failures")
        shutil.rmtree(self.work, ignore_errors=True)
        return 1 if self.failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first batch (default: random)")
    parser.add_argument("--batch", type=int, default=200, help="examples per Hypothesis run (default 200)")
    parser.add_argument("--slow", type=float, default=3.0, help="a load slower than this many seconds is a failure (default 3)")
    parser.add_argument("--cli-every", type=int, default=10, help="also run `chipsim validate` on every Nth case (0: never)")
    parser.add_argument("--keep", type=int, default=5, help="failing inputs kept per distinct failure (default 5)")
    parser.add_argument("--report-every", type=float, default=30.0, help="seconds between progress lines")
    parser.add_argument("--out", default=str(HERE / "fuzz_failures"), help="where failing inputs go")
    args = parser.parse_args(argv)

    campaign = Campaign(args)
    # nine mutated cases for one left as generated (mostly valid)
    strategy = st.integers(0, 9).flatmap(lambda i: fz.cases(mutate=i > 0))
    base = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    print(f"fuzzing sim.load_scenario for {args.minutes:g} min, batches of {args.batch}, first seed {base}", flush=True)
    batch = 0
    try:
        while time.monotonic() < campaign.deadline:
            @seed(base + batch)
            @settings(max_examples=args.batch, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck), print_blob=False)
            @given(case=strategy)
            def run_batch(case):
                campaign.run(case)

            run_batch()
            batch += 1
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    return campaign.summary()


if __name__ == "__main__":
    sys.exit(main())
