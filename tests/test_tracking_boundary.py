"""The recommender reads tracking data through `dragonrec.tracking.selectors` (and writes it through
`dragonrec.tracking.services`), never through tracking's models: how events are stored may change without the
recommender noticing, and every read it makes is one place to look at (and to index for).

Imports anywhere in a module count, also inside functions: a lazy import reads the models just the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dragonrec

RECOMMENDER = Path(dragonrec.__file__).resolve().parent / "recommender"
FORBIDDEN = "dragonrec.tracking.models"
# module (relative to dragonrec/recommender) -> why it may import tracking's models
ALLOWED = {
    "apis.py": "ApiKey.Scope names the scope an endpoint requires (a constant, no data read)",
}


def tracking_model_imports(path: Path) -> list[int]:
    """Line numbers of the imports of tracking's models (or of the `models` submodule from `dragonrec.tracking`)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            if any(alias.name == FORBIDDEN or alias.name.startswith(FORBIDDEN + ".") for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            if module == FORBIDDEN or (module == "dragonrec.tracking" and any(a.name == "models" for a in node.names)):
                lines.append(node.lineno)
    return lines


def test_the_recommender_reads_tracking_data_through_its_selectors() -> None:
    offenders = []
    for path in sorted(RECOMMENDER.rglob("*.py")):
        relative = path.relative_to(RECOMMENDER).as_posix()
        if "migrations" in path.parts or relative in ALLOWED:
            continue
        offenders += [f"dragonrec/recommender/{relative}:{line}" for line in tracking_model_imports(path)]
    assert not offenders, (
        f"these modules import {FORBIDDEN}; read through dragonrec.tracking.selectors (add a selector there) "
        f"instead: {', '.join(offenders)}"
    )


def test_the_check_finds_a_direct_import(tmp_path: Path) -> None:
    module = tmp_path / "reader.py"
    module.write_text("def f():\n    from dragonrec.tracking.models import Event\n    return Event\n")
    assert tracking_model_imports(module) == [2]
