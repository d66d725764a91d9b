"""The JSON Schema of a scenario file, for editors and ``chipsim schema``: the pydantic
models' schema with the distribution placeholders swapped for one shared definition and
the keys the ``extends`` chain consumes before validation (``extends``, ``without``)."""
from __future__ import annotations

from .fields import distribution_json_schema
from .schema import Scenario


def _swap_placeholders(node) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value.get("x-chipsim-distribution"):
                node[key] = {"$ref": "#/$defs/Distribution"}
            else:
                _swap_placeholders(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict) and value.get("x-chipsim-distribution"):
                node[i] = {"$ref": "#/$defs/Distribution"}
            else:
                _swap_placeholders(value)


def scenario_json_schema() -> dict:
    """JSON Schema of a scenario file (for editors and `chipsim schema`)."""
    schema = Scenario.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    dist = distribution_json_schema()
    defs = schema.setdefault("$defs", {})
    defs.update(dist.pop("$defs", {}))
    defs["Distribution"] = dist
    _swap_placeholders(schema)
    schema["properties"]["extends"] = {"type": "string", "description": "Parent scenario file, relative to this one; deep-merged "
                                                                        "under this file."}
    schema["properties"]["without"] = {"type": "array", "items": {"type": "string", "minLength": 1},
                                       "description": "Names of inherited shocks, policies or headlines to drop (needs extends)."}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "chipsim scenario"
    return schema
