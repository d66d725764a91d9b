"""A fuzz campaign over what comes after loading: `chipsim run` on hostile scenarios and
`chipsim report` on tampered run folders, outside CI.

    .venv/bin/python bench/fuzz_outputs.py --minutes 10
    .venv/bin/python bench/fuzz_outputs.py --minutes 1 --seed 7

Each case runs the real command in a subprocess (time limit ``--hang`` seconds) inside a
fresh folder and checks:

- exit status 0 or 2, and no traceback on stderr;
- no raw control or bidi character in what it printed;
- every CSV cell that a spreadsheet would read as a formula is prefixed with an apostrophe;
- every SVG chart is well-formed XML, and the HTML holds no raw control character
  (these file checks cover what the command wrote: a tampered file that ``report``
  refused and left as it was is the input, not an output);
- nothing outside the case's folder changed (a sentinel file beside it, planted links).

``run`` cases mutate a small valid scenario: ids, names and labels drawn from hostile
strings (escape sequences, bidi controls, rich markup, formula leads, ``$`` mathtext, XML
-invalid characters, very long text), and numbers pushed to extremes. ``report`` cases
take a good run folder and tamper with it: files removed, truncated, replaced by garbage,
by a symlink to the sentinel, by a FIFO, or by a folder. Failing cases are kept under
bench/fuzz_failures/outputs-<n>/. Exit status: 0 if nothing failed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FAILURES = HERE / "fuzz_failures"

HOSTILE = ["\x1b[2J", "\x1b]0;owned\x07", "\x1b]52;c;ZXZpbA==\x07", "\u202egnp", "[/x]", "[bold]b[/bold]", "=cmd|' /C calc'!A0",
           "+1", "-1", "@SUM(A1)", "$x^{", "$5bn and $6bn", "<script>alert(1)</script>", "a\x01b", "\x0bv", "&amp;",
           "x" * 400, "é中文", "'quote\"", "tab\tin"]
UNSAFE_OUTPUT = re.compile("[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # ESC alone is rich's colour
TEMPLATE = """\
name: {name}
description: {description}
horizon: {horizon}
replications: {reps}
seed: {seed}
products:
  {product}: {{unit: {unit}, label: {plabel}, price: {price}}}
nodes:
  {src}: {{region: CN, produces: {product}, capacity: {capacity}, label: {slabel}}}
  {dst}:
    region: US
    label: {dlabel}
    inventory: {{{product}: {inventory}}}
    demand: {{product: {product}, rate: {rate}, distribution: poisson}}
    reorder: {{policy: base_stock, days_of_cover: {cover}}}
lanes:
  - {{from: {src}, to: {dst}, product: {product}, lead_time: {lead}}}
shocks:
  - {{type: export_ban, name: {shock}, start: {start}, end: {end}, from: {src}}}
"""


def q(text: str) -> str:
    """``text`` as a double-quoted YAML scalar (escapes keep control characters legal)."""
    return json.dumps(text)


def hostile_id(rng: random.Random) -> str:
    """A node or product id: ids must be plain keys, so hostile text goes in a quoted key."""
    return q(rng.choice(HOSTILE)[:60] + f"_{rng.randrange(10**6)}")


def scenario_text(rng: random.Random) -> str:
    """One mutated scenario."""
    src, dst = hostile_id(rng), hostile_id(rng)
    while dst == src:
        dst = hostile_id(rng)
    number = lambda lo, hi: rng.choice([lo, hi, rng.uniform(lo, hi), 0, 1e15, 1e-9])  # noqa: E731
    return TEMPLATE.format(
        name=q(rng.choice(HOSTILE)), description=q(rng.choice(HOSTILE)), horizon=rng.choice([1, 30, 90, 400]),
        reps=rng.choice([1, 2, 3]), seed=rng.randrange(1000), product=hostile_id(rng), unit=q(rng.choice(HOSTILE)[:20]),
        plabel=q(rng.choice(HOSTILE)), price=number(0, 1e6), src=src, dst=dst, slabel=q(rng.choice(HOSTILE)),
        dlabel=q(rng.choice(HOSTILE)), capacity=number(0, 1e4), inventory=number(0, 1e4), rate=number(0, 1e3),
        cover=rng.choice([0, 1, 30, 1e4]), lead=rng.choice([1, 7, 365]), shock=q(rng.choice(HOSTILE)),
        start=rng.choice([0, 5, -30, 1000]), end=rng.choice([10, 60, 100_000]))


TAMPER = ["remove", "truncate", "garbage", "json_list", "symlink", "fifo", "folder", "empty_manifest_keys"]


def tamper(folder: Path, rng: random.Random, sentinel: Path) -> str:
    """Tamper with one file of a run folder; say how."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    target = rng.choice(files)
    how = rng.choice(TAMPER)
    if how == "remove":
        target.unlink()
    elif how == "truncate":
        target.write_bytes(target.read_bytes()[: rng.randrange(max(1, target.stat().st_size))])
    elif how == "garbage":
        target.write_bytes(os.urandom(rng.randrange(1, 2000)))
    elif how == "json_list":
        target.write_text("[1, 2, 3]")
    elif how == "symlink":
        target.unlink()
        target.symlink_to(sentinel)
    elif how == "fifo":
        target.unlink()
        os.mkfifo(target)
    elif how == "folder":
        target.unlink()
        target.mkdir()
    else:
        (folder / "manifest.json").write_text("{}")
        target = folder / "manifest.json"
    return f"{how} {target.relative_to(folder)}"


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every regular file under ``folder`` (links and special files skipped)."""
    if folder.is_symlink() or not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if not p.is_symlink() and p.is_file()}


def check_outputs(folder: Path, before: dict[str, str] | None = None) -> list[str]:
    """Problems in the files a command wrote: new files, and files that differ from
    ``before`` (a ``snapshot`` taken before the command ran)."""
    problems = []
    unchanged = {name for name, digest in snapshot(folder).items() if (before or {}).get(name) == digest}
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file() or str(path.relative_to(folder)) in unchanged:
            continue
        if path.suffix == ".csv":
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                for cell in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", line):
                    cell = cell.strip('"')
                    if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not re.match(r"^-[\d.]", cell)):
                        problems.append(f"{path.name}: formula cell {cell[:40]!r}")
                        break
        elif path.suffix == ".svg":
            try:
                ET.parse(path)
            except ET.ParseError as exc:
                problems.append(f"{path.name}: not well-formed XML ({exc})")
        elif path.suffix == ".html" and UNSAFE_OUTPUT.search(path.read_text(encoding="utf-8", errors="replace")):
            problems.append(f"{path.name}: raw control character")
    return problems


def run_case(cmd: list[str], cwd: Path, hang: float) -> tuple[int | None, str, str]:
    """(exit status or None on a hang, stdout, stderr) of one command."""
    env = dict(os.environ, MPLBACKEND="Agg", COLUMNS="120")
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=hang, env=env)
    except subprocess.TimeoutExpired as exc:
        return None, str(exc.stdout or ""), str(exc.stderr or "")
    return done.returncode, done.stdout, done.stderr


def verdict(code: int | None, out: str, err: str, folder: Path, sentinel: Path,
            before: dict[str, str] | None = None) -> list[str]:
    """Every broken promise of one case (``before``: the folder's files before it ran)."""
    problems = []
    if code is None:
        problems.append("hang")
    elif code not in (0, 2):
        problems.append(f"exit {code}")
    if "Traceback" in err:
        problems.append("traceback: " + err.strip().splitlines()[-1][:200])
    if UNSAFE_OUTPUT.search(out + err):
        problems.append("raw control character printed")
    if not sentinel.exists() or sentinel.is_symlink() or sentinel.read_bytes() != b"sentinel":
        problems.append("wrote outside the folder (sentinel changed)")
    if folder.exists():
        problems += check_outputs(folder, before)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the campaign for ``--minutes``; print counts; keep failures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hang", type=float, default=120.0, help="seconds before a case counts as hung")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    chipsim = [sys.executable, "-m", "sim"]
    counts: dict[str, int] = {"run": 0, "report": 0, "failed": 0, "exit0": 0, "exit2": 0}
    deadline = time.monotonic() + 60 * args.minutes
    good: Path | None = None
    with tempfile.TemporaryDirectory(prefix="chipsim-fuzz-") as root:
        base = Path(root)
        while time.monotonic() < deadline:
            case = base / f"case{counts['run'] + counts['report']}"
            case.mkdir()
            sentinel = base / "sentinel.txt"
            sentinel.write_text("sentinel")
            if good is None or rng.random() < 0.5:
                kind = "run"
                text = scenario_text(rng)
                (case / "s.yaml").write_text(text, encoding="utf-8")
                (case / "out").symlink_to(sentinel) if rng.random() < 0.05 else None
                cmd = [*chipsim, "run", "s.yaml", "--out", "out", "--force", "--svg"] + (["--no-pdf"] if rng.random() < 0.5 else [])
                what = text
            else:
                kind = "report"
                folder = case / "out"
                shutil.copytree(good, folder, symlinks=True)
                what = tamper(folder, rng, sentinel)
                cmd = [*chipsim, "report", "out"]
            before = snapshot(case / "out")
            code, out, err = run_case(cmd, case, args.hang)
            counts[kind] += 1
            counts[f"exit{code}"] = counts.get(f"exit{code}", 0) + 1
            problems = verdict(code, out, err, case / "out", sentinel, before)
            if kind == "run" and code == 0 and good is None and (case / "out" / "manifest.json").exists():
                good = base / "good"
                shutil.copytree(case / "out", good, symlinks=True)
            if problems:
                counts["failed"] += 1
                keep = FAILURES / f"outputs-{counts['failed']}"
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(case, keep, symlinks=True, ignore_dangling_symlinks=True,
                                ignore=lambda d, names: [n for n in names if (Path(d) / n).is_fifo()])
                (keep / "report.txt").write_text(f"{kind}: {' '.join(cmd)}\n{what}\n\n" + "\n".join(problems) +
                                                 f"\n\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}\n")
            shutil.rmtree(case, ignore_errors=True)
            if (counts["run"] + counts["report"]) % 10 == 0:
                print(f"{counts}", flush=True)
    print(f"done: {counts}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
