"""The React storefront (frontend/) served by Django: its hashed assets through WhiteNoise (WHITENOISE_ROOT), its
index.html for each client-side route. Project-level, not part of the plugin: a shop has its own storefront."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


def dist_dir() -> Path:
    return Path(settings.STOREFRONT_DIST)


@cache
def _index_html(mtime: float) -> str:
    return (dist_dir() / "index.html").read_text(encoding="utf-8")


@require_safe
def storefront(request: HttpRequest, **route: object) -> HttpResponse:
    index = dist_dir() / "index.html"
    if not index.exists():
        # `make demo` builds it (npm ci && npm run build); without a build, the page of links is still useful.
        return render(request, "home.html", {"storefront_missing": True})
    response = HttpResponse(_index_html(index.stat().st_mtime), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # the shell names the hashed assets of the current build
    return response
