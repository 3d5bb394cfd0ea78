"""Every HTML page carries a Content-Security-Policy and may not be framed: Django's views (admin, the API docs,
the storefront's routes) and the files WhiteNoise answers itself, the storefront's index.html among them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/", "/cart"])
def test_html_pages_carry_the_policy_and_frame_options(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    csp = policy(response)
    assert csp["script-src"] == ["'self'"], "no inline script, no eval, no other origin"
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_the_storefront_index_served_by_whitenoise_carries_them_too(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>shop</title><div id=root></div>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    # WhiteNoise reads its root when the middleware is built: a new client builds it under these settings.
    with override_settings(WHITENOISE_ROOT=tmp_path):
        response = Client().get("/index.html")
    assert response.status_code == 200
    assert b"<title>shop</title>" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_the_api_docs_page_runs_no_inline_script(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page, "Swagger UI's start-up script must be a file the policy allows"
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle(" in script.content.decode()
    # the template's one inline <style> block is allowed by its hash, not by 'unsafe-inline'
    styles = policy(client.get("/api/docs/"))["style-src"]
    assert "'unsafe-inline'" not in styles
    assert any(s.startswith("'sha256-") for s in styles)


def test_the_page_shown_before_the_storefront_is_built_styles_itself_by_nonce(client: Client, tmp_path: Path) -> None:
    with override_settings(STOREFRONT_DIST=tmp_path):  # no index.html there: the page of links instead
        response = client.get("/")
    assert b"DragonRec is running" in response.content
    nonces = [s for s in policy(response)["style-src"] if s.startswith("'nonce-")]
    assert len(nonces) == 1
    assert f'<style nonce="{nonces[0][7:-1]}">'.encode() in response.content
