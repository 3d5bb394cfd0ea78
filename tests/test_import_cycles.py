"""No import cycles among the `dragonrec` and `config` modules, counting every import: at module level, inside
functions and under `if TYPE_CHECKING:`.

A deferred or type-only import hides a cycle from Python's import machinery, not from a reader: the two modules still
know each other, cannot be understood or moved apart, and one refactor away from a circular-import error. Where a
module must reach another at run time without importing it (Celery task dispatch), it goes through a name
(`app.send_task`, `import_string`), not an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import config
import dragonrec

PACKAGES = ("dragonrec", "config")
ROOT = Path(dragonrec.__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every module `module` imports anywhere: module level, functions, classes, `if TYPE_CHECKING:` blocks."""
    found: set[str] = set()
    base = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
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
    return found


def project_files() -> dict[str, Path]:
    roots = [Path(dragonrec.__file__).resolve().parent, Path(config.__file__).resolve().parent]
    return {_module_name(path): path for root in roots for path in root.rglob("*.py") if "migrations" not in path.parts}


def import_graph() -> dict[str, set[str]]:
    files = project_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges: set[str] = set()
        for target in _imports(tree, module, path.name == "__init__.py"):
            # Importing `a.b.c` runs `a/__init__`, `a/b/__init__` too; only project modules count.
            if target != module and target.startswith(PACKAGES) and target in files:
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
    # given the real packages
    graph = import_graph()

    # then a top-level import is an edge, and so are a function-level one and one under TYPE_CHECKING
    assert "dragonrec.recommender.services.artifacts" in graph["dragonrec.recommender.services.students"]
    assert "dragonrec.recommender.services.recommendations" in graph["dragonrec.recommender.apis"]
    assert "dragonrec.recommender.conf" in graph["dragonrec.recommender.checks"]  # imported inside the check
    assert "dragonrec.recommender.ml.ann" in graph["dragonrec.recommender.services.students"]  # under TYPE_CHECKING
    assert "config.settings.base" in graph["config.settings.test"]
    assert len(graph) > 50


def test_deferred_and_type_only_imports_count() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from p import b\n"
        "def f():\n    import p.c\n"
        "class K:\n    def g(self):\n        from . import d\n"
    )

    assert _imports(tree, "p.a", is_package=False) >= {"p.b", "p.c", "p.d"}


def test_a_cycle_is_found_and_printed():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}

    assert find_cycles(graph) == [["p.a", "p.b", "p.c", "p.a"]]


def test_no_import_cycles():
    cycles = find_cycles(import_graph())

    assert not cycles, f"{len(cycles)} import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)
