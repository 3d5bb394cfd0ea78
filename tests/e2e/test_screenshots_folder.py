"""A test run leaves a clean checkout clean: the browser tests' screenshots land in a folder git ignores, unless
`make screenshots` asks for the README's copies under docs/screenshots/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def screenshots_dir(env: dict[str, str]) -> Path:
    code = "from tests.e2e.conftest import SCREENSHOTS; print(SCREENSHOTS)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip())


def git_ignores(path: Path) -> bool:
    probe = path / "home-desktop.png"
    return subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=REPO).returncode == 0


def test_screenshots_of_a_test_run_go_to_an_ignored_folder() -> None:
    folder = screenshots_dir({"DRAGONREC_SCREENSHOTS": ""})
    assert folder.is_relative_to(REPO)
    assert git_ignores(folder), f"{folder} is tracked: `make test` would rewrite files in the checkout"


def test_make_screenshots_writes_the_readme_pictures() -> None:
    folder = screenshots_dir({"DRAGONREC_SCREENSHOTS": "docs"})
    assert folder == REPO / "docs" / "screenshots"
    assert not git_ignores(folder)
    makefile = (REPO / "Makefile").read_text()
    assert "DRAGONREC_SCREENSHOTS=docs" in makefile.split("\nscreenshots:", 1)[1].split("\n\n", 1)[0]
