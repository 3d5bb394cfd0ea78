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
