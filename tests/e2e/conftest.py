"""Browser tests: Playwright for Python driving Debian's `chromium` (never a downloaded browser).

`make test` installs the package when it is missing and it can (root with apt-get); where no browser can be had,
these tests skip with a message saying so."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DRAGONREC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
# Screenshots go to an ignored folder, so `make test` leaves a clean checkout clean; `make screenshots` sets
# DRAGONREC_SCREENSHOTS=docs to refresh the README's pictures under docs/screenshots/.
SCREENSHOTS = (
    REPO / "docs" / "screenshots" if os.environ.get("DRAGONREC_SCREENSHOTS") == "docs" else REPO / "var" / "screenshots"
)

# Playwright's sync API runs an event loop in the test's thread; Django's ORM refuses to run beside one unless told
# that this thread is synchronous code (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (make test does it when run as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (it is in requirements.txt: run `make test`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Nothing but localhost is reachable here: keep Chromium from phoning home (its retries slow every start).
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
