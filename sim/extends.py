"""The ``extends`` chain: read each file of it safely and deep-merge child over parent,
carrying the position of every value along.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, did_you_mean
from .leverspec import number_streams
from .yamlsource import PosNode, _short, read_yaml

APPENDED_LISTS = ("lanes", "shocks", "policies", "headlines")
# the lists whose items draw from numbered random streams (leverspec.stream_numbers)
STREAM_LISTS = ("shocks", "policies")
# the inherited lists whose entries a child may drop by name with ``without:``
NAMED_LISTS = ("shocks", "policies", "headlines")
MAX_EXTENDS = 32  # files in one extends chain; far more than any real layering


@dataclass(frozen=True)
class SourceFile:
    """A file read while loading a scenario (the file itself and its ``extends`` chain)."""

    path: str
    sha256: str


def _within(path: str, roots: Iterable[str]) -> bool:
    for root in roots:
        try:
            if os.path.commonpath([path, root]) == root:
                return True
        except ValueError:  # different drives
            continue
    return False


def _merge(parent: dict, ppos: PosNode, child: dict, cpos: PosNode, top: bool) -> tuple[dict, PosNode]:
    """``child`` deep-merged over ``parent``, with the positions of the result.

    Mappings merge key by key; the top-level lists in ``APPENDED_LISTS`` are appended
    (parent first); anything else in the child replaces the parent's value.
    """
    out = dict(parent)
    items = dict(ppos.entries())
    pos = PosNode(cpos.at, keys=dict(ppos.keys), items=items)
    removed_nodes: set[str] = set()
    for key, value in child.items():
        if value is None:
            # `key: null` removes what the parent defined (e.g. nodes.X: null drops node X)
            out.pop(key, None)
            items.pop(key, None)
            pos.keys.pop(key, None)
            continue
        cchild = cpos.entries()[key]  # the reader gives every key it keeps a position
        old = out.get(key)
        oldpos = items.get(key)
        if top and key == "nodes" and isinstance(value, dict):
            removed_nodes = {k for k, v in value.items() if v is None and isinstance(old, dict) and k in old}
        if top and key in APPENDED_LISTS and isinstance(value, list) and isinstance(old, list):
            out[key] = old + value
            items[key] = PosNode(cchild.at, items=items[key].elements() + cchild.elements())
        elif isinstance(value, dict) and isinstance(old, dict) and oldpos is not None:
            out[key], items[key] = _merge(old, oldpos, value, cchild, top=False)
        else:
            out[key] = value
            items[key] = cchild
        pos.keys[key] = cpos.keys.get(key, cpos.at)
    if removed_nodes and isinstance(out.get("lanes"), list):
        # lanes the parent defined for a node the child removed go with the node
        keep = [i for i, lane in enumerate(out["lanes"])
                if not (isinstance(lane, dict) and i < len(parent.get("lanes") or [])
                        and any(isinstance(end, str) and end in removed_nodes for end in (lane.get("from"), lane.get("to"))))]
        lanes_pos = items["lanes"].elements()
        out["lanes"] = [out["lanes"][i] for i in keep]
        items["lanes"] = PosNode(items["lanes"].at, items=[lanes_pos[i] for i in keep])
    return out, pos


def _keep_stream_numbers(entries: list, keep: list[int]) -> None:
    """Before entries are dropped from a ``shocks`` or ``policies`` list, write on each kept
    entry after the first dropped one the stream number it had (``leverspec.number_streams``):
    random streams are numbered, so without this every later item would draw the dropped
    one's numbers and lose common random numbers with the parent."""
    def written(entry: object) -> int | None:
        given = entry.get("stream") if isinstance(entry, dict) else None
        return given if isinstance(given, int) and not isinstance(given, bool) else None

    numbers = number_streams([written(e) for e in entries])
    first = next(i for i in range(len(entries)) if i not in set(keep))
    for i in keep:
        if i > first and isinstance(entries[i], dict) and "stream" not in entries[i]:
            entries[i] = {**entries[i], "stream": numbers[i]}


def _drop_named(parent: dict, ppos: PosNode, without: object, wpos: PosNode, problems: list[Problem]) -> None:
    """Remove from ``parent`` (in place, with its positions) every shock, policy or headline
    whose ``name`` is listed in the child's ``without:``.

    Every listed name must be inherited: a name that matches nothing is a problem at its
    position, so that a renamed shock in a parent cannot silently stay in force.
    """
    if not isinstance(without, list) or not all(isinstance(n, str) and n.strip() for n in without):
        problems.append(Problem(wpos.at.file, wpos.at.line, wpos.at.col,
                                "without must be a list of the names of inherited shocks, policies or headlines"))
        return
    inherited = {kind: [e.get("name") if isinstance(e, dict) else None for e in parent.get(kind) or []]
                 for kind in NAMED_LISTS if isinstance(parent.get(kind), list)}
    known = sorted({n for names in inherited.values() for n in names if isinstance(n, str)})
    for i, name in enumerate(without):
        if name not in known:
            at = (wpos.child(i) or wpos).at
            problems.append(Problem(at.file, at.line, at.col, f"without: no inherited shock, policy or headline is "
                                                              f"named {_short(name)}{did_you_mean(name, known)}"))
    drop = set(without)
    items = ppos.entries()
    for kind, names in inherited.items():
        keep = [i for i, n in enumerate(names) if n not in drop]
        if len(keep) == len(names):
            continue
        if kind in STREAM_LISTS:
            _keep_stream_numbers(parent[kind], keep)
        parent[kind] = [parent[kind][i] for i in keep]
        if kind in items:
            elements = items[kind].elements()
            items[kind] = PosNode(items[kind].at, items=[elements[i] for i in keep if i < len(elements)])


def display_path(path: Path) -> str:
    """The path as shown in messages: relative to the working folder when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def read_chain(path: Path, roots: Sequence[str], chain: list[str], sources: list[SourceFile],
               problems: list[Problem], broken: list[str]) -> tuple[dict, PosNode] | None:
    """Read ``path`` and its parents, merged (None if ``path`` holds no document).

    ``chain`` lists the files already on the way down (cycle check), ``roots`` the folders
    ``extends`` may reach; ``sources`` and ``problems`` collect what was read and found,
    ``broken`` the files whose parent could not be merged.
    """
    display = display_path(path)
    data, pos, found = read_yaml(path, display)
    problems.extend(found)
    try:
        sources.append(SourceFile(str(path), hashlib.sha256(path.read_bytes()).hexdigest()))
    except OSError:
        pass
    if data is None:
        return None
    parent_ref = data.pop("extends", None)
    ext_loc = pos.items.get("extends", pos).at if isinstance(pos.items, dict) else pos.at
    without = data.pop("without", None)
    wpos = pos.items.get("without", pos) if isinstance(pos.items, dict) else pos
    if isinstance(pos.items, dict):
        pos.items.pop("extends", None)
        pos.items.pop("without", None)
    if without is not None and parent_ref is None:
        problems.append(Problem(wpos.at.file, wpos.at.line, wpos.at.col,
                                "without drops inherited shocks, policies or headlines: it needs an extends"))
    if parent_ref is None:
        return data, pos
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        problems.append(Problem(ext_loc.file, ext_loc.line, ext_loc.col, "extends must be a file path relative to this file"))
        broken.append(display)
        return data, pos
    where = (ext_loc.file, ext_loc.line, ext_loc.col)
    try:
        target = Path(os.path.realpath(path.parent / parent_ref))
        outside = not _within(str(target), roots)
        missing = not outside and str(target) not in chain and not target.is_file()
        siblings = [p.name for p in target.parent.glob("*.yaml")] if missing and target.parent.is_dir() else []
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long for the file system...
        reason = getattr(exc, "strerror", None) or str(exc)
        problems.append(Problem(*where, f"extends {_short(parent_ref)}: not a usable file path ({reason})"))
        broken.append(display)
        return data, pos
    if outside:
        problems.append(Problem(*where, f"extends '{parent_ref}' points outside the scenario folder {roots[0]}; pass "
                                        "--search-path to allow another folder"))
        broken.append(display)
        return data, pos
    if str(target) in chain:
        cycle = " -> ".join(display_path(Path(p)) for p in chain[chain.index(str(target)):] + [str(target)])
        problems.append(Problem(*where, f"extends forms a cycle: {cycle}"))
        broken.append(display)
        return data, pos
    if missing:
        problems.append(Problem(*where, f"extends '{parent_ref}': no such file{did_you_mean(Path(parent_ref).name, siblings)}"))
        broken.append(display)
        return data, pos
    if len(chain) >= MAX_EXTENDS:  # each level costs stack frames: stop long before Python's limit
        problems.append(Problem(*where, f"extends chains are limited to {MAX_EXTENDS} files; this file is number {len(chain)}"))
        broken.append(display)
        return data, pos
    merged = read_chain(target, roots, chain + [str(target)], sources, problems, broken)
    if merged is None:
        broken.append(display)
        return data, pos
    if without is not None:
        _drop_named(*merged, without, wpos, problems)
    return _merge(*merged, data, pos, top=True)


