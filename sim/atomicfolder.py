"""Folders written whole: a run, comparison, sweep or drivers folder is built under a
temporary name beside its place and renamed into it, and ``--force`` replaces only a
folder that chipsim wrote (one with chipsim's ``manifest.json``)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ChipsimUserError
from .leftovers import sweep_killed
from .provenance import owner_tag
from .safefs import read_regular, real_folder, reason, rename_no_replace

MANIFEST_LIMIT = 8 * 2**20        # bytes: manifest.json, notes.json


def is_chipsim_folder(path: Path) -> bool:
    """Whether ``path`` is a real folder holding a regular ``manifest.json`` that chipsim
    wrote (a JSON object with ``chipsim_version``): the only thing ``--force`` replaces."""
    if not real_folder(path):
        return False
    try:
        manifest = json.loads(read_regular(path / "manifest.json", MANIFEST_LIMIT))
    except (OSError, ValueError, RecursionError):  # RecursionError: a tampered file nested deeper than json can parse
        return False
    return isinstance(manifest, dict) and "chipsim_version" in manifest


def check_replaceable(out: Path, force: bool) -> None:
    """Refuse an ``out`` that exists unless ``force`` is given and it is a chipsim folder."""
    if not os.path.lexists(out):
        return
    if not force:
        raise ChipsimUserError(f"{out} already exists; choose another --out or pass --force to replace it")
    if not is_chipsim_folder(out):
        raise ChipsimUserError(f"{out} is not a chipsim run, comparison or sweep folder (no manifest.json of "
                               "chipsim's); --force replaces only those; nothing was deleted")


def check_keeps_inputs(out: Path, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an ``out`` that holds a file or folder this command reads (its scenario, an
    ``extends`` parent, a search path): replacing ``out`` would delete it."""
    if not os.path.lexists(out):
        return
    root = os.path.realpath(out)
    for path in inputs:
        real = os.path.realpath(path)
        try:
            inside = os.path.commonpath([real, root]) == root
        except ValueError:  # different drives
            inside = False
        if inside:
            raise ChipsimUserError(f"{out} holds {path}, which this command reads; replacing the folder would delete "
                                   "it; choose another --out (nothing was deleted)")


def _put_in_place(tmp: Path, out: Path, force: bool, parent: Path) -> None:
    """Rename the finished ``tmp`` to ``out``, never replacing an ``out`` that appeared
    meanwhile unless ``force`` is given and it is a chipsim folder."""
    try:
        rename_no_replace(tmp, out)
        return
    except FileExistsError:
        if not force:
            raise ChipsimUserError(f"{out} appeared while this run was going (another run?); it was left as it is "
                                   "and this run's results were discarded; choose another --out") from None
    check_replaceable(out, force)
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{owner_tag()}", dir=parent))
    os.rename(out, trash / out.name)
    try:
        rename_no_replace(tmp, out)
    except FileExistsError:
        raise ChipsimUserError(f"{out} appeared again while this run replaced it; this run's results were discarded") from None
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def write_atomically(out: Path, force: bool, writer: Callable[[Path], None]) -> Path:
    """Build the directory in a temporary folder beside ``out``, then rename it into place."""
    check_replaceable(out, force)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for kind in ("partial", "old"):  # what killed runs into the same place left
            sweep_killed(parent, f".{out.name}.{kind}-", "run" if kind == "partial" else "old")
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{owner_tag()}", dir=parent))
    except OSError as exc:
        raise ChipsimUserError(f"cannot create the run directory in {parent}: {reason(exc)}") from None
    try:
        os.umask(mask := os.umask(0))
        os.chmod(tmp, 0o777 & ~mask)
        writer(tmp)
        _put_in_place(tmp, out, force, parent)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ChipsimUserError(f"cannot write the run directory {out}: {reason(exc)}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
