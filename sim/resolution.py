"""Distributions in the fields the engine reads as plain numbers, drawn once per replication.

The engine draws capacities, demand, shares, stocks and cover itself, where it builds them
(``BuildContext.draw``). Every other numeric field that may be a distribution (a fab's die
area and defect density, tool counts, prices, market settings, fees, quotas, whole-day
delays, ...) is declared in its model's ``DRAWN`` tuple and drawn here, before the
replication's network is built: from the stream ``param:<path>``, the path as written in
the file (``nodes.cn_smic_n7_ascend.fab.d0_per_cm2.start``), so that every variant of a scenario
takes the same value in the same replication (common random numbers), and a shared draw
(``shared: NAME``) takes its replication's common quantile.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from .distributions import is_distribution
from .leverspec import stream_numbers
from .quantities import whole_days

# chooses the number a distribution takes: (distribution, path, low, high, whole days) -> value
Chooser = Callable[[Any, str, float, float, bool], float]


def _bounds_of(metadata: Any) -> tuple[float, float, bool] | None:
    """The range a ``param_type`` validator among ``metadata`` carries (None: no such validator)."""
    return next((b for meta in metadata if (b := getattr(getattr(meta, "func", None), "bounds", None))), None)


def _bounds_in(annotation: Any) -> tuple[float, float, bool] | None:
    if get_origin(annotation) is Annotated:
        return _bounds_of(annotation.__metadata__) or _bounds_in(get_args(annotation)[0])
    for arg in get_args(annotation):
        found = _bounds_in(arg)
        if found is not None:
            return found
    return None


@cache
def _drawn_fields(cls: type) -> dict[str, tuple[float, float, bool]]:
    """Field name -> its range (low, high, whole days) of the fields ``cls`` declares drawn;
    a name that is not a field, or a field without a parameter type, is a KeyError."""
    out = {}
    for name in {name for klass in cls.__mro__ for name in getattr(klass, "DRAWN", ())}:
        info = cls.model_fields[name]  # type: ignore[attr-defined]
        bounds = _bounds_of(info.metadata) or _bounds_in(info.annotation)
        if bounds is None:
            raise KeyError(f"{cls.__name__}.{name} is declared drawn but has no parameter type (sim.fields.param_type)")
        out[name] = bounds
    return out


@cache
def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, key as written in the file) of every field of ``cls``."""
    return tuple((name, info.alias or name) for name, info in cls.model_fields.items())  # type: ignore[attr-defined]


def _extras(model: BaseModel, path: str):
    """(path, key, range) of the free attributes a model lets be drawn (a product's)."""
    ranges = getattr(type(model), "DRAWN_EXTRAS", None)
    if ranges is None:
        return
    for key in model.model_extra or {}:
        yield f"{path}.{key}" if path else key, key, ranges.get(key, (-math.inf, math.inf, False))


def _prefixes(paths: tuple[str, ...]) -> frozenset[str]:
    parts: set[str] = set()
    for path in paths:
        bits = path.split(".")
        parts.update(".".join(bits[:k]) for k in range(1, len(bits) + 1))
    return frozenset(parts)


def _resolve_value(value: Any, where: str, choose: Chooser, wanted: frozenset[str] | None) -> Any:
    if (wanted is not None and where not in wanted) or is_distribution(value):
        return value
    if isinstance(value, BaseModel):
        return _resolve(value, where, choose, wanted)
    if isinstance(value, dict):
        new = {k: _resolve_value(v, f"{where}.{k}", choose, wanted) for k, v in value.items()}
        return new if any(new[k] is not value[k] for k in value) else value
    if isinstance(value, (list, tuple)):
        items = [_resolve_value(v, f"{where}.{i}", choose, wanted) for i, v in enumerate(value)]
        return type(value)(items) if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _resolve(model: BaseModel, path: str, choose: Chooser, wanted: frozenset[str] | None) -> BaseModel:
    """``model`` with the distributions of its drawn fields replaced by ``choose``'s
    numbers, below the paths in ``wanted`` (None: everywhere)."""
    cls = type(model)
    drawn = _drawn_fields(cls)
    changes = {}
    for where, key, bounds in _extras(model, path):
        if (wanted is None or where in wanted) and is_distribution(value := getattr(model, key)):
            if (new := choose(value, where, *bounds)) is not value:
                changes[key] = new
    for name, key in _keys(cls):
        where = f"{path}.{key}" if path else key
        if wanted is not None and where not in wanted:
            continue
        value = getattr(model, name)
        if name in drawn and is_distribution(value):
            new = choose(value, where, *drawn[name])
        else:
            new = _resolve_value(value, where, choose, wanted)
        if new is not value:
            changes[name] = new
    # the values were checked when the file was read; a copy skips validation by design
    return model.model_copy(update=changes) if changes else model


def drawn_paths(scenario: BaseModel) -> tuple[str, ...]:
    """Paths of the distributions a replication draws here (empty: nothing to draw)."""
    found: list[str] = []

    def note(dist: Any, path: str, *_: Any) -> Any:  # records the path, changes nothing
        found.append(path)
        return dist
    _resolve(scenario, "", note, None)
    return tuple(found)


def resolved(scenario: BaseModel, paths: tuple[str, ...], choose: Chooser) -> Any:
    """A copy of ``scenario`` in which the distributions at ``paths`` are numbers chosen by ``choose``."""
    return _resolve(scenario, "", choose, _prefixes(paths)) if paths else scenario


def _clip(x: float, low: float, high: float, whole: bool) -> float | int:
    x = min(max(x, low), high)
    if not whole:
        return x
    return max(whole_days(x), math.ceil(low)) if math.isfinite(low) else whole_days(x)


def central_value(dist: Any, path: str, low: float, high: float, whole: bool) -> float | int:
    """The distribution's mean, in range: the value that shapes a network no replication runs."""
    return _clip(dist.mean_value(), low, high, whole)


def stream_paths(scenario: Any) -> Callable[[str], str]:
    """The stream name of a drawn field's path: the path itself, except that a shock's or
    policy's position becomes its stream number (``leverspec.stream_numbers``), so that an
    item keeps its parent file's draws when ``without:`` drops an item before it."""
    moved = {}
    for kind in ("shocks", "policies"):
        for i, n in enumerate(stream_numbers(getattr(scenario, kind, ()) or ())):
            if n != i:
                moved[f"{kind}.{i}"] = f"{kind}.{n}"
    if not moved:
        return lambda path: path

    def rename(path: str) -> str:
        head, _, rest = path.partition(".")
        index, dot, tail = rest.partition(".")
        new = moved.get(f"{head}.{index}")
        return f"{new}{dot}{tail}" if new is not None else path
    return rename


def drawer(streams: Any, rename: Callable[[str], str] | None = None) -> Chooser:
    """A chooser that draws each distribution from the replication's stream ``param:<path>``
    (``rename``: the path's stream name, ``stream_paths``; None: the path itself)."""
    def draw(dist: Any, path: str, low: float, high: float, whole: bool) -> float | int:
        name = path if rename is None else rename(path)
        return _clip(streams.draw(dist, name, low, high), low, high, whole)
    return draw
