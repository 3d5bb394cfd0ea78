"""config.renderers: the JSON renderer every API answers with."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.serializer_helpers import ReturnDict

from config.renderers import ContentNegotiation, FastJSONRenderer


@dataclasses.dataclass
class _Point:
    x: int


def test_the_fast_renderer_writes_what_drf_writes() -> None:
    """orjson encodes, but the bytes a client reads are DRF's own: the same values, datetimes with "Z", lazy
    strings, Decimals, UUIDs, the line separators escaped for pages that embed JSON in a script."""
    data = ReturnDict(
        {
            "request_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "at": datetime(2026, 12, 7, 13, 0, tzinfo=UTC),
            "detail": gettext_lazy("Not found."),
            "price": Decimal("19.90"),
            "scores": [0.1, 1e-05, 0.30000000000000004, -2.5, 3],
            "title": "caf\u00e9 \u2028 \u2029 \U0001f409 <script>",
            "nested": {"ok": True, "none": None, "ids": (1, 2)},
        },
        serializer=None,
    )
    fast = FastJSONRenderer().render(data)
    drf = JSONRenderer().render(data)

    assert json.loads(fast) == json.loads(drf)
    assert b'"2026-12-07T13:00:00Z"' in fast
    assert b"\\u2028" in fast and b"\\u2029" in fast and "\u2028".encode() not in fast
    assert "caf\u00e9".encode() in fast  # UTF-8, as DRF's UNICODE_JSON writes it


def test_what_orjson_cannot_write_is_rendered_by_drf() -> None:
    big = {"id": 2**70, "point": _Point(x=1)}
    renderer = FastJSONRenderer()
    assert renderer.render({"id": 2**70}) == JSONRenderer().render({"id": 2**70})
    # a dataclass goes to DRF's encoder, which does not know it either: the same error DRF raises
    for candidate in (renderer, JSONRenderer()):
        try:
            candidate.render(big)
        except TypeError:
            continue
        raise AssertionError("a dataclass was rendered")
    assert renderer.render(None) == b""
    indented = renderer.render({"a": 1}, "application/json; indent=4")
    assert indented == JSONRenderer().render({"a": 1}, "application/json; indent=4")


@pytest.mark.parametrize(
    "accept,query",
    [
        ("application/json", ""),
        ("*/*", ""),
        (None, ""),
        ("text/html", ""),
        ("application/json; indent=4", ""),
        ("text/html,application/xhtml+xml,*/*;q=0.8", ""),
        ("application/json", "?format=api"),
        ("*/*", "?format=json"),
    ],
)
def test_content_negotiation_answers_as_drf_does(accept: str | None, query: str) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    request = Request(APIRequestFactory().get(f"/api/recommendations/{query}", **headers))
    renderers = [FastJSONRenderer(), BrowsableAPIRenderer()]

    def outcome(negotiation: DefaultContentNegotiation) -> object:
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers)
        except NotAcceptable:
            return NotAcceptable  # JSON asked for, the browsable API named: refused by both
        return type(renderer), media_type

    assert outcome(ContentNegotiation()) == outcome(DefaultContentNegotiation())
