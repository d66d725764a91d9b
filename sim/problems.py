"""Problems placed in the source: where a document path stands in its file, and the
wording that every loading stage shares (dotted paths, "did you mean" hints within a
budget, one-line messages).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .distributions import DIST_TYPES
from .errors import Problem, did_you_mean
from .policies import POLICY_TYPES
from .shocks import SHOCK_TYPES
from .yamlsource import PosNode

MAX_MESSAGE = 600  # characters of a message, which may quote the offending value (5 MB of it)
# control characters and line breaks that an id quoted in a message may carry: shown as
# escapes, so that every problem stays on one FILE:LINE:COL: line
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SUGGESTION_BUDGET = 20_000  # name comparisons per load for "did you mean" hints


class Suggester:
    """``did_you_mean`` within a budget of comparisons per load.

    difflib compares a misspelt name with every known one, so a file with thousands of
    misspelt ids among thousands of nodes would take minutes to report. Past the budget,
    problems are still reported, without the hint. Answers are cached per name and kind.
    """

    def __init__(self, budget: int = SUGGESTION_BUDGET):
        self.budget = budget
        self.cache: dict[tuple, str] = {}

    def __call__(self, name: object, candidates: Iterable, kind: str = "") -> str:
        """A " (did you mean ...?)" hint for ``name`` among ``candidates``, or "" (also past the budget)."""
        if not isinstance(name, str) or len(name) > 100:
            return ""
        key = (kind, name)
        if kind and key in self.cache:
            return self.cache[key]
        known = [c for c in candidates if isinstance(c, str) and len(c) <= 100]
        if len(known) > self.budget:
            return ""
        self.budget -= len(known)
        hint = did_you_mean(name, known)
        if kind:
            self.cache[key] = hint
        return hint


# --- pydantic errors to positioned problems ---------------------------------------

_TAGS = set(SHOCK_TYPES) | set(POLICY_TYPES) | set(DIST_TYPES)
# pydantic names validator steps in error locations too
_LOCATION_TAGS = _TAGS | {"function-plain", "function-after", "learning-curve", "defect-density"}


def locate(loc: tuple, data: Any, pos: PosNode) -> tuple[list, Any, PosNode, bool]:
    """Walk an error location through the data; returns (path, value, pos, complete)."""
    path: list = []
    node = pos
    value = data
    for part in loc:
        if isinstance(value, dict) and part not in value and isinstance(part, str) and part in _LOCATION_TAGS:
            continue  # discriminated-union tag in the location, not a key in the file
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return path + [part], None, node, False
        path.append(part)
        child = node.child(part) if node is not None else None
        node = child or node
    return path, value, node, True


def dotted(path: list) -> str:
    """A document path as written in messages: ``nodes.fab.consumes``, ``lanes[3]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def one_line(problem: Problem) -> Problem:
    """The problem with control characters in its message escaped (``\\n``, ``\\x1b``) and
    a message that quotes a huge value cut short."""
    message = problem.message
    if len(message) > MAX_MESSAGE:
        message = f"{message[:MAX_MESSAGE]}... ({len(message):,} characters)"
    if _UNPRINTABLE.search(message):
        message = _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], message)
    return problem if message == problem.message else Problem(problem.file, problem.line, problem.col, message)


