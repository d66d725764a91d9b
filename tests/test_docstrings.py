"""Every public function, class and method in ``sim/`` says what it is for.

Public means a name without a leading underscore: module-level functions and classes,
and the methods of public classes. Exempt: dunder methods (``__init__``, ``__repr__``...),
pydantic validators (decorated with ``field_validator`` or ``model_validator``; their
message is the documentation), ``@overload`` stubs, property setters and deleters, and
every method of a class whose name starts with ``_``. The check reads the source with
``ast`` (nothing is imported), so it also covers modules that are slow or awkward to import.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sim"
EXEMPT_DECORATORS = {"field_validator", "model_validator", "overload"}

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _decorator_names(node: Definition) -> set[str]:
    """The last dotted part of each decorator: ``@pydantic.field_validator("x")`` -> ``field_validator``;
    a setter ``@value.setter`` gives ``setter``."""
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _top_level(body: list[ast.stmt]):
    """Definitions at module level, including those under a module-level ``if`` or ``try``."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node
        elif isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level(block)


def _needs_docstring(node: Definition, *, method: bool) -> bool:
    name = node.name
    if name.startswith("_"):  # private, and dunders
        return False
    if isinstance(node, ast.ClassDef):
        return True
    decorators = _decorator_names(node)
    if decorators & EXEMPT_DECORATORS:
        return False
    return not (method and decorators & {"setter", "deleter"})


def undocumented(source: str, module: str) -> list[str]:
    """``module:line name`` for every public definition of ``source`` that lacks a docstring."""
    missing = []
    for node in _top_level(ast.parse(source).body):
        if _needs_docstring(node, method=False) and ast.get_docstring(node) is None:
            missing.append(f"{module}:{node.lineno} {node.name}")
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if (isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _needs_docstring(item, method=True)
                        and ast.get_docstring(item) is None):
                    missing.append(f"{module}:{item.lineno} {node.name}.{item.name}")
    return missing


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_checker_reports_only_the_undocumented_public_definitions():
    source = textwrap.dedent('''
        from pydantic import BaseModel, field_validator, model_validator

        def documented():
            """Has one."""

        def undocumented_function():
            pass

        def _private():
            pass

        class Model(BaseModel):
            """A documented class."""

            def __init__(self):
                pass

            def method(self):
                pass

            @field_validator("x")
            def check_x(cls, value):
                return value

            @model_validator(mode="after")
            def check_all(self):
                return self

        class _Hidden:
            def anything(self):
                pass
        ''')
    assert undocumented(source, "demo") == ["demo:7 undocumented_function", "demo:19 Model.method"]


def test_checker_finds_nothing_in_fully_documented_source():
    source = 'def f():\n    """Doc."""\n\n\nclass C:\n    """Doc."""\n\n    def m(self):\n        """Doc."""\n'
    assert undocumented(source, "demo") == []


def test_every_public_definition_in_sim_has_a_docstring():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert modules, f"no modules under {PACKAGE}"
    missing = [entry for path in modules
               for entry in undocumented(path.read_text(encoding="utf-8"), _module_name(path))]
    assert not missing, f"{len(missing)} public definitions without a docstring:\n" + "\n".join(missing)
