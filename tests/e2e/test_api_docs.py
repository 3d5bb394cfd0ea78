"""/api/docs/ renders the Swagger UI from our own static files: no CDN, so it works offline, and under the site's
Content-Security-Policy without a single violation (the admin's sign-in page too)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def csp_violations(page: Any) -> list[str]:
    """What Chromium reports as blocked by the page's Content-Security-Policy, filled as the page runs."""
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return blocked


def test_the_api_docs_list_the_operations_offline(page: Any, live_server: Any) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url))
    blocked = csp_violations(page)

    response = page.goto(f"{live_server.url}/api/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_text("DragonRec API").first.wait_for(timeout=15_000)
    for path in ("/api/events/", "/api/recommendations/", "/api/products/{product_id}/similar/"):
        assert page.locator(".opblock-summary-path", has_text=path).count() >= 1, path
    # an operation opens and can be tried out: Swagger UI's scripts run in full under the policy
    page.locator(".opblock-summary-path", has_text="/api/categories/").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    page.locator(".live-responses-table .response-col_status", has_text="200").first.wait_for(timeout=15_000)
    assert not [u for u in outside if not u.startswith("data:")], f"requests left the machine: {outside}"
    assert blocked == [], blocked


def test_the_admin_sign_in_page_works_under_the_policy(page: Any, live_server: Any, django_user_model: Any) -> None:
    django_user_model.objects.create_superuser("csp-admin", "a@example.com", "csp-password-9!")
    blocked = csp_violations(page)

    response = page.goto(f"{live_server.url}/admin/login/")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill("csp-admin")
    page.get_by_label("Password").fill("csp-password-9!")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).first.wait_for()
    page.goto(f"{live_server.url}/admin/auth/user/")
    page.get_by_role("link", name="csp-admin").wait_for()
    assert blocked == [], blocked
