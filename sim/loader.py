"""Scenario files in, a validated ``Scenario`` out, or every problem with its position.

The stages, each taking the previous one's output:

1. ``extends``: read each file of the ``extends`` chain safely (``yamlsource``) and
   deep-merge child over parent, carrying positions along;
2. this module: validate the merged document with the pydantic schema (``schema``) and
   turn its errors into positioned problems;
3. ``crossrefs``: check ids across the document, then the windows and matched lanes of
   shocks and policies on the validated scenario.

Problems from all stages are collected and raised together as one ``ScenarioError``.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import get_args, get_origin

from pydantic import BaseModel, ValidationError

from .crossrefs import CrossRefs, lever_problems, lever_warnings
from .errors import Problem, ScenarioError
from .extends import SourceFile, display_path, read_chain
from .policies import POLICY_TYPES
from .problems import Suggester, dotted, locate, one_line
from .schema import LOAD_WARNINGS_KEY, Scenario
from .shocks import SHOCK_TYPES
from .yamlsource import PosNode

# contract types (scenario-format.md, section 7) that later versions implement
CONTRACT_TYPES = {"export_ban", "export_license", "entity_list", "capacity_loss", "yield_shock",
                  "demand_change", "service_ban", "stockpile", "stockpile_release",
                  "capacity_expansion", "new_lane"}
PLANNED_TYPES = CONTRACT_TYPES - set(SHOCK_TYPES) - set(POLICY_TYPES)


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models a field's annotation can hold, through ``Optional``, unions,
    ``Annotated``, lists and mappings."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += [m for m in _models_in(arg) if m not in found]
    return found


def _holds_items(annotation: object) -> bool:
    """Whether the annotation is (or may be) a list or mapping of models, so that the
    next path segment is an index or a key (a node id), not a field name."""
    if get_origin(annotation) in (list, dict):
        return bool(_models_in(annotation))
    return any(_holds_items(arg) for arg in get_args(annotation))


def _type_tag(model: type[BaseModel]) -> object:
    """The ``type`` a shock or policy model is chosen by, or None."""
    field = model.model_fields.get("type")
    tags = get_args(field.annotation) if field is not None else ()
    return tags[0] if len(tags) == 1 else None


def _model_keys(path: list, data: dict) -> list[str]:
    """Field names allowed at the mapping that holds ``path[-1]``, for suggestions: the
    schema's models are followed down the path (a shock or policy by its ``type``)."""
    models: list[type[BaseModel]] = [Scenario]
    here: object = data
    item_key = False  # the next segment is a list index or a mapping key
    for seg in path[:-1]:
        if not item_key:
            field = next((f for m in models for n, f in m.model_fields.items() if (f.alias or n) == seg), None)
            if field is None:
                return []
            models, item_key = _models_in(field.annotation), _holds_items(field.annotation)
        else:
            item_key = False
        if isinstance(here, dict):
            here = here.get(seg)
        elif isinstance(here, list) and isinstance(seg, int) and 0 <= seg < len(here):
            here = here[seg]
        else:
            here = None
        if not item_key and len(models) > 1 and isinstance(here, dict) and isinstance(here.get("type"), str):
            models = [m for m in models if _type_tag(m) == here["type"]] or models
        if not models:
            return []
    names = [f.alias or n for m in models for n, f in m.model_fields.items()]
    if len(path) == 1:
        names += ["extends", "without"]
    return list(dict.fromkeys(names))


def _pydantic_problems(exc: ValidationError, data: dict, pos: PosNode, suggest: Suggester) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path, value, node, complete = locate(err["loc"], data, pos)
        at = node.at
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "extra_forbidden" and path:
            key = path[-1]
            parent_pos = locate(tuple(path[:-1]), data, pos)[2]
            at = parent_pos.keys.get(key, at)
            msg = f"unknown key '{key}'{suggest(key, _model_keys(path, data))}"
        elif kind == "missing" and path:
            msg = f"missing required key '{path[-1]}'"
            path = path[:-1]
        elif kind == "union_tag_invalid":
            registry = SHOCK_TYPES if path and path[0] == "shocks" else POLICY_TYPES
            tag = err["ctx"]["tag"]
            what = path[0][:-1] if path else "item"
            if tag in PLANNED_TYPES:
                msg = (f"{what} type '{tag}' is part of the scenario format but not implemented in this version; available: "
                       f"{', '.join(registry) or 'none yet'}")
            else:
                msg = f"unknown {what} type '{tag}'{suggest(tag, registry)}; known types: {', '.join(registry)}"
            node = (node.child("type") if isinstance(node, PosNode) else None) or node
            at = node.at
        elif kind == "union_tag_not_found":
            msg = f"missing 'type' (one of: {', '.join(SHOCK_TYPES if path and path[0] == 'shocks' else POLICY_TYPES)})"
        elif kind in ("dict_type", "model_type"):
            msg = f"expected a mapping (key: value), got {type(value).__name__ if complete else 'something else'}"
        where = dotted(path)
        problems.append(Problem(at.file, at.line, at.col, f"{where}: {msg}" if where else msg))
    return problems


def load_scenario(path: str | os.PathLike, search_paths: Sequence[str | os.PathLike] = ()) -> Scenario:
    """Load, merge, validate and cross-check a scenario file.

    ``extends`` may only reach files under the folder of ``path`` or under one of
    ``search_paths``. Raises ``ScenarioError`` listing every problem with its position.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise ScenarioError([Problem(display_path(path), 1, 1, "no such scenario file" if not path.exists() else "not a "
                                                                                                                     "file")])
    except OSError as exc:  # e.g. a name too long for the file system
        raise ScenarioError([Problem(display_path(path), 1, 1, f"cannot read file: {exc.strerror or exc}")]) from None
    real = Path(os.path.realpath(path))
    roots = [os.path.realpath(real.parent)] + [os.path.realpath(p) for p in search_paths]
    problems: list[Problem] = []
    sources: list[SourceFile] = []
    broken: list[str] = []
    merged = read_chain(real, roots, [str(real)], sources, problems, broken)
    if merged is None or broken:
        # without its parent the document is incomplete: checking it would only add
        # spurious "missing key" and "unknown node" lines
        raise ScenarioError([one_line(p) for p in problems])
    data, pos = merged
    # values the reader rejected (e.g. a forbidden tag) became null; don't report them twice
    rejected = {(p.file, p.line, p.col) for p in problems}
    checks: list[Problem] = []
    scenario = None
    suggest = Suggester()
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        checks.extend(_pydantic_problems(exc, data, pos, suggest))
    checks.extend(CrossRefs(data, pos, suggest).check())
    if scenario is not None and not problems and not checks:
        checks.extend(lever_problems(scenario, data, pos))
    problems.extend(p for p in checks if (p.file, p.line, p.col) not in rejected)
    if problems or scenario is None:  # no problem found means the schema accepted the file
        raise ScenarioError([one_line(p) for p in problems])
    # kept out of pydantic's private attributes, which == compares: a scenario must equal
    # the same scenario loaded back from its resolved copy. pydantic ignores non-field
    # entries of __dict__ in == (as it does for functools.cached_property values).
    scenario.__dict__[_SOURCES_KEY] = tuple(sources)
    scenario.__dict__[LOAD_WARNINGS_KEY] = tuple(lever_warnings(data, pos))
    return scenario


_SOURCES_KEY = "_chipsim_sources"


def scenario_sources(scenario: Scenario) -> tuple[SourceFile, ...]:
    """Files read to build ``scenario`` (empty for scenarios built in Python)."""
    return scenario.__dict__.get(_SOURCES_KEY, ())

