"""Numbers and units as a reader expects them: three significant figures with thousands
separators, SI prefixes, compute in EFLOPS or H100-equivalents, dates as "4 Apr 2025".

Pure string formatting: no pandas, no matplotlib. Charts use ``plain_tick`` so axes never
show a ``1e9`` offset.
"""
from __future__ import annotations

import datetime as _dt
import math
import re

from .labels import printable

# dense BF16 throughput of one Nvidia H100 SXM, in TFLOPS (NVIDIA H100 datasheet, 2023)
H100_TFLOPS_BF16 = 989.0
_SI = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
_FLOPS_PREFIX = {"tflops": 1e12, "pflops": 1e15, "eflops": 1e18, "gflops": 1e9, "flops": 1.0}


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def sig(x: float | None, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures with thousands separators, trailing zeros
    dropped: 2834.6 -> "2,830", 0.012345 -> "0.0123", 0.25 -> "0.25"; "n/a" when missing."""
    if _missing(x):
        return "n/a"
    x = float(x)  # type: ignore[arg-type]
    if math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = digits - 1 - magnitude
    rounded = round(x, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > magnitude:  # 999.6 -> 1,000
        magnitude += 1
        decimals -= 1
    if decimals <= 0:
        return f"{round(rounded):,}"
    return f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")


def compact(x: float | None, digits: int = 3) -> str:
    """``sig`` with millions and billions in words, for narrow table cells: 6.73e6 -> "6.73 million"."""
    if _missing(x) or abs(float(x)) < 1e6:  # type: ignore[arg-type]
        return sig(x, digits)
    value = float(x)  # type: ignore[arg-type]
    if abs(value) >= 1e9:
        return f"{sig(value / 1e9, digits)} billion"
    return f"{sig(value / 1e6, digits)} million"


def signed(x: float | None, digits: int = 3) -> str:
    """``sig`` with an explicit sign: "+2,830", "-12.5", "0"."""
    text = sig(x, digits)
    if _missing(x) or x == 0 or text.startswith("-"):
        return text
    return "+" + text


def percent(x: float | None, digits: int = 3) -> str:
    """A fraction as a percentage to ``digits`` significant figures: 0.9234 -> "92.3%"."""
    if _missing(x):
        return "n/a"
    return sig(100.0 * float(x), digits) + "%"  # type: ignore[arg-type]


def si(x: float | None, unit: str = "", digits: int = 3) -> str:
    """``x`` with an SI prefix: si(1.23e18, "FLOPS") -> "1.23 EFLOPS"; below 1,000 no prefix."""
    if _missing(x):
        return "n/a"
    value = float(x)  # type: ignore[arg-type]
    for factor, prefix in _SI:
        if abs(value) >= factor * 0.9995:
            return f"{sig(value / factor, digits)} {prefix}{unit}".rstrip()
    return f"{sig(value, digits)} {unit}".rstrip()


def is_compute(unit: str) -> bool:
    """Whether ``unit`` is a compute measure such as ``tflops_bf16``."""
    return unit.split("_")[0].lower() in _FLOPS_PREFIX


def flops(value: float, unit: str) -> float:
    """A quantity in a compute measure (``tflops_bf16``) in FLOPS."""
    return value * _FLOPS_PREFIX[unit.split("_")[0].lower()]


def h100_equivalents(value: float, unit: str) -> float:
    """A quantity in a compute measure, in H100-equivalents (dense BF16)."""
    return flops(value, unit) / (H100_TFLOPS_BF16 * 1e12)


def quantity(x: float | None, unit: str, digits: int = 3) -> str:
    """A quantity in its unit as prose: "2,830 t"; compute measures as SI FLOPS with the
    H100-equivalents: "1.23 EFLOPS (1,240 H100-equivalents)"."""
    if _missing(x):
        return "n/a"
    if is_compute(unit):
        value = float(x)  # type: ignore[arg-type]
        return f"{si(flops(value, unit), 'FLOPS', digits)} ({sig(h100_equivalents(value, unit), digits)} H100-equivalents)"
    return f"{sig(x, digits)} {unit_word(unit)}".rstrip()


def unit_word(unit: str) -> str:
    """The unit as a reader writes it: compute measures become "TFLOPS (BF16)"; control
    characters dropped (units come from scenario files)."""
    unit = printable(unit)
    if is_compute(unit):
        head, _, tail = unit.partition("_")
        return f"{head.upper().replace('FLOPS', 'FLOPS')}" + (f" ({tail.upper()})" if tail else "")
    return unit


def plain_tick(x: float, _pos: object = None) -> str:
    """An axis tick label without offsets or scientific notation: 1234567 -> "1.23M"."""
    if x == 0:
        return "0"
    if abs(x) >= 1e4:
        return si(x, "", 3).replace(" ", "")
    return sig(x, 3)


def date_text(day: _dt.date) -> str:
    """A date as "4 Apr 2025" (no leading zero)."""
    return f"{day.day} {day:%b %Y}"


def days_text(n: float | None) -> str:
    """A number of days: "1 day", "45 days", "n/a"."""
    if _missing(n):
        return "n/a"
    return "1 day" if n == 1 else f"{sig(n)} days"


_DURATION_WORDS = {"wd": "working days", "d": "days", "w": "weeks", "m": "months", "y": "years"}


def duration_text(text: str) -> str:
    """A written duration, date or rate in words: "45wd" -> "45 working days", "6m" ->
    "6 months", "2025-10-09" -> "9 Oct 2025", "1200/month" -> "1,200 per month"; other
    text is returned as it is."""
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*(wd|d|w|m|y)\s*", text)
    if m:
        number = float(m.group(1))
        word = _DURATION_WORDS[m.group(2)]
        if number == 1:
            word = word[:-1]
        return f"{sig(number)} {word}"
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if m:
        return date_text(_dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*", text)
    if m:
        return f"{sig(float(m.group(1)))} per {m.group(2)}"
    return text
