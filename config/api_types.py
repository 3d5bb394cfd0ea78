"""The storefront's API types, generated from the OpenAPI schema: drf-spectacular writes the schema (no database, no
server), openapi-typescript turns it into `frontend/src/api/schema.d.ts` (the `api:types` npm script), and the
hand-written `frontend/src/api/types.ts` names shapes in it. `make api-types` (`python -m config.api_types`)
regenerates the file; `make lint` (`python -m config.api_types --check`) fails when the committed file is not what
the schema gives now, so an API change cannot leave the storefront's types behind."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from config.frontend import FRONTEND, FrontendBuildError, install, npm

REPO = FRONTEND.parent
TYPES = FRONTEND / "src" / "api" / "schema.d.ts"
# The settings the schema is rendered under. The API does not differ between dev and test settings; one fixed
# module keeps the file the same on every machine, whatever DJANGO_SETTINGS_MODULE the shell has.
SETTINGS = "config.settings.test"
REGENERATE = "make api-types"


def openapi_schema() -> dict[str, Any]:
    """The schema `/api/schema/` serves, rendered offline by `manage.py spectacular`."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "openapi.json"
        done = subprocess.run(
            [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--file", str(path)],
            cwd=REPO,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise FrontendBuildError(f"manage.py spectacular failed:\n{done.stderr[-4000:]}")
        schema: dict[str, Any] = json.loads(path.read_text())
        return schema


def render_types(schema: dict[str, Any]) -> str:
    """openapi-typescript's TypeScript for `schema`, through the `api:types` npm script (the one place its options
    are written)."""
    install()
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch) / "openapi.json", Path(scratch) / "schema.d.ts"
        source.write_text(json.dumps(schema))
        done = subprocess.run(
            [npm(), "run", "--silent", "api:types"],
            cwd=FRONTEND,
            env={**os.environ, "API_SCHEMA": str(source), "API_TYPES": str(target)},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not target.exists():
            raise FrontendBuildError(f"npm run api:types failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return target.read_text()


def drift(schema: dict[str, Any] | None = None) -> str:
    """A unified diff from the committed types to those `schema` (default: the API's own) gives; "" when equal."""
    rendered = render_types(openapi_schema() if schema is None else schema)
    committed = TYPES.read_text() if TYPES.exists() else ""
    name = str(TYPES.relative_to(REPO))
    before, after = committed.splitlines(keepends=True), rendered.splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"{name} (committed)", f"{name} (schema)"))


def generate() -> bool:
    """Rewrites the committed types from the API's schema; True when they changed."""
    rendered = render_types(openapi_schema())
    if TYPES.exists() and TYPES.read_text() == rendered:
        return False
    TYPES.write_text(rendered)
    return True


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        diff = drift()
        if diff:
            print(diff[-8000:], file=sys.stderr)
            name = TYPES.relative_to(REPO)
            print(f"{name} is not what the OpenAPI schema gives: run `{REGENERATE}`", file=sys.stderr)
            return 1
        print("storefront API types match the schema")
        return 0
    if argv:
        print("usage: python -m config.api_types [--check]", file=sys.stderr)
        return 2
    print(f"{TYPES.relative_to(REPO)}: {'regenerated' if generate() else 'already up to date'}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main(sys.argv[1:]))
    except FrontendBuildError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from exc
