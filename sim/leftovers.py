"""Temporary folders of killed runs: which are chipsim's own and safe to delete.

Since issue 13 a temporary folder names its writer (``<prefix><pid>.<host>.<random>``),
and one whose process on this host is gone is deleted at once
(``provenance.sweep_leftovers``). Folders of older versions (``<prefix><random>``: the 8
characters ``tempfile.mkdtemp`` adds) name no writer, so nothing tells a killed run from
one still going. They are deleted only when all of these hold:

- the name is exactly ``<prefix>`` and 8 characters of ``[a-z0-9_]``;
- it is a real folder of this user, with no link, FIFO or device anywhere inside;
- everything in it is a file chipsim writes there (``kind``: the ``block<k>.bin`` files
  of a summary run, or the files of a run folder and their temporary names), and a
  ``manifest.json`` in it, if any, is chipsim's;
- nothing in it changed for ``STALE_SECONDS`` (a run still going writes every few seconds).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from pathlib import Path

from .provenance import sweep_leftovers
from .safefs import read_regular, real_folder

STALE_SECONDS = 3600   # an hour without any change
_UNTAGGED = re.compile(r"[a-z0-9_]{8}")
_TEMP_FILE = re.compile(r"\..+\.tmp")  # safefs.write_bytes's temporary names
_RUN_FILES = {"timeseries.parquet", "kpis.csv", "per_replication.csv", "scenario.yaml", "manifest.json", "notes.json",
              "headlines.csv", "headline_differences.csv", "comparison.csv", "ranking.csv", "briefing.html",
              "briefing.pdf", "sweep.csv", "sensitivity.csv"}
_RUN_FOLDERS = {"charts", "scenarios", ".old-charts"}
_INNER_FILE = re.compile(r"[^/]+\.(png|svg|csv|yaml)")


def _chipsim_manifest(path: Path) -> bool:
    try:
        manifest = json.loads(read_regular(path, 8 * 2**20))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and "chipsim_version" in manifest


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _run_folder(folder: Path, depth: int = 0) -> bool:
    """Whether ``folder`` holds only what a run folder (or its report staging) holds."""
    for name in os.listdir(folder):
        path = folder / name
        if real_folder(path):
            if depth > 0 or name not in _RUN_FOLDERS or not _run_folder(path, depth + 1):
                return False
        elif not _regular(path):
            return False
        elif depth == 0 and name not in _RUN_FILES and not _TEMP_FILE.fullmatch(name):
            return False
        elif depth > 0 and not (_INNER_FILE.fullmatch(name) or _TEMP_FILE.fullmatch(name)):
            return False
    return not os.path.lexists(folder / "manifest.json") or _chipsim_manifest(folder / "manifest.json")


def _holds_only(folder: Path, kind: str) -> bool:
    if kind == "reps":
        return all(re.fullmatch(r"block\d+\.bin", n) and _regular(folder / n) for n in os.listdir(folder))
    if kind == "old":  # the replaced folder, moved aside to be deleted
        inside = os.listdir(folder)
        return len(inside) <= 1 and all(real_folder(folder / n) and _run_folder(folder / n) for n in inside)
    return _run_folder(folder)


def _newest_change(folder: Path) -> float:
    newest = os.lstat(folder).st_mtime
    for root, dirs, files in os.walk(folder):  # links are not followed
        for name in dirs + files:
            newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def sweep_untagged(parent: Path, prefix: str, kind: str, stale: float = STALE_SECONDS) -> list[Path]:
    """Delete the folders ``parent/<prefix><8 random characters>`` older chipsims left
    (``kind``: "reps", "run" or "old"), under the conditions of the module docstring;
    ``stale`` in seconds. Anything else is left alone."""
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    removed = []
    for name in names:
        path = Path(parent) / name
        if not (name.startswith(prefix) and _UNTAGGED.fullmatch(name[len(prefix):]) and real_folder(path)):
            continue
        try:
            if (os.lstat(path).st_uid != os.getuid() or not _holds_only(path, kind)
                    or time.time() - _newest_change(path) < stale):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def sweep_killed(parent: Path, prefix: str, kind: str) -> list[Path]:
    """Delete the temporary folders ``parent/<prefix>*`` of killed runs: those naming a
    process of this host that is gone, and untagged ones of older versions (see
    ``sweep_untagged``)."""
    return sweep_leftovers(parent, prefix) + sweep_untagged(parent, prefix, kind)
