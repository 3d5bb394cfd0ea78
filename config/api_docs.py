"""/api/docs/: Swagger UI under the site's Content-Security-Policy (settings: CONTENT_SECURITY_POLICY).

drf-spectacular's split view serves the page's start-up script as its own same-origin request (`?script`), so the
page needs no inline script; the one inline `<style>` block of its template is allowed by its hash alone."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import drf_spectacular
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

TEMPLATE = Path(drf_spectacular.__file__).parent / "templates" / "drf_spectacular" / "swagger_ui.html"


@cache
def inline_style_sources() -> list[str]:
    """CSP hash sources ('sha256-…') of the template's inline <style> blocks, as the browser hashes them (the exact
    text between the tags). Read from the installed template, so an upgrade that changes it stays allowed."""
    blocks = re.findall(r"<style>(.*?)</style>", TEMPLATE.read_text(encoding="utf-8"), flags=re.S)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]


class ApiDocsView(SpectacularSwaggerSplitView):
    @extend_schema(exclude=True)  # the page that shows the schema is not part of it
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)
        # django-csp reads this attribute (what its @csp_update decorator sets) and adds to the site's policy; the
        # stubs do not know django-csp's attribute.
        response._csp_update = {"style-src": inline_style_sources()}  # type: ignore[attr-defined]
        return response
