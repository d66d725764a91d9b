"""Human words for ids: the label a reader sees for a node, product or shock.

A scenario may give ``label:``; otherwise a readable default is derived from the id
(``eu_magnet_users`` -> "EU magnet users", ``accel_h200`` -> "Accel H200"). Region and
company codes written as short tokens are kept in capitals.
"""
from __future__ import annotations

import re

# short tokens that are codes, not words: shown in capitals
_CODES = {
    "us", "eu", "cn", "jp", "kr", "tw", "nl", "uk", "de", "fr", "au", "my", "mm", "vn", "row",
    "ree", "hbm", "dc", "dcs", "euv", "duv", "eda", "smic", "tsmc", "cxmt", "ymtc", "mp", "ga", "ge",
    "gpu", "cpu", "ai", "tflops", "pflops", "eflops", "bf16", "fp8", "mwh", "gw",
}
# codes written in mixed case
_MIXED = {"ndfeb": "NdFeB", "ndpr": "NdPr", "dytb": "DyTb", "gaas": "GaAs", "sic": "SiC", "gan": "GaN"}
_TOKEN = re.compile(r"[A-Za-z]+|\d+[A-Za-z]*|[^A-Za-z\d]+")


def readable(ident: str) -> str:
    """A readable default label for an id: underscores and dashes become spaces, codes
    become capitals, the first word is capitalised; ids with capitals are kept as written."""
    if any(c.isupper() for c in ident):
        return ident.replace("_", " ")
    words = [w for w in re.split(r"[_\-\s]+", ident) if w]
    out = []
    for i, word in enumerate(words):
        prefix = re.match(r"[a-z]*", word).group(0)  # type: ignore[union-attr]
        if word in _MIXED:
            out.append(_MIXED[word])
        elif word in _CODES or prefix in _CODES or (len(word) <= 4 and any(c.isdigit() for c in word)):
            out.append(word.upper())
        elif i == 0:
            out.append(word[0].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out) if out else ident


def label_of(ident: str, label: str | None = None) -> str:
    """The label a reader sees: the scenario's ``label:`` when given, else ``readable(ident)``;
    control characters removed."""
    return printable(label) if label else printable(readable(ident))


_CONTROL = ({c: None for c in range(32) if c not in (9, 10)} | {127: None} | {c: None for c in range(0x80, 0xA0)}
            # bidi controls reorder what a reader sees ("\u202egnp.exe" shows as "exe.png")
            | {c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def printable(text: str) -> str:
    """``text`` without control characters (a bell or escape in a label would reach a
    terminal, a font without the glyph, or a PDF as garbage)."""
    return text.translate(_CONTROL)
