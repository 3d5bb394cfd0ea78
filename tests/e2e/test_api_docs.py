"""/api/docs/ renders the Swagger UI from our own static files: no CDN, so it works offline."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_list_the_operations_offline(page: Any, live_server: Any) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url))

    page.goto(f"{live_server.url}/api/docs/")

    page.get_by_text("DragonRec API").first.wait_for(timeout=15_000)
    for path in ("/api/events/", "/api/recommendations/", "/api/products/{product_id}/similar/"):
        assert page.locator(".opblock-summary-path", has_text=path).count() >= 1, path
    assert not [u for u in outside if not u.startswith("data:")], f"requests left the machine: {outside}"
