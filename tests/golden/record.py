"""Record the golden regression data: every bundled scenario, a few replications.

Run only for a deliberate change of results, and say so in the commit:

    .venv/bin/python tests/golden/record.py

It writes ``tests/golden/kpis.parquet`` and ``tests/golden/series.parquet``; the test
``tests/test_golden.py`` compares fresh runs with them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from golden.digest import GOLDEN_DIR, bundled_scenarios, digest  # noqa: E402


def main() -> None:
    kpis, series = [], []
    for path in bundled_scenarios():
        k, s = digest(path)
        kpis.append(k)
        series.append(s)
        print(f"recorded {path.relative_to(ROOT)}: {len(k)} KPI rows, {len(s)} series rows")
    for name, frames in (("kpis", kpis), ("series", series)):
        out = GOLDEN_DIR / f"{name}.parquet"
        tmp = out.with_suffix(".parquet.tmp")
        pd.concat(frames, ignore_index=True).to_parquet(tmp, index=False, compression="zstd")
        tmp.replace(out)


if __name__ == "__main__":
    main()
