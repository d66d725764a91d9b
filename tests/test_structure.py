"""Structure limits of the package (issue 11): no import cycle inside ``sim/`` (imports at
module level and inside functions alike; those under ``if TYPE_CHECKING:`` excepted), no
function longer than 80 lines, no module longer than 500 lines.

The import graph is built from the source with ``ast``: ``from .x import y`` is an edge to
``sim.x`` (or to ``sim.x.y`` when that is a module); importing a submodule is not counted as
importing its parent package, as in pydeps and import-linter.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sim"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST):
    """Import nodes that run at some point (module level or in a function body)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``sim`` modules it imports (at run time)."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]
            for target in targets:
                while target and target not in MODULES:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_sees_a_cycle():
    # the checker itself: a -> b -> c -> a is one cycle, d hangs off it
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_sim():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("name", sorted(MODULES))
def test_function_and_module_length(name):
    path = MODULES[name]
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines (limit {MAX_MODULE_LINES})"
    long = [(f.name, f.end_lineno - f.lineno + 1) for f in _functions(ast.parse(text))
            if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def _protocol_members() -> set[str]:
    from sim.effects import LeverWorld

    names = set(getattr(LeverWorld, "__annotations__", {}))
    names |= {n for n in vars(LeverWorld) if not n.startswith("_")}
    return names


@pytest.mark.parametrize("module", ["sim.shocks", "sim.tradeshocks", "sim.generallicence", "sim.policies"])
def test_effects_touch_the_world_only_through_the_protocol(module):
    """Every ``world.X`` in the lever modules names a ``LeverWorld`` member."""
    allowed = _protocol_members()
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    used = {(node.attr, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "world"}
    outside = sorted((line, attr) for attr, line in used if attr not in allowed)
    assert used, f"{module}: no world access found (the check would be vacuous)"
    assert not outside, f"{module}: world attributes outside LeverWorld: {outside}"


def test_the_world_implements_the_protocol():
    from sim.engine.world import World

    missing = sorted(n for n in _protocol_members() - {"horizon"} if not callable(getattr(World, n, None)))
    assert not missing, f"World lacks LeverWorld members: {missing}"


# The pipeline's layers, bottom first (docs/architecture.md draws them). A module may
# import its own layer and the layers below it, never a layer above.
LAYERS = {
    "foundations": ["sim._version", "sim.labels", "sim.units", "sim.sanitize", "sim.safefs", "sim.errors",
                    "sim.quantities", "sim.distributions", "sim.fab", "sim.effects",
                    "sim.metrics"],
    "scenario language": ["sim.yamlsource", "sim.fields", "sim.paramfields", "sim.product", "sim.selectorfields", "sim.selectors", "sim.leverspec", "sim.tradeshocks",
                          "sim.generallicence", "sim.shocks", "sim.policies", "sim.behaviour", "sim.schema", "sim.jsonschema", "sim.extends",
                          "sim.triggers", "sim.problems", "sim.crossrefs",
                          "sim.loader"],
    "model": ["sim.resolution", "sim.reportedseries", "sim.network", "sim.replication"],
    "engine": ["sim.engine", "sim.engine.*"],
    "analysis": ["sim.statistics", "sim.scoring", "sim.inputlabels", "sim.provenance", "sim.leftovers", "sim.atomicfolder", "sim.rundir", "sim.futures",
                 "sim.robustness", "sim.discovery", "sim.sensitivity"],
    "reporting": ["sim.reporting", "sim.reporting.*"],
    "experiments": ["sim.executors", "sim.results", "sim.experiment", "sim.comparison", "sim.sweep", "sim.memory",
                    "sim.exploration", "sim.exploresave", "sim.drivers", "sim.driverssave",
                    "sim.comparedrivers"],
    "interface": ["sim.cli", "sim.cliout", "sim.explorecmd", "sim.driverscmd", "sim", "sim.__main__"],
}


def layer_of(module: str) -> int:
    for rank, patterns in enumerate(LAYERS.values()):
        for pattern in patterns:
            if module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                return rank
    raise KeyError(module)


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if not any(
        m == p or (p.endswith(".*") and m.startswith(p[:-1])) for ps in LAYERS.values() for p in ps)]
    assert not unplaced, f"place these modules in a layer (tests/test_structure.py, docs/architecture.md): {unplaced}"


def test_layers_import_only_downwards():
    names = list(LAYERS)
    upward = [f"{m} ({names[layer_of(m)]}) imports {t} ({names[layer_of(t)]})"
              for m, targets in import_graph().items() for t in sorted(targets) if layer_of(t) > layer_of(m)]
    assert not upward, "imports against the layering: " + "; ".join(upward)
