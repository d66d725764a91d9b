"""Regenerate the committed sample reports from the bundled scenarios.

    .venv/bin/python reports/make_samples.py            # both samples (about 2 minutes)
    .venv/bin/python reports/make_samples.py quickstart # one of them

Each sample is the run folder of a README command, without its bulky daily table and SVG
copies of the charts (the command writes them; `chipsim report` needs them). A sample is
built in a temporary folder and renamed into place, so an interrupted run leaves the old
sample whole.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHIPSIM = [sys.executable, "-m", "sim"]

SAMPLES = {
    "quickstart": ["run", "scenarios/quickstart.yaml"],
    "ree-licensing-options": ["compare", "scenarios/00-as-it-happened-2025-26.yaml", "scenarios/07a-policy-eu-stockpile.yaml",
                              "scenarios/07b-policy-separation-ramp.yaml", "scenarios/07c-policy-magnet-recycling.yaml",
                              "--focus", "eu_magnet_users", "-n", "20", "--workers", "2"],
}
LEFT_OUT = {"timeseries.parquet", "per_replication.csv", "scenario.yaml", "scenarios"}  # rebuilt by the command


def keep(path: Path) -> bool:
    """Whether a file of the run folder belongs in the committed sample."""
    return path.name not in LEFT_OUT and path.suffix != ".svg"


def make(name: str) -> None:
    """Run the sample's command and put its folder, trimmed, at reports/NAME."""
    with tempfile.TemporaryDirectory(dir=HERE, prefix=f".{name}.") as work:
        run = Path(work) / "run"
        subprocess.run([*CHIPSIM, *SAMPLES[name], "--out", str(run)], cwd=ROOT, check=True)
        sample = Path(work) / "sample"
        sample.mkdir()
        for path in sorted(run.rglob("*")):
            rel = path.relative_to(run)
            if rel.parts[0] in LEFT_OUT or not keep(path):
                continue
            target = sample / rel
            if path.is_dir():
                target.mkdir(exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        _relative_paths(sample / "manifest.json")
        old = HERE / name
        if (old / "README.md").exists():
            shutil.copy2(old / "README.md", sample / "README.md")
        trash = Path(work) / "old"
        if old.exists():
            old.rename(trash)
        sample.rename(old)
    print(f"reports/{name} regenerated")


def _relative_paths(manifest: Path) -> None:
    """Input paths in the manifest relative to the repository, not this machine's."""
    def fix(value):
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and value.startswith(str(ROOT) + "/"):
            return value[len(str(ROOT)) + 1:]
        return value

    manifest.write_text(json.dumps(fix(json.loads(manifest.read_text())), indent=2) + "\n")


if __name__ == "__main__":
    for wanted in sys.argv[1:] or list(SAMPLES):
        make(wanted)
