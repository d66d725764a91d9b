"""An exploration's folder, written atomically like a comparison's (``sim.rundir``).

``futures.parquet`` (the whole table: future, option, inputs, outcomes, early metrics),
``robustness.csv``, ``regret.csv``, ``prim_box.csv``, ``signposts.csv``,
``sensitivity.csv`` (with ``--sobol``), ``manifest.json``, each option's resolved
scenario under ``scenarios/``, and unless ``report`` is false the charts and
``briefing.html`` / ``briefing.pdf``. Every file goes through ``sim.safefs``.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .provenance import scenario_yaml
from .rundir import write_atomically, write_csv, write_json
from .safefs import write_bytes, write_text


def signpost_table(exp: Any) -> pd.DataFrame:
    """The signposts with their sentences (column ``text``)."""
    from .reporting.explorebriefing import value_text
    from .robustness import signpost_words

    posts = exp.signposts
    if not len(posts):
        return posts
    early = [c for c in exp.table.columns if c.startswith("fill_rate_day_")]
    dates = dict(zip(early, exp.manifest.get("checkpoints", []), strict=False))
    return posts.assign(text=signpost_words(posts, exp.labels, dates, lambda c, v: value_text(exp, c, v)))


def save_exploration(exp: Any, out: Path, force: bool = False, report: bool = True, pdf: bool = True) -> Path:
    """Write ``exp``'s folder at ``out`` (refused if it exists, unless ``force``)."""
    def write(folder: Path) -> None:
        buffer = io.BytesIO()
        exp.table.to_parquet(buffer, index=False)
        write_bytes(folder / "futures.parquet", buffer.getvalue())
        write_csv(folder / "robustness.csv", exp.robustness)
        write_csv(folder / "regret.csv", exp.regret)
        write_csv(folder / "prim_box.csv", exp.box)
        write_csv(folder / "signposts.csv", signpost_table(exp))
        if exp.sensitivity is not None:
            write_csv(folder / "sensitivity.csv", exp.sensitivity)
        write_json(folder / "manifest.json", exp.manifest)
        (folder / "scenarios").mkdir()
        for vid, sc in zip(exp.options, exp.scenarios, strict=False):
            write_text(folder / "scenarios" / f"{vid}.yaml", scenario_yaml(sc))
        if report:
            from .reporting.explorebriefing import write_explore_briefing
            from .reporting.explorecharts import save_explore_charts

            source = (f"Source: chipsim {__version__}; {exp.table['future'].nunique()} futures x {len(exp.options)} options, "
                      f"{exp.replications} replication(s) each, seed {exp.seed}.")
            charts = save_explore_charts(exp, folder / "charts", source)
            write_explore_briefing(exp, folder, charts, pdf)

    return write_atomically(out, force, write)
