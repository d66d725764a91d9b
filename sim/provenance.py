"""Provenance of a run: the manifest (versions, seed, timing, input hashes) and the
resolved scenario as YAML, and the owner (process, host) named in temporary folders so
that a later run sweeps those of a killed one. Nothing here runs or draws."""
from __future__ import annotations

import datetime as _dt
import io
import os
import platform
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__
from .safefs import real_folder

if TYPE_CHECKING:
    from .schema import Scenario


def scenario_yaml(scenario: Scenario) -> str:
    """The resolved scenario (extends merged, defaults filled in) as YAML."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    buf.write(f"# resolved by chipsim {__version__}: extends merged, every default filled in\n")
    yaml.dump(scenario.to_document(), buf)
    return buf.getvalue()


def _git_sha() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def build_manifest(scenario: Scenario, seed: int, replications: int, workers: int, wall_s: float) -> dict:
    """Provenance of a run: versions, seed, timing (``wall_s`` in seconds) and hashes of
    the input files."""
    import numpy
    import pandas
    import simpy

    from .loader import scenario_sources

    return {
        "chipsim_version": __version__,
        "git_sha": _git_sha(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "scenario": scenario.name,
        "seed": seed,
        "replications": replications,
        "workers": workers,
        "horizon_days": scenario.horizon,
        "start_date": scenario.start_date.isoformat(),
        "wall_time_s": round(wall_s, 3),
        "inputs": [{"path": s.path, "sha256": s.sha256} for s in scenario_sources(scenario)],
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "simpy": simpy.__version__,
        "pandas": pandas.__version__,
    }


_SOURCE_NOTE = re.compile(r"^sources?\b|\bsources?:", re.IGNORECASE)  # "source: USGS 2025", "date source: ..."


def source_notes(scenario: Scenario) -> list[dict]:
    """The ASSUMPTION and source notes of the files ``scenario`` was read from (its
    ``extends`` chain too), each beside the figure it annotates: file, line (1-based),
    kind ("assumption" or "source"), text, and figure (the YAML on that line, shortened).

    A note is a comment after a value on the same line (``capacity: 40  # ASSUMPTION:
    ...``); one comment may hold several (``ASSUMPTION: ...; source: ...``). Comments on
    lines of their own are prose about the file and are left out."""
    from .loader import scenario_sources

    notes: list[dict] = []
    for source in scenario_sources(scenario):
        try:
            lines = Path(source.path).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, start=1):
            code, hash_, comment = line.partition("#")
            figure = code.strip().lstrip("- ").strip()
            if not hash_ or not figure:
                continue
            for part in re.split(r";\s*(?=ASSUMPTION|[\w ]*[Ss]ources?:)", comment.strip()):
                if part.startswith("ASSUMPTION"):
                    kind, text = "assumption", re.sub(r"^ASSUMPTION\s*:?\s*", "", part).strip()
                elif _SOURCE_NOTE.search(part):
                    kind, text = "source", part.strip()
                else:
                    continue
                note = {"file": Path(source.path).name, "line": number, "kind": kind, "text": text,
                        "figure": figure if len(figure) <= 90 else figure[:89] + "…"}
                if text and note not in notes:
                    notes.append(note)
    return notes


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"


def owner_tag() -> str:
    """``<pid>.<host>.``, put in a temporary folder's name after its prefix, so that a
    later run can tell a leftover of a killed process from work still under way."""
    return f"{os.getpid()}.{_host()}."


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):  # PermissionError: alive, another user's
        return False
    return False


def sweep_leftovers(parent: Path, prefix: str) -> list[Path]:
    """Delete the real folders ``parent/<prefix><pid>.<host>.*`` of this host whose
    process is gone (a SIGKILL leaves them); the others, and links, are left alone."""
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    host, removed = _host(), []
    for name in names:
        if not name.startswith(prefix):
            continue
        pid, _, rest = name[len(prefix):].partition(".")
        if not pid.isdigit() or rest.partition(".")[0] != host or not _gone(int(pid)):
            continue
        path = Path(parent) / name
        if real_folder(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
