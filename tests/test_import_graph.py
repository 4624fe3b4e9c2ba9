"""The package's import graph has no circle, between modules or between its parts.

Every ``import`` of a ``colorizer`` module counts, also inside functions (a function-local import
hides a circle from Python's start-up, not from a reader). A module importing its own package
(``from colorizer.models import lite0`` runs ``colorizer/models/__init__.py`` first) is not an
edge. The parts are the subpackages (``colorizer.io``, ``colorizer.models``, ...) and the
top-level modules: with no circle among them, they stack in floors, and every import between
two parts goes from a higher floor to a lower one; the test prints that order when it fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "colorizer"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (its own ancestors left out)."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . import x
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def part_of(module: str) -> str:
    """The part a module belongs to: its subpackage, or itself at the top level."""
    pieces = module.split(".")
    if len(pieces) > 2 or (PACKAGE / pieces[-1]).is_dir():
        return ".".join(pieces[:2])
    return module


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(graph: dict[str, set[str]], component: list[str]) -> str:
    return "; ".join(f"{a} -> {', '.join(sorted(graph[a] & set(component)))}" for a in component)


def test_no_module_imports_in_a_circle():
    graph = import_graph()
    assert len(graph) > 20 and "colorizer.model" in graph
    found = circles(graph)
    assert not found, "import circles: " + " | ".join(_describe(graph, c) for c in found)


def test_the_parts_stack_in_floors():
    graph = import_graph()
    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        parts.setdefault(part_of(module), set()).update(
            part_of(t) for t in targets if part_of(t) != part_of(module))
    found = circles(parts)
    assert not found, "parts that import each other: " + " | ".join(
        _describe(parts, c) for c in found)
    # The model object sits above the architectures, the folder codec and the Hub, which never
    # import it (the circle this test was written against).
    for lower in ("colorizer.models", "colorizer.hub", "colorizer.hub.folder"):
        modules = [m for m in graph if m == lower or m.startswith(lower + ".")]
        for module in modules:
            assert "colorizer.model" not in graph[module], f"{module} imports colorizer.model"


def test_the_graph_sees_function_local_imports(tmp_path):
    """The walk counts an import inside a function (how the old circle hid)."""
    graph = import_graph()
    assert "colorizer.inference" in graph["colorizer.model"]  # imported inside colorize()


def test_only_the_cli_imports_the_archive_engine():
    """colorizer.archive (Ray, an optional extra) is a door of the CLI alone: no other module
    imports it, and it imports no door above the model and the io modules."""
    graph = import_graph()
    assert {m for m, targets in graph.items() if "colorizer.archive" in targets} == \
        {"colorizer.cli"}
    assert {part_of(t) for t in graph["colorizer.archive"]} <= {"colorizer.io", "colorizer.model"}
