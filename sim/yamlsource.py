"""Safe YAML reading that keeps the file position of every key and value.

ruamel.yaml's round-trip loader never constructs Python objects from tags; we walk its
tree once into plain dicts/lists/scalars and a parallel tree of positions (``PosNode``),
rejecting tags, binary data, sets and alias bombs on the way.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import Problem

MAX_NODES = 200_000  # far above any real scenario; stops "billion laughs" alias bombs
MAX_DEPTH = 64
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class Loc:
    file: str
    line: int  # 1-based
    col: int   # 1-based


@dataclass
class PosNode:
    """Where a value (and, for mappings, each key) stands in its file."""

    at: Loc
    keys: dict = field(default_factory=dict)            # key -> Loc of the key
    items: Union[dict, list, None] = None               # key/index -> PosNode

    def child(self, part) -> "PosNode | None":
        if isinstance(self.items, dict):
            return self.items.get(part)
        if isinstance(self.items, list) and isinstance(part, int) and 0 <= part < len(self.items):
            return self.items[part]
        return None


class _Walker:
    def __init__(self, file: str):
        self.file = file
        self.count = 0
        self.problems: list[Problem] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc.file, loc.line, loc.col, message))

    def _tag_of(self, value) -> str | None:
        tag = getattr(value, "tag", None)
        text = getattr(tag, "value", tag) if tag is not None else None
        return text if isinstance(text, str) and text else None

    def walk(self, value: Any, loc: Loc, depth: int) -> tuple[Any, PosNode]:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(loc)
        if depth > MAX_DEPTH:
            self.problem(loc, f"nesting deeper than {MAX_DEPTH} levels")
            return None, PosNode(loc)
        if isinstance(value, (CommentedMap, CommentedSeq)) and self._tag_of(value):
            self.problem(loc, f"YAML tag {self._tag_of(value)!r} is not allowed; scenario files hold plain data only")
            return None, PosNode(loc)
        if isinstance(value, CommentedMap):
            return self._mapping(value, loc, depth)
        if isinstance(value, CommentedSeq):
            out, nodes = [], []
            for i, item in enumerate(value):
                line, col = value.lc.data[i][:2] if i in value.lc.data else (loc.line - 1, loc.col - 1)
                v, p = self.walk(item, Loc(self.file, line + 1, col + 1), depth + 1)
                out.append(v)
                nodes.append(p)
            return out, PosNode(loc, items=nodes)
        if isinstance(value, TaggedScalar):
            if self._tag_of(value) in ("tag:yaml.org,2002:str", "!!str"):
                return str(value.value), PosNode(loc)
            self.problem(loc, f"YAML tag {self._tag_of(value)!r} is not allowed; scenario files hold plain data only")
            return None, PosNode(loc)
        if isinstance(value, (bytes, bytearray, set, frozenset)):
            self.problem(loc, f"{type(value).__name__} values (from a YAML tag) are not allowed here")
            return None, PosNode(loc)
        if isinstance(value, str):
            return str(value), PosNode(loc)  # drop ruamel's scalar-string subclasses
        if isinstance(value, bool) or value is None:
            return value, PosNode(loc)
        if isinstance(value, int):
            return int(value), PosNode(loc)
        if isinstance(value, float):
            return float(value), PosNode(loc)
        if isinstance(value, _dt.datetime):
            return value.date() if (value.hour, value.minute, value.second) == (0, 0, 0) else value, PosNode(loc)
        if isinstance(value, _dt.date):
            return value, PosNode(loc)
        self.problem(loc, f"unsupported YAML value of type {type(value).__name__}")
        return None, PosNode(loc)

    def _mapping(self, value: CommentedMap, loc: Loc, depth: int):
        out: dict = {}
        pos = PosNode(loc, items={})
        for key, item in value.items():
            kl, kc, vl, vc = value.lc.data.get(key, (loc.line - 1, loc.col - 1, loc.line - 1, loc.col - 1))
            key_loc = Loc(self.file, kl + 1, kc + 1)
            if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float, _dt.date)):
                self.problem(key_loc, f"mapping keys must be plain names, got {key!r}")
                continue
            key = str(key) if not isinstance(key, _dt.date) else key.isoformat()
            v, p = self.walk(item, Loc(self.file, vl + 1, vc + 1), depth + 1)
            out[key] = v
            pos.keys[key] = key_loc
            pos.items[key] = p
        return out, pos


class _TooBig(Exception):
    def __init__(self, loc: Loc):
        self.loc = loc


def _composed_nodes(text: str):
    """Every node of the document in file order, without constructing any value."""
    try:
        stack, seen = [YAML(typ="rt").compose(text)], set()
    except (YAMLError, ValueError, RecursionError):
        return
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:  # aliases share nodes
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))


def _first_definition(text: str, dup_mark) -> int | None:
    """1-based line of the earlier key that the duplicate key at ``dup_mark`` repeats."""
    if dup_mark is None:
        return None
    for node in _composed_nodes(text):
        if not isinstance(node, MappingNode):
            continue
        keys = [k for k, _ in node.value]
        dup = next((k for k in keys if (k.start_mark.line, k.start_mark.column) == (dup_mark.line, dup_mark.column)), None)
        if isinstance(dup, ScalarNode):
            for key in keys[:keys.index(dup)]:
                if isinstance(key, ScalarNode) and key.value == dup.value:
                    return key.start_mark.line + 1
    return None


def _bad_date(text: str) -> tuple[int, int, str, str] | None:
    """1-based (line, col, text, reason) of the first scalar that looks like a date but is not one."""
    for node in _composed_nodes(text):
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                YAML(typ="safe", pure=True).load(node.value)
            except ValueError as exc:
                return node.start_mark.line + 1, node.start_mark.column + 1, node.value, str(exc)
    return None


def read_yaml(path: Path, display: str) -> tuple[Any, PosNode, list[Problem]]:
    """Parse ``path`` safely; return (plain data, positions, problems)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"file is {size / 1e6:.0f} MB; scenario files are limited to {MAX_BYTES // 2**20} MiB")]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"file is not UTF-8 text ({exc.reason} at byte {exc.start})")]
    except OSError as exc:
        return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in what:
            # ruamel's context mark is the start of the mapping, not the first definition
            first = _first_definition(text, exc.problem_mark)
            if first is not None:
                what += f" (first defined on line {first})"
        elif exc.problem and exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            # e.g. an unclosed [ ... : say where the construct that was never closed began
            what += f"; {exc.context.strip()} that starts at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, f"YAML syntax error: {what}")]
    except (YAMLError, ValueError, RecursionError) as exc:
        bad = _bad_date(text) if isinstance(exc, ValueError) else None
        if bad is not None:  # e.g. 2025-02-30: the constructor fails without a position
            line, col, value, why = bad
            return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, f"invalid date {value!r}: {why}")]
        return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"YAML syntax error: {exc}")]
    walker = _Walker(display)
    top = Loc(display, 1, 1)
    try:
        data, pos = walker.walk(raw, top, 0)
    except _TooBig as big:
        return None, PosNode(top), [Problem(display, big.loc.line, big.loc.col, f"document expands to more than {MAX_NODES} values (YAML aliases?); refusing to load it")]
    except RecursionError:
        return None, PosNode(top), [Problem(display, 1, 1, "document is nested too deeply (recursive YAML aliases?)")]
    if data is None and not walker.problems:
        walker.problems.append(Problem(display, 1, 1, "file is empty; a scenario needs at least name, horizon, products and nodes"))
    elif data is not None and not isinstance(data, dict):
        walker.problems.append(Problem(display, 1, 1, f"a scenario file must be a mapping of keys (name:, horizon:, ...), not a {type(data).__name__}"))
        data = None
    return data, pos, walker.problems
