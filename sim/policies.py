"""Policies: what a government or firm does. Same mechanism as shocks (``shocks.py``).

Policy types (stockpile, stockpile_release, capacity_expansion, new_lane) register here
as they are implemented; until one is, a ``policies:`` entry is reported as an error with
its position instead of being silently ignored.
"""
from __future__ import annotations

from typing import Any

from pydantic import PlainValidator, WithJsonSchema
from typing_extensions import Annotated

from .shocks import ShockSpec

POLICY_TYPES: dict[str, type[ShockSpec]] = {}


def _no_policy_types(value: Any):
    kind = value.get("type") if isinstance(value, dict) else None
    raise ValueError(
        f"policy type {kind!r} is part of the scenario format but not implemented in this "
        "version of chipsim; no policy types are available yet"
    )


Policy = Annotated[Any, PlainValidator(_no_policy_types), WithJsonSchema({"type": "object", "description": "A policy (none implemented yet)."})]
