"""Builds the React storefront (frontend/) when its build is missing or stale: `npm ci` when the lock file changed,
`npm run build` when any source changed. Used by `make demo` and the browser tests; `python -m config.frontend`
runs it by hand, `python -m config.frontend test` runs the unit tests (`make test` does), `... lint` ESLint and
`... install` only the `npm ci` (`make lint` does both)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
DIST = FRONTEND / "dist"
STAMP = DIST / ".source-hash"
INPUTS = [
    "index.html",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.app.json",
    "tsconfig.node.json",
    "vite.config.ts",
]


class FrontendBuildError(RuntimeError):
    pass


def source_hash() -> str:
    digest = hashlib.sha256()
    files = [FRONTEND / name for name in INPUTS] + sorted((FRONTEND / "src").rglob("*"))
    files += sorted((FRONTEND / "public").rglob("*")) if (FRONTEND / "public").is_dir() else []
    for path in files:
        if path.is_file() and ".test." not in path.name:
            digest.update(str(path.relative_to(FRONTEND)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def is_fresh() -> bool:
    return (DIST / "index.html").exists() and STAMP.exists() and STAMP.read_text().strip() == source_hash()


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise FrontendBuildError("npm is not on PATH: install Node.js 20 (it ships npm) to build the storefront")
    return found


def install() -> None:
    """`npm ci` when node_modules is missing or older than the lock file."""
    marker = FRONTEND / "node_modules" / ".package-lock.json"
    lock = FRONTEND / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        _run([npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"])


def ensure_built(*, quiet: bool = False) -> bool:
    """Build if stale; True when a build ran."""
    if is_fresh():
        return False
    if not quiet:
        print("building the storefront (npm ci && npm run build) ...", flush=True)
    install()
    _run([npm(), "run", "build", "--silent"])
    STAMP.write_text(source_hash())
    return True


def unit_tests() -> None:
    """The storefront's and the tracker's unit tests (Vitest), as `make test` runs them."""
    install()
    done = subprocess.run([npm(), "test", "--silent"], cwd=FRONTEND)
    if done.returncode != 0:
        raise FrontendBuildError("frontend unit tests failed (cd frontend && npm test)")


def lint() -> None:
    """ESLint over the storefront and the tracker (frontend/eslint.config.js), as `make lint` runs it."""
    install()
    done = subprocess.run([npm(), "run", "lint", "--silent"], cwd=FRONTEND)
    if done.returncode != 0:
        raise FrontendBuildError("ESLint found problems (cd frontend && npm run lint)")


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, cwd=FRONTEND, capture_output=True, text=True)
    if done.returncode != 0:
        raise FrontendBuildError(f"{' '.join(cmd)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")


if __name__ == "__main__":
    try:
        if sys.argv[1:] == ["test"]:
            unit_tests()
        elif sys.argv[1:] == ["install"]:
            install()
        elif sys.argv[1:] == ["lint"]:
            lint()
        else:
            print("built" if ensure_built() else "up to date")
    except FrontendBuildError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from exc
