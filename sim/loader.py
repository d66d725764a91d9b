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

from pydantic import ValidationError

from .behaviour import AllocationRule, MakeToStock
from .crossrefs import CrossRefs, lever_problems, lever_warnings
from .errors import Problem, ScenarioError
from .extends import SourceFile, display_path, read_chain
from .policies import POLICY_TYPES
from .problems import Suggester, dotted, locate, one_line
from .schema import LOAD_WARNINGS_KEY, Demand, Headline, Lane, Node, Product, Reorder, Scenario
from .shocks import SHOCK_TYPES
from .yamlsource import PosNode

# contract types (scenario-format.md, section 7) that later versions implement
CONTRACT_TYPES = {"export_ban", "export_license", "entity_list", "capacity_loss", "yield_shock",
                  "demand_change", "service_ban", "stockpile", "stockpile_release",
                  "capacity_expansion", "new_lane"}
PLANNED_TYPES = CONTRACT_TYPES - set(SHOCK_TYPES) - set(POLICY_TYPES)


def _model_keys(path: list, data: dict) -> list[str]:
    """Field names allowed at the mapping that holds ``path[-1]``, for suggestions."""
    head = path[:-1]

    def names(model) -> list[str]:
        return [f.alias or n for n, f in model.model_fields.items()]

    if len(head) == 0:
        return names(Scenario) + ["extends", "without"]
    if head[0] == "products" and len(head) == 2:
        return names(Product)
    if head[0] == "nodes" and len(head) == 2:
        return names(Node)
    if head[0] == "nodes" and len(head) == 3 and head[2] == "reorder":
        return names(Reorder)
    if head[0] == "nodes" and len(head) == 3 and head[2] == "demand":
        return names(Demand)
    if head[0] == "nodes" and len(head) == 3 and head[2] in ("make_to_stock", "allocation"):
        return names(MakeToStock if head[2] == "make_to_stock" else AllocationRule)
    if head[0] == "lanes" and len(head) == 2:
        return names(Lane)
    if head[0] == "headlines" and len(head) == 2:
        return names(Headline)
    if head[0] in ("shocks", "policies") and len(head) == 2:
        registry = SHOCK_TYPES if head[0] == "shocks" else POLICY_TYPES
        try:
            kind = data[head[0]][head[1]].get("type")
        except (KeyError, IndexError, AttributeError, TypeError):
            kind = None
        if isinstance(kind, str) and kind in registry:
            return names(registry[kind])
    return []


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

