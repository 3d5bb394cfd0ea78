"""The `dragonrec` package has no import cycles between its modules (top-level imports only).

Imports inside functions and under `if TYPE_CHECKING:` are left out: they do not run when a module is imported, and
a function-level import is the documented way out where a cycle is inherent (Celery task dispatch).
"""

from __future__ import annotations

import ast
from pathlib import Path

import dragonrec

ROOT = Path(dragonrec.__file__).resolve().parent
PACKAGE = "dragonrec"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Modules imported when `module` is imported: statements at module level (also inside if/try, not functions)."""
    found: set[str] = set()
    base = module if is_package else module.rpartition(".")[0]

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                    target = f"{anchor}.{node.module}" if node.module else anchor
                else:
                    target = node.module or ""
                found.add(target)
                # `from pkg import mod` imports the submodule `pkg.mod` when there is one.
                found.update(f"{target}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(tree.body)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in ROOT.rglob("*.py") if "migrations" not in path.parts}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = _top_level_imports(tree, module, path.name == "__init__.py")
        edges: set[str] = set()
        for target in targets:
            if target == module or not target.startswith(PACKAGE):
                continue
            # Importing `a.b.c` runs `a/__init__`, `a/b/__init__` too; only project modules count.
            if target in files:
                edges.add(target)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each with one concrete cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0

    def strongconnect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)

    cycles = []
    for component in components:
        start = min(component)
        # Shortest path back to `start` inside the component (BFS).
        previous: dict[str, str] = {}
        frontier = [start]
        found = None
        while frontier and found is None:
            nxt = []
            for node in frontier:
                for succ in sorted(graph[node] & component):
                    if succ == start:
                        found = node
                        break
                    if succ not in previous:
                        previous[succ] = node
                        nxt.append(succ)
                if found:
                    break
            frontier = nxt
        path = [found]
        while path[-1] != start:
            path.append(previous[path[-1]])
        cycles.append([*reversed(path), start])
    return cycles


def test_the_graph_sees_known_edges():
    # given the real package
    graph = import_graph()

    # then a top-level import is an edge, a function-level one is not, and the whole package is there
    assert "dragonrec.recommender.services.artifacts" in graph["dragonrec.recommender.services.students"]
    assert "dragonrec.recommender.tasks" not in graph["dragonrec.recommender.services.impressions"]
    assert len(graph) > 50


def test_a_cycle_is_found_and_printed():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}

    assert find_cycles(graph) == [["p.a", "p.b", "p.c", "p.a"]]


def test_no_import_cycles():
    cycles = find_cycles(import_graph())

    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)
