"""User-facing errors: every problem in a scenario, with its file position.

The loader collects problems instead of stopping at the first one, so an analyst
fixing a file sees the whole list at once, one ``FILE:LINE:COL: message`` line each.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a scenario file. ``line`` and ``col`` are 1-based."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ScenarioError(Exception):
    """Raised when a scenario cannot be loaded; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class ChipsimUserError(Exception):
    """A mistake in how chipsim was called (paths, options); shown as one line, exit 2."""


def did_you_mean(name: object, candidates: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for a near-miss name, or an empty string."""
    if not isinstance(name, str):
        return ""
    # short codes (regions like CN/CM) differ by one letter at a ratio of 0.5
    cutoff = 0.5 if len(name) <= 3 else 0.6
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""
