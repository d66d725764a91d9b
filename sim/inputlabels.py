"""A reader's name for an input path of a scenario document (``nodes.x.demand.growth`` ->
"X: demand growth"), shared by the drivers and the exploration briefings."""
from __future__ import annotations

import datetime as _dt

from .labels import readable
from .units import date_text

# field paths (below a node or a product) whose words alone would not read well
_FIELD_WORDS = {
    "fab.die_area_mm2": "die area (mm2)", "fab.wafer_diameter_mm": "wafer diameter (mm)",
    "fab.edge_exclusion_mm": "edge exclusion (mm)", "fab.yield": "fixed yield",
    "fab.d0_per_cm2": "defect density D0 (per cm2)", "fab.d0_per_cm2.start": "defect density D0 on day 0 (per cm2)",
    "fab.d0_per_cm2.end": "defect density D0 it tends to (per cm2)", "fab.d0_per_cm2.halflife": "D0 learning half-life (days)",
    "price": "base price", "market.elasticity": "price elasticity of demand",
    "market.max_multiplier": "cap on the price multiplier", "market.window_days": "price window (days)",
}


def input_label(path: str, doc: dict) -> str:
    """A reader's name for an input path: ``nodes.cn_ascend_910c.inventory.hbm_stack`` ->
    "CN ascend 910c: opening stock of HBM stack"; a shock's or policy's by its name."""
    parts = path.split(".")
    if parts[0] == "nodes" and len(parts) >= 3 and isinstance(doc.get("nodes"), dict) and parts[1] in doc["nodes"]:
        node = doc["nodes"][parts[1]]
        who = (node.get("label") if isinstance(node, dict) else None) or readable(parts[1])
        rest = parts[2:]
        if rest[0] == "inventory" and len(rest) == 2:
            return f"{who}: opening stock of {readable(rest[1])}"
        if rest[0] == "equipment" and len(rest) == 3:
            return f"{who}: {readable(rest[1])} {rest[2].replace('_', ' ')}"
        words = _FIELD_WORDS.get(".".join(rest))
        return f"{who}: {words or ' '.join(p.replace('_', ' ') for p in rest)}"
    if parts[0] == "products" and len(parts) >= 3 and isinstance(doc.get("products"), dict) and parts[1] in doc["products"]:
        product = doc["products"][parts[1]]
        what = (product.get("label") if isinstance(product, dict) else None) or readable(parts[1])
        field = ".".join(parts[2:])
        return f"{what}: {_FIELD_WORDS.get(field) or field.replace('.', ' ').replace('_', ' ')}"
    if parts[0] == "lanes" and len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(doc.get("lanes") or []):
        lane = doc["lanes"][int(parts[1])]
        ends = " -> ".join(readable(str(lane.get(k))) for k in ("from", "to")) if isinstance(lane, dict) else parts[1]
        return f"lane {ends}: {' '.join(p.replace('_', ' ') for p in parts[2:])}"
    if parts[0] in ("shocks", "policies") and len(parts) >= 3 and parts[1].isdigit():
        items = doc.get(parts[0]) or []
        item = items[int(parts[1])] if int(parts[1]) < len(items) else {}
        who = item.get("name") if isinstance(item, dict) else None
        field = _step_words(item, parts[2:]) or " ".join(p.replace("_", " ") for p in parts[2:])
        return f"{who or parts[0][:-1] + ' ' + parts[1]}: {field}"
    return path


def _when(value: object) -> str:
    """A step's ``from`` as a reader says it: "2 Jun 2025" for a date, "day 30" for a day
    number, other day references (``6m``) as written."""
    if isinstance(value, _dt.date):
        return date_text(value)
    text = str(value)
    if text.isdigit():
        return f"day {text}"
    try:
        return date_text(_dt.date.fromisoformat(text))
    except ValueError:
        return text


def _step_words(item: object, rest: list[str]) -> str | None:
    """Words for one step of a stepped field (``approval_rate.1.rate`` -> "approval rate from
    2 Jun 2025"), or None when ``rest`` is not a step of a list-valued field."""
    if not (isinstance(item, dict) and len(rest) == 3 and rest[1].isdigit()):
        return None
    steps = item.get(rest[0])
    k = int(rest[1])
    if not (isinstance(steps, list) and k < len(steps) and isinstance(steps[k], dict)):
        return None
    field = rest[0].replace("_", " ")
    if rest[2] == "from":
        return f"{field}: start of step {k + 1}"
    if "from" in steps[k]:
        return f"{field} from {_when(steps[k]['from'])}"
    later = [s for s in steps[k + 1:] if isinstance(s, dict) and "from" in s]
    return f"{field} until {_when(later[0]['from'])}" if later else field
