"""Project-wide DRF glue: the exception handler and the JSON parser every API uses."""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a JSON 413, and an unexpected error becomes
    a JSON 500 with a request-safe message (and is logged), so API clients always get JSON they can parse."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": f"Request body too large; the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database connection broke under the request (a restart, a failover, pg_terminate_backend): a
        # transient 503 the client retries, not a 500 bug. Django has discarded the broken connection; the retry
        # gets a fresh one, and replayed events are recognised by their ids (bench/faults.py).
        logger.warning("database unavailable during an API request: %s", exc)
        unavailable = Response(
            {"detail": "The database is unavailable for a moment; retry the same request."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        unavailable["Retry-After"] = "1"
        return unavailable
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response({"detail": "Internal error; it has been logged."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` levels (a scalar is depth 0, `[]` depth 1). Iterative: the
    value came from a parser that already survived the recursion, this walk must not be the one that fails."""
    if not isinstance(value, dict | list):
        return False
    # A plain loop pushing containers only, each with the levels it nests: a 500-event batch has ~4,000 scalars,
    # and a generator per container cost twice this walk.
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        current, depth = pop()
        if depth > limit:
            return True
        for child in current.values() if isinstance(current, dict) else current:
            if isinstance(child, (dict, list)):
                push((child, depth + 1))
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit (DRAGONREC_MAX_JSON_DEPTH). Without one, `[[[[...` a few thousand
    levels deep ends in a RecursionError (a 500), and a merely deep document costs every later walk over it."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = int(settings.DRAGONREC_MAX_JSON_DEPTH)
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_constant=_reject_constant)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth_exceeds(data, limit):
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels")
        return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")  # NaN / Infinity: Python accepts them, JSON (and jsonb) do not


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: JSON under /api/ (a URL no API matches, e.g. `/api/products/abc/`), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/ for errors outside DRF views (middleware, URL resolution)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal error; it has been logged."}, status=500)
    return defaults.server_error(request)
