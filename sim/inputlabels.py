"""A reader's name for an input path of a scenario document (``nodes.x.demand.growth`` ->
"X: demand growth"), shared by the drivers and the exploration briefings."""
from __future__ import annotations

from .labels import readable

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
        return f"{who or parts[0][:-1] + ' ' + parts[1]}: {' '.join(p.replace('_', ' ') for p in parts[2:])}"
    return path
