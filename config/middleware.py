"""Request guards that must act before a view (or DRF's parser) reads the body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    """Refuse a request whose declared body is over DATA_UPLOAD_MAX_MEMORY_SIZE with a JSON 413, before anything
    reads it. Django enforces that setting only when a form is parsed (`request.POST`/`request.body`); DRF's
    parsers read the stream directly, so without this a 50 MB JSON post was read and parsed in full."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if limit is not None and length > limit:
            response = JsonResponse(
                {"detail": f"Request body too large; the limit is {limit} bytes."},
                status=413,
            )
            response["Connection"] = "close"  # the unread body is still on the wire
            return response
        return self.get_response(request)


class AdminInlineStylesMiddleware:
    """Lets the Django admin's pages use inline styles under the Content-Security-Policy (django-csp), and nothing
    else: DragonRec's admin reports (dashboard, experiment results, model versions, preview, job health) draw
    matplotlib SVGs and small layouts with `style` attributes and `<style>` elements, which `style-src 'self'`
    blocks. Styles cannot run script, so `script-src` stays strict everywhere; the storefront and the API docs keep
    the strict style policy too. Sits below `csp.middleware.CSPMiddleware`, so it marks the response first
    (django-csp's per-response `_csp_update`, what its `csp_update` view decorator sets)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.app_name == "admin" and not hasattr(response, "_csp_update"):
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # type: ignore[attr-defined]
        return response
