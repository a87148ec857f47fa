"""The layers point one way (shared/DESIGN.md, "Layout"; issue 13), checked on the source.

Every ``import``/``from ... import`` of ``src/celltls`` is read with :mod:`ast` (inside functions
too, and ``importlib.import_module("literal")``):

- the AT core (``celltls.at``) imports nothing of celltls but itself, errors and transcripts;
- no dialect folder imports another dialect folder;
- nothing outside ``celltls.dialects.<name>`` imports that dialect (the registry finds plug-ins
  through entry points);
- no import cycle between modules (an import of one's own ancestor package does not count).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "celltls"
DIALECTS = PACKAGE / "dialects"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.args[0].value


@cache
def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for raw in _imported(path):
            if raw != "celltls" and not raw.startswith("celltls."):
                continue
            target = raw
            while target not in modules and "." in target:  # "from m import name"
                target = target.rpartition(".")[0]
            if target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def _dialect_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["celltls", "dialects"] and (DIALECTS / parts[2]).is_dir():
        return parts[2]
    return None


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "celltls.at.protocol" in graph and "celltls.dialects.registry" in graph
    assert "celltls.at.framing" in graph["celltls.at.protocol"]


def test_the_at_core_imports_nothing_above_it() -> None:
    allowed = ("celltls.at", "celltls.errors", "celltls.trace")
    bad = sorted(
        f"{m} -> {t}" for m, targets in _graph().items() if m.startswith("celltls.at")
        for t in targets if t != "celltls" and not t.startswith(allowed)
    )
    assert bad == []


def test_dialects_are_rooms() -> None:
    bad: list[str] = []
    for module, targets in _graph().items():
        own = _dialect_of(module)
        for target in targets:
            theirs = _dialect_of(target)
            if theirs is not None and theirs != own:
                bad.append(f"{module} -> {target}")
    assert sorted(bad) == []


def test_no_import_cycles() -> None:
    graph = _graph()
    edges = {
        m: {t for t in targets if t in graph and not m.startswith(t + ".")}
        for m, targets in graph.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("folder", sorted(p.name for p in DIALECTS.iterdir()
                                          if (p / "plugin.py").is_file()))
def test_each_dialect_is_declared_by_its_manifest(folder: str) -> None:
    import importlib

    info = importlib.import_module(f"celltls.dialects.{folder}.plugin").DIALECT
    from celltls.dialects import registry

    assert registry.get(info.name) is info
