"""Neutralising user-supplied strings where they are shown.

Scenario files come from colleagues, so every id, name, label and path is treated as
hostile where it is displayed:

- terminal: control characters (escape sequences, OSC 52 clipboard writes, window
  titles) and bidirectional-text controls are shown as visible ``\\xNN``/``\\uNNNN``
  escapes, and rich markup is escaped so ``[/x]`` prints as written;
- CSV: a cell that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-``,
  ``@``, tab or carriage return) is prefixed with an apostrophe (OWASP's advice);
- XML (SVG, HTML): characters XML 1.0 forbids are dropped;
- charts: long labels are shortened with an ellipsis.
"""
from __future__ import annotations

import re

# C0 and C1 controls except tab and newline, DEL, and the Unicode bidi controls
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: object) -> str:
    """``text`` safe to print through rich: controls made visible, markup escaped."""
    from rich.markup import escape

    return escape(_TERMINAL_UNSAFE.sub(_visible, str(text)))


def for_plain_terminal(text: object) -> str:
    """``text`` safe to write to a terminal without rich: controls made visible."""
    return _TERMINAL_UNSAFE.sub(_visible, str(text))


def for_csv(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never evaluates (non-strings unchanged)."""
    if isinstance(value, str) and value.startswith(_FORMULA_LEAD):
        return "'" + value
    return value


def for_xml(text: object) -> str:
    """``text`` without the characters XML 1.0 forbids (SVG and HTML stay well-formed)."""
    return _XML_INVALID.sub("", str(text))


def shorten(text: object, limit: int = 60) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut."""
    s = str(text)
    return s if len(s) <= limit else s[: max(0, limit - 1)].rstrip() + "…"


def for_chart(text: object, width: int = 200, lines: int = 8) -> str:
    """A chart text of at most ``lines`` lines of at most ``width`` characters each, cut
    with an ellipsis: a label of any length draws in bounded time and space."""
    rows = str(text).split("\n")
    cut = [shorten(row, width) for row in rows[:lines]]
    if len(rows) > lines and not cut[-1].endswith("…"):  # dropped lines: the last one kept says so
        cut[-1] = cut[-1][: width - 1].rstrip() + "…"
    return "\n".join(cut)
