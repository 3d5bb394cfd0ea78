"""Layering as ARCHITECTURE.md (in the shared folder beside the project) draws it, counting every import (module
level, inside functions, under `if TYPE_CHECKING:`): who may import whom.

- shared helpers at the package root (`dragonrec/*.py`) import no app: an app passes them what they need (the
  throttle asks the view for its shopper; text validation lives at the root for the catalog and tracking alike);
- `catalog` imports no other app, `tracking` never imports `recommender` (they emit signals; recommender listens);
- the Django-free layers of the recommender: `core` imports only itself, `ml` and `teacher` only themselves and
  `core`; nothing in them imports Django, DRF or Celery (so the harness measures the serving code on plain data).
"""

from __future__ import annotations

import ast

import pytest

from tests.test_import_cycles import ROOT, _imports, import_graph, project_files

APPS = ("dragonrec.catalog", "dragonrec.tracking", "dragonrec.recommender")
FRAMEWORKS = ("django", "rest_framework", "celery", "drf_spectacular")

# (who, what it may not import, why)
RULES: list[tuple[str, tuple[str, ...], str]] = [
    ("dragonrec.catalog", ("dragonrec.tracking", "dragonrec.recommender"), "catalog imports Django only"),
    ("dragonrec.tracking", ("dragonrec.recommender",), "tracking emits signals, the recommender listens"),
    (
        "dragonrec.recommender.core",
        ("dragonrec.recommender.ml", "dragonrec.recommender.teacher", "dragonrec.recommender.evaluation"),
        "the core is the bottom layer",
    ),
    ("dragonrec.recommender.ml", ("dragonrec.recommender.evaluation",), "ml does not import the harness layer"),
    ("dragonrec.recommender.teacher", ("dragonrec.recommender.evaluation", "dragonrec.recommender.ml"), "teacher"),
]
# only `core` and their own package below these (conf, services, models, ... are the Django side)
DJANGO_FREE = ("dragonrec.recommender.core", "dragonrec.recommender.ml", "dragonrec.recommender.teacher")


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _root_helpers(graph: dict[str, set[str]]) -> list[str]:
    return [m for m in graph if m.startswith("dragonrec.") and m.count(".") == 1 and not m.startswith(APPS)]


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module in _root_helpers(graph):
        found += [f"{module} -> {t} (a root helper imports no app)" for t in graph[module] if t.startswith(APPS)]
    for who, forbidden, why in RULES:
        for module, targets in graph.items():
            if _inside(module, who):
                found += [
                    f"{module} -> {t} ({why})"
                    for t in sorted(targets)
                    if any(_inside(t, f) for f in forbidden) and not _inside(t, who)
                ]
    for module, targets in graph.items():
        if any(_inside(module, layer) for layer in DJANGO_FREE):
            own = next(layer for layer in DJANGO_FREE if _inside(module, layer))
            found += [
                f"{module} -> {t} (Django-free layers import only the core and their own package)"
                for t in sorted(targets)
                if _inside(t, "dragonrec.recommender")
                and not (_inside(t, own) or _inside(t, "dragonrec.recommender.core"))
            ]
    return found


def framework_imports() -> list[str]:
    found = []
    for module, path in project_files().items():
        if any(_inside(module, layer) for layer in DJANGO_FREE):
            tree = ast.parse(path.read_text(), filename=str(path))
            found += [
                f"{module} -> {t}"
                for t in sorted(_imports(tree, module, path.name == "__init__.py"))
                if t.split(".")[0] in FRAMEWORKS
            ]
    return found


def test_the_layers_import_only_downwards() -> None:
    problems = violations(import_graph())

    assert not problems, "imports against ARCHITECTURE.md's layering:\n" + "\n".join(problems)


def test_the_core_ml_and_teacher_are_django_free() -> None:
    problems = framework_imports()

    assert not problems, "framework imports in the Django-free layers:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("dragonrec.throttling", "dragonrec.tracking.identity"),  # the inversion this test guards
        ("dragonrec.catalog.services", "dragonrec.tracking.validation"),
        ("dragonrec.recommender.ml.evaluation", "dragonrec.recommender.evaluation.dataset"),
        ("dragonrec.recommender.core.pipeline", "dragonrec.recommender.ml.student"),
        ("dragonrec.recommender.ml.student", "dragonrec.recommender.services.students"),
    ],
)
def test_each_rule_reports_a_breach(module: str, target: str) -> None:
    graph = {module: {target}, target: set()}

    assert violations(graph), f"{module} -> {target} went unreported"


def test_the_rules_see_the_real_package() -> None:
    graph = import_graph()

    assert "dragonrec.throttling" in _root_helpers(graph) and "dragonrec.text_validation" in _root_helpers(graph)
    assert ROOT.name != "dragonrec"  # the repository root: both packages are read
