"""The uncertain inputs of an exploration and the futures sampled over them.

``--vary PATH=DIST`` names a numeric field of the resolved scenario by its dotted path
(as ``chipsim sweep``: ``shocks.2.approval_rate.0.rate``, ``nodes.eu_magnet_users.demand.growth``)
and its distribution over futures:

- ``PATH=LOW:HIGH``: uniform (numbers, or dates ``YYYY-MM-DD:YYYY-MM-DD``, in whole days);
- ``PATH=uniform(LOW,HIGH)``, ``triangular(LOW,MODE,HIGH)``, ``normal(MEAN,SD)``,
  ``lognormal(MEAN,SD)``, ``poisson(MEAN)``;
- ``PATH`` alone: the distribution the scenario file already gives there.

Without any ``--vary`` every distribution of the base file is an input. The distributions
that name one ``shared`` draw are one input: its lead (the first in document order) is
varied and every other member is set at the same quantile (the opposite one where it says
``opposite``), as a replication draws them. Futures are a
Latin hypercube on the unit cube (scipy.stats.qmc, seeded from the run's SeedSequence)
mapped through each input's inverse distribution function; in each future the input is
fixed at its value for every replication and every option.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError
from scipy import stats
from scipy.stats import qmc

from .distributions import DIST_TYPES, NON_NUMERIC_KEYS
from .errors import ChipsimUserError, did_you_mean

EXPLORE_STREAM = 0x45585052  # "EXPR": the futures' own branch of the run's SeedSequence
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*$")
_DATES = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*:\s*(\d{4}-\d{2}-\d{2})\s*$")
_CALL = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$")
_PARAMS = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "normal": ("mean", "sd"),
           "lognormal": ("mean", "sd"), "poisson": ("mean",)}
_SUFFIXED = re.compile(rf"^\s*({_NUMBER})\s*([a-z]*)\s*$")


@dataclass(frozen=True)
class Input:
    """One uncertain input: a dotted ``path`` into the scenario document, its ``dist``
    (a ``sim.distributions`` distribution; for a date input over proleptic ordinals),
    and the unit ``suffix`` its document value is written with (``wd``: working days)."""

    path: str
    dist: Any
    date: bool = False
    suffix: str = ""
    group: str = ""                       # the shared draw this value belongs to ("" for none)
    opposite: bool = False                # it takes 1 - u of the group's quantile u
    linked: tuple[Input, ...] = ()        # the group's other members (on the lead only)

    @property
    def name(self) -> str:
        """The input's column name (a date input counts days after its earliest date)."""
        return f"{self.path} (days after {_dt.date.fromordinal(int(self.dist.low)).isoformat()})" if self.date else self.path

    def ppf(self, unit: np.ndarray) -> np.ndarray:
        """Values at the quantiles ``unit`` (in (0, 1)); a date input in whole days."""
        d = self.dist
        u = np.clip(np.asarray(unit, dtype=float), 1e-12, 1 - 1e-12)
        if d.dist == "uniform":
            out = d.low + u * (d.high - d.low)
        elif d.dist == "triangular":
            width = d.high - d.low
            out = np.full(u.shape, d.low) if width == 0 else stats.triang.ppf(u, (d.mode - d.low) / width, d.low, width)
        elif d.dist == "normal":
            out = stats.norm.ppf(u, d.mean, d.sd) if d.sd > 0 else np.full(u.shape, d.mean)
        elif d.dist == "lognormal":
            sigma2 = math.log1p((d.sd / d.mean) ** 2)
            out = stats.lognorm.ppf(u, math.sqrt(sigma2), scale=math.exp(math.log(d.mean) - sigma2 / 2))
        else:
            out = stats.poisson.ppf(u, d.mean)
        return np.round(out) if self.date else np.asarray(out, dtype=float)

    def cdf(self, value: float) -> float:
        """The quantile of ``value`` (uniform and triangular, the families a shared draw takes)."""
        d = self.dist
        if d.high == d.low:
            return 0.5
        if d.dist == "uniform":
            return float(np.clip((value - d.low) / (d.high - d.low), 0.0, 1.0))
        return float(stats.triang.cdf(value, (d.mode - d.low) / (d.high - d.low), d.low, d.high - d.low))

    def column(self, value: float) -> float:
        """The value as the table holds it (a date input: days after its earliest date)."""
        return float(value - self.dist.low) if self.date else float(value)

    def document_value(self, value: float) -> float | str:
        """The value as the scenario document writes it."""
        if self.date:
            return _dt.date.fromordinal(int(round(value))).isoformat()
        return f"{value:.10g}{self.suffix}" if self.suffix else float(value)


def _lookup(doc: Any, path: str, full: str | None = None) -> Any:
    """The value at ``path`` of ``doc``; errors name ``full`` (the whole --vary path)."""
    node = doc
    for depth, part in enumerate(path.split(".") if path else []):
        where = ".".join(path.split(".")[:depth]) or "the scenario"
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ChipsimUserError(f"--vary {full or path}: '{where}' has {len(node)} entries; '{part}' is not one")
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                raise ChipsimUserError(f"--vary {full or path}: no '{part}' under '{where}'"
                                       f"{did_you_mean(part, [str(k) for k in node])}")
            node = node[part]
        else:
            raise ChipsimUserError(f"--vary {full or path}: '{where}' is a value, not a section")
    return node


def _dist(path: str, kind: str, params: dict, source: str) -> Any:
    if kind not in DIST_TYPES:
        raise ChipsimUserError(f"--vary {source}: unknown distribution '{kind}'{did_you_mean(kind, list(DIST_TYPES))}; "
                               f"use one of: {', '.join(DIST_TYPES)}")
    try:
        return DIST_TYPES[kind].model_validate({"dist": kind, **params})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ChipsimUserError(f"--vary {source}: {err['msg'].removeprefix('Value error, ')}") from None


def _own(path: str, doc: dict, source: str) -> Input:
    """The distribution the scenario document gives at ``path`` (numbers may carry a unit
    suffix such as ``45wd``; all of one distribution's must share it)."""
    value = _lookup(doc, path)
    if not isinstance(value, dict) or "dist" not in value:
        raise ChipsimUserError(f"--vary {source}: the scenario gives a fixed value there ({value!r}), not a distribution; "
                               "write PATH=LOW:HIGH or PATH=triangular(LOW,MODE,HIGH)")
    params: dict[str, float] = {}
    suffixes: set[str] = set()
    for key, raw in value.items():
        if key in NON_NUMERIC_KEYS:
            continue
        match = _SUFFIXED.match(str(raw))
        if not match:
            raise ChipsimUserError(f"--vary {source}: cannot read {key}={raw!r} of the scenario's distribution as a number")
        params[key] = float(match.group(1))
        suffixes.add(match.group(2))
    if len(suffixes) > 1:
        raise ChipsimUserError(f"--vary {source}: the scenario's distribution mixes units ({', '.join(sorted(suffixes))})")
    group = value.get("shared")
    return Input(path, _dist(path, str(value["dist"]), params, source), suffix=suffixes.pop() if suffixes else "",
                 group=group if isinstance(group, str) else "", opposite=bool(value.get("opposite")))


def _linked(inputs: list[Input]) -> list[Input]:
    """One input per shared draw: the first member leads and carries the others."""
    out: list[Input] = []
    groups: dict[str, list[Input]] = {}
    for inp in inputs:
        if inp.group:
            if inp.group not in groups:
                groups[inp.group] = []
                out.append(inp)
            groups[inp.group].append(inp)
        else:
            out.append(inp)
    return [dataclasses.replace(i, linked=tuple(groups[i.group][1:])) if i.group else i for i in out]


def parse_input(text: str, doc: dict) -> Input:
    """``PATH=DIST`` or ``PATH`` (the scenario's own distribution there) -> Input;
    ``doc`` is the base scenario's document, where ``PATH`` alone is looked up."""
    path, eq, spec = text.partition("=")
    path = path.strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*", path):
        raise ChipsimUserError(f"--vary {text!r}: '{path}' is not a dotted path such as shocks.0.approval_rate.0.rate")
    if not eq:
        own = _own(path, doc, text)
        return own if not own.group else next(i for i in scenario_inputs(doc) if i.group == own.group)
    try:
        shared = _lookup(doc, path, text)
    except ChipsimUserError:
        shared = None  # set_value names the missing path when the future is built
    if isinstance(shared, dict) and shared.get("shared"):
        raise ChipsimUserError(f"--vary {text!r}: the value at {path} is part of the shared draw '{shared['shared']}'; "
                               f"write --vary {path} without '=' to vary the whole draw, or break the link in the file")
    dates = _DATES.match(spec)
    if dates:
        try:
            low, high = (_dt.date.fromisoformat(dates.group(k)).toordinal() for k in (1, 2))
        except ValueError as exc:
            raise ChipsimUserError(f"--vary {text!r}: {exc}") from None
        if not low < high:
            raise ChipsimUserError(f"--vary {text!r}: the first date must be before the second")
        return Input(path, _dist(path, "uniform", {"low": low, "high": high}, text), date=True)
    ranged = _RANGE.match(spec)
    if ranged:
        low_f, high_f = float(ranged.group(1)), float(ranged.group(2))
        if not low_f < high_f:
            raise ChipsimUserError(f"--vary {text!r}: LOW must be below HIGH")
        return Input(path, _dist(path, "uniform", {"low": low_f, "high": high_f}, text))
    call = _CALL.match(spec)
    if not call:
        raise ChipsimUserError(f"--vary {text!r}: after '=' write LOW:HIGH, a date range, or a distribution such as "
                               "triangular(0.1,0.25,0.6)")
    kind, args = call.group(1), [a.strip() for a in call.group(2).split(",") if a.strip()]
    names = _PARAMS.get(kind)
    if names is None:
        _dist(path, kind, {}, text)  # raises, naming the known distributions
        raise AssertionError
    if len(args) != len(names) or not all(re.fullmatch(_NUMBER, a) for a in args):
        raise ChipsimUserError(f"--vary {text!r}: {kind} takes {len(names)} numbers ({', '.join(names)}), got "
                               f"'{call.group(2)}'")
    return Input(path, _dist(path, kind, {n: float(a) for n, a in zip(names, args, strict=True)}, text))


def _every_distribution(doc: Any, prefix: str = "") -> list[Input]:
    found: list[Input] = []
    if isinstance(doc, dict) and "dist" in doc:
        return [_own(prefix, _root(prefix, doc), prefix)]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        found += _every_distribution(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def scenario_inputs(doc: Any) -> list[Input]:
    """Every distribution the scenario document gives, as inputs (document order); the
    members of one shared draw are one input, led by the first."""
    return _linked(_every_distribution(doc))


def _root(path: str, value: dict) -> dict:
    """A document holding ``value`` at ``path`` (for reading one distribution in place)."""
    root: Any = value
    for part in reversed(path.split(".")):
        root = {part: root}
    return root


def design(inputs: Sequence[Input], n: int, seed: int) -> np.ndarray:
    """``n`` futures on the unit cube, a Latin hypercube seeded from the run's
    SeedSequence (its own branch, so the replications' streams are untouched)."""
    if n < 1:
        raise ChipsimUserError(f"--futures must be at least 1, got {n}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(EXPLORE_STREAM,)))
    return qmc.LatinHypercube(d=len(inputs), seed=rng).random(n)


def values_of(inputs: Sequence[Input], unit: np.ndarray) -> np.ndarray:
    """The inputs' values at the unit-cube points (one row per future)."""
    return np.column_stack([inp.ppf(unit[:, i]) for i, inp in enumerate(inputs)]) if len(inputs) else unit


def set_value(doc: dict, path: str, value: float | str) -> None:
    """Set ``path`` of ``doc`` to ``value`` in place; a distribution there is replaced."""
    parts = path.split(".")
    parent = _lookup(doc, ".".join(parts[:-1]), path) if len(parts) > 1 else doc
    last = parts[-1]
    if isinstance(parent, list):
        if not last.isdigit() or int(last) >= len(parent):
            raise ChipsimUserError(f"--vary {path}: '{'.'.join(parts[:-1])}' has {len(parent)} entries; '{last}' is not one")
        parent[int(last)] = value
        return
    if not isinstance(parent, dict):
        raise ChipsimUserError(f"--vary {path}: '{'.'.join(parts[:-1])}' is a value, not a section")
    if last not in parent:
        where = ".".join(parts[:-1]) or "the scenario"
        raise ChipsimUserError(f"--vary {path}: no '{last}' under '{where}'{did_you_mean(last, [str(k) for k in parent])}")
    current = parent[last]
    if isinstance(current, (list, bool)) or (isinstance(current, dict) and "dist" not in current):
        raise ChipsimUserError(f"--vary {path}: the value there is a section ({str(current)[:60]}), not a number")
    parent[last] = value


def applies(doc: dict, inp: Input) -> bool:
    """Whether ``inp``'s path names a value of ``doc`` (an option may lack a policy the base has)."""
    try:
        set_value(copy.deepcopy(doc), inp.path, inp.document_value(float(inp.dist.mean_value())))
    except ChipsimUserError:
        return False
    return True


def future_document(doc: dict, inputs: Sequence[Input], values: Sequence[float], use: Sequence[bool]) -> dict:
    """``doc`` with each input that ``use`` marks set to its value in this future; the
    other members of a shared draw at the lead's quantile (1 - it where they say opposite)."""
    out = copy.deepcopy(doc)
    for inp, value, on in zip(inputs, values, use, strict=True):
        if on:
            set_value(out, inp.path, inp.document_value(float(value)))
            if inp.linked:
                u = inp.cdf(float(value))
                u = 1.0 - u if inp.opposite else u
                for member in inp.linked:  # as a replication draws them (sim.replication.Streams.draw)
                    set_value(out, member.path, member.document_value(member.dist.quantile(1.0 - u if member.opposite else u)))
    return out


def value_text(inputs: Sequence[Input], column: str, value: float) -> str:
    """A table value as a reader reads it: a date input's as its date, an early fill
    rate (``fill_rate_day_<d>``) as a percentage, others to 3 significant figures."""
    for inp in inputs:
        if inp.name == column and inp.date:
            return str(inp.document_value(value + inp.dist.low))
    if column.startswith("fill_rate_day_"):
        return f"{100 * value:.1f}%"
    return f"{value:.3g}"
