"""Safe YAML reading that keeps the file position of every key and value.

ruamel.yaml's round-trip loader never constructs Python objects from tags; we walk its
tree once into plain dicts/lists/scalars and a parallel tree of positions (``PosNode``),
rejecting tags, binary data, sets and alias bombs on the way. The scanner is guarded too:
it stops at the first token nested deeper than ``MAX_DEPTH`` or past the value limit, so
neither deep nesting nor a huge document reaches ruamel's recursive composer.
"""
from __future__ import annotations

import datetime as _dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scanner import RoundTripScanner

from .errors import Problem

MAX_NODES = 200_000  # far above any real scenario; stops "billion laughs" alias bombs
MAX_DEPTH = 64
MAX_BYTES = 20 * 1024 * 1024
# text of the document once aliases are expanded; aliases share one copy in memory, but
# later stages (validation messages, the resolved scenario) may copy each use
MAX_TEXT_BYTES = 64 * 1024 * 1024
# every value is a scalar or a collection, and so is every key: a document with more
# scalars and collections than this has more than MAX_NODES values and would be refused
# after parsing anyway, so the scanner stops there rather than parse it all first
MAX_TOKENS = 2 * MAX_NODES + 2
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\n\r]")  # line breaks as ruamel counts them (YAML 1.2)


class _Refused(Exception):
    """The guarded scanner stopped: the document is nested too deeply or is too big."""

    def __init__(self, mark, message: str):
        self.mark = mark
        self.message = message


class _GuardedScanner(RoundTripScanner):
    """ruamel's round-trip scanner with limits on nesting and on the number of values.

    ruamel composes nested collections recursively and scans deeply nested flow
    collections in quadratic time, so a few kilobytes of ``[[[[...`` would take seconds
    and end in a RecursionError; this scanner refuses them at the first token too deep.
    """

    def _count(self) -> None:
        self._tokens = getattr(self, "_tokens", 0) + 1
        if self._tokens > MAX_TOKENS:
            raise _Refused(self.reader.get_mark(), f"document has more than {MAX_NODES} values; refusing to load it")

    def _open(self, opening: int) -> None:
        self._count()
        # collections open once this one opens; the document's own counts too, so a value
        # inside the 65th is at depth 65, as the walker counts
        open_ = len(self.flow_context) + len(self.indents) + opening
        if open_ > MAX_DEPTH + 1:
            raise _Refused(self.reader.get_mark(), f"nesting deeper than {MAX_DEPTH} levels")

    def fetch_flow_collection_start(self, TokenClass, to_push) -> None:
        self._open(1)
        super().fetch_flow_collection_start(TokenClass, to_push)

    def add_indent(self, column: int) -> bool:
        added = super().add_indent(column)
        if added:
            self._open(0)
        return added

    def fetch_plain(self) -> None:
        self._count()
        super().fetch_plain()

    def fetch_flow_scalar(self, style) -> None:
        self._count()
        super().fetch_flow_scalar(style)

    def fetch_block_scalar(self, style) -> None:
        self._count()
        super().fetch_block_scalar(style)


class _GuardedConstructor(RoundTripConstructor):
    """Refuses an alias used inside the collection its anchor names (``&a [*a]``), which
    ruamel would otherwise quietly turn into null."""

    def construct_object(self, node, deep: bool = False):
        if node in self.recursive_objects and node not in self.constructed_objects:
            anchor = getattr(node, "anchor", None)
            name = f"&{getattr(anchor, 'value', anchor)} " if anchor else ""
            raise _Refused(node.start_mark, f"the YAML anchor {name}is used inside the collection it names (a recursive alias)")
        return super().construct_object(node, deep)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Scanner = _GuardedScanner
    yaml.Constructor = _GuardedConstructor
    yaml.allow_duplicate_keys = False
    return yaml


@dataclass
class Loc:
    """A position in a file: 1-based line and column."""

    file: str
    line: int  # 1-based
    col: int   # 1-based


@dataclass
class PosNode:
    """Where a value (and, for mappings, each key) stands in its file."""

    at: Loc
    keys: dict = field(default_factory=dict)            # key -> Loc of the key
    items: dict | list | None = None               # key/index -> PosNode

    def entries(self) -> dict[Any, PosNode]:
        """Positions of a mapping's values by key (empty for a scalar or a sequence)."""
        return self.items if isinstance(self.items, dict) else {}

    def elements(self) -> list[PosNode]:
        """Positions of a sequence's items (empty for a scalar or a mapping)."""
        return self.items if isinstance(self.items, list) else []

    def child(self, part: Any) -> PosNode | None:
        """Position of one key's value or one item, if the value has it."""
        if isinstance(self.items, dict):
            return self.items.get(part)
        if isinstance(self.items, list) and isinstance(part, int) and 0 <= part < len(self.items):
            return self.items[part]
        return None


class _Walker:
    def __init__(self, file: str):
        self.file = file
        self.count = 0
        self.text_bytes = 0
        self._texts: dict[int, str] = {}  # id of a ruamel string -> its one plain copy (aliases share it)
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # ids of the collections being walked (recursive aliases)

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
        if isinstance(value, (CommentedMap, CommentedSeq)):
            if id(value) in self._open:
                self.problem(loc, "this YAML alias refers to a collection that contains it (a recursive alias)")
                return None, PosNode(loc)
            self._open.add(id(value))
            try:
                if isinstance(value, CommentedMap):
                    return self._mapping(value, loc, depth)
                out, nodes = [], []
                for i, item in enumerate(value):
                    v, p = self.walk(item, _item_loc(value, i, loc), depth + 1)
                    out.append(v)
                    nodes.append(p)
                return out, PosNode(loc, items=nodes)
            finally:
                self._open.discard(id(value))
        if isinstance(value, TaggedScalar):
            if self._tag_of(value) in ("tag:yaml.org,2002:str", "!!str"):
                return str(value.value), PosNode(loc)
            self.problem(loc, f"YAML tag {self._tag_of(value)!r} is not allowed; scenario files hold plain data only")
            return None, PosNode(loc)
        if isinstance(value, (bytes, bytearray, set, frozenset)):
            self.problem(loc, f"{type(value).__name__} values (from a YAML tag) are not allowed here")
            return None, PosNode(loc)
        if isinstance(value, str):
            return self._text(value, loc)
        if isinstance(value, bool) or value is None:
            return value, PosNode(loc)
        if isinstance(value, ScalarBoolean):  # an anchored true/false: an int subclass
            return bool(value), PosNode(loc)
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

    def _text(self, value: str, loc: Loc) -> tuple[str | None, PosNode]:
        self.text_bytes += len(value)
        if self.text_bytes > MAX_TEXT_BYTES:
            raise _TooMuchText(loc)
        plain = self._texts.get(id(value))
        if plain is None:
            if _SURROGATE.search(value):
                self.problem(loc, _surrogate_message(value))
                return None, PosNode(loc)
            plain = self._texts[id(value)] = str(value)  # drop ruamel's scalar-string subclasses, once
        return plain, PosNode(loc)

    def _mapping(self, value: CommentedMap, loc: Loc, depth: int):
        out: dict = {}
        entries: dict[str, PosNode] = {}
        pos = PosNode(loc, items=entries)
        spellings: dict[str, str] = {}
        for key, item in value.items():
            key_loc, item_loc = _entry_locs(value, key, loc)
            if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float, _dt.date)):
                self.problem(key_loc, f"mapping keys must be plain names, got {_short(key)}")
                continue
            if isinstance(key, str) and _SURROGATE.search(key):
                self.problem(key_loc, _surrogate_message(key))
                continue
            spelled = repr(key) if isinstance(key, str) else f"{key} (a {'date' if isinstance(key, _dt.date) else 'number'})"
            key = str(key) if not isinstance(key, _dt.date) else key.isoformat()
            if key in out:
                first = pos.keys[key]
                self.problem(key_loc, f"key {spelled} and the key {spellings[key]} on line {first.line}, column "
                                      f"{first.col} are the same id {key!r} (ids are compared as text); rename one")
                continue
            spellings[key] = spelled
            v, p = self.walk(item, item_loc, depth + 1)
            out[key] = v
            pos.keys[key] = key_loc
            entries[key] = p
        return out, pos


class _TooBig(Exception):
    def __init__(self, loc: Loc):
        self.loc = loc


class _TooMuchText(_TooBig):
    """The document's text, with aliases expanded, passed ``MAX_TEXT_BYTES``."""


def _short(value, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters for messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters"
    return f"{text[:limit]}... ({size})"


def _surrogate_message(text: str) -> str:
    char = _SURROGATE.findall(text)[0]
    return (f"text contains {char!r}, a lone UTF-16 surrogate that is not a character; "
            "write the character itself (or \\U0001F600-style escapes in double quotes)")


def _entry_locs(mapping: CommentedMap, key, at: Loc) -> tuple[Loc, Loc]:
    """Positions of a mapping entry's key and value (the mapping's own, for merged keys)."""
    data = mapping.lc.data or {}
    kl, kc, vl, vc = data.get(key, (at.line - 1, at.col - 1, at.line - 1, at.col - 1))
    return Loc(at.file, kl + 1, kc + 1), Loc(at.file, vl + 1, vc + 1)


def _item_loc(seq: CommentedSeq, i: int, at: Loc) -> Loc:
    data = seq.lc.data or {}
    line, col = data[i][:2] if i in data else (at.line - 1, at.col - 1)
    return Loc(at.file, line + 1, col + 1)


def _expanded(value, depth: int, memo: dict) -> int:
    """How many values the walker would visit from ``value`` (capped just above MAX_NODES).

    Shared (aliased) collections are counted once per depth, so an alias bomb is measured
    without expanding it.
    """
    if depth > MAX_DEPTH or not isinstance(value, (CommentedMap, CommentedSeq)):
        return 1
    key = (id(value), depth)
    if key not in memo:
        total = 1
        for child in (value.values() if isinstance(value, CommentedMap) else value):
            total += _expanded(child, depth + 1, memo)
            if total > MAX_NODES:
                break
        memo[key] = total
    return memo[key]


def _overflow_at(raw, top: Loc) -> Loc | None:
    """Where the walker would pass MAX_NODES values (None if it would not)."""
    memo: dict = {}
    if _expanded(raw, 0, memo) <= MAX_NODES:
        return None
    value, loc, depth, seen = raw, top, 0, 0
    while True:
        seen += 1
        if seen > MAX_NODES or depth > MAX_DEPTH or not isinstance(value, (CommentedMap, CommentedSeq)):
            return loc
        if isinstance(value, CommentedMap):
            entries = [(item, _entry_locs(value, key, loc)[1]) for key, item in value.items()]
        else:
            entries = [(item, _item_loc(value, i, loc)) for i, item in enumerate(value)]
        for item, item_loc in entries:
            size = _expanded(item, depth + 1, memo)
            if seen + size > MAX_NODES:
                value, loc, depth = item, item_loc, depth + 1
                break
            seen += size
        else:
            return loc


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` of ``text``."""
    index = max(0, min(index, len(text)))
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def _composed_nodes(text: str):
    """Every node of the document in file order, without constructing any value."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stack, seen = [_yaml().compose(text)], set()
    except Exception:  # the caller reports the original error; this is only a search
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


def _bad_scalar(text: str) -> tuple[int, int, str] | None:
    """1-based (line, col, message) of the first scalar ruamel cannot construct: a date
    that is not one (2025-02-30), ``!!bool maybe``, an integer of 5,000 digits..."""
    constructor = _yaml().constructor
    for node in _composed_nodes(text):
        if not isinstance(node, ScalarNode):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                constructor.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001 - ruamel raises ValueError, KeyError, ...
            why = str(exc).strip() or type(exc).__name__
            tag = str(getattr(node.tag, "value", node.tag) or "")
            if tag == "tag:yaml.org,2002:timestamp":
                message = f"invalid date {node.value!r}: {why}"
            else:
                message = f"cannot read {_short(node.value)} as a YAML {tag.rsplit(':', 1)[-1] or 'value'}: {why}"
            return node.start_mark.line + 1, node.start_mark.column + 1, message
    return None


def read_yaml(path: Path, display: str) -> tuple[Any, PosNode, list[Problem]]:
    """Parse ``path`` safely; return (plain data, positions, problems)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"file is {size / 1e6:.0f} MB; scenario files are "
                                                                              f"limited to {MAX_BYTES // 2**20} MiB")]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        # point at the offending byte, counting lines as in the text with it replaced
        head = exc.object[:exc.start].decode("utf-8", errors="replace")
        line, col = _line_col(exc.object.decode("utf-8", errors="replace"), len(head))
        return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, f"file is not UTF-8 text ({exc.reason} at "
                                                                                    f"byte {exc.start})")]
    except OSError as exc:
        return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    yaml = _yaml()
    try:
        with warnings.catch_warnings():  # e.g. MantissaNoDotYAML1_1Warning, which tells users to edit code
            warnings.simplefilter("ignore")
            raw = yaml.load(text)
    except _Refused as exc:
        line, col = exc.mark.line + 1, exc.mark.column + 1
        return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, exc.message)]
    except ReaderError as exc:  # a control character such as NUL or BEL in the text
        line, col = _line_col(text, exc.position if isinstance(exc.position, int) else 0)
        char = f"character {chr(exc.character)!r}" if isinstance(exc.character, int) else "a character"
        return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, f"YAML syntax error: {char} is not allowed "
                                                                                    "in a YAML file; write it as an escape such "
                                                                                    "as \\x07 inside double quotes")]
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
            what += (f"; {exc.context.strip()} that starts at line {exc.context_mark.line + 1}, column "
                     f"{exc.context_mark.column + 1}")
        return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, f"YAML syntax error: {what}")]
    except Exception as exc:  # noqa: BLE001 - ruamel's constructors raise ValueError, KeyError, ...
        bad = None if isinstance(exc, (YAMLError, RecursionError, MemoryError)) else _bad_scalar(text)
        if bad is not None:  # e.g. 2025-02-30: the constructor fails without a position
            line, col, message = bad
            return None, PosNode(Loc(display, line, col)), [Problem(display, line, col, message)]
        why = str(exc).strip() or type(exc).__name__
        return None, PosNode(Loc(display, 1, 1)), [Problem(display, 1, 1, f"YAML syntax error: {why}")]
    walker = _Walker(display)
    top = Loc(display, 1, 1)
    too_big = _overflow_at(raw, top)
    if too_big is not None:
        return None, PosNode(top), [Problem(display, too_big.line, too_big.col, f"document expands to more than {MAX_NODES} "
                                                                                "values (YAML aliases?); refusing to load it")]
    try:
        data, pos = walker.walk(raw, top, 0)
    except _TooMuchText as big:
        return None, PosNode(top), [Problem(display, big.loc.line, big.loc.col, "document expands to more than "
                                            f"{MAX_TEXT_BYTES // 2**20} MiB of text (YAML aliases?); refusing to load it")]
    except _TooBig as big:
        return None, PosNode(top), [Problem(display, big.loc.line, big.loc.col, f"document expands to more than {MAX_NODES} "
                                                                                "values (YAML aliases?); refusing to load it")]
    except RecursionError:
        return None, PosNode(top), [Problem(display, 1, 1, "document is nested too deeply (recursive YAML aliases?)")]
    if data is None and not walker.problems:
        walker.problems.append(Problem(display, 1, 1, "file is empty; a scenario needs at least name, horizon, products and "
                                                      "nodes"))
    elif data is not None and not isinstance(data, dict):
        walker.problems.append(Problem(display, 1, 1, "a scenario file must be a mapping of keys (name:, horizon:, ...), not a "
                                                      f"{type(data).__name__}"))
        data = None
    return data, pos, walker.problems
