"""What the ingest bench's server does for nothing: the floor the single-event rate is compared with (issue #24's
"single events at least 1,000/s": is that beyond Django on this machine?).

    GET /bench/floor/django/  a plain Django function view answering b"{}": the whole middleware stack, no DRF
    GET /bench/floor/drf/     the same as a DRF APIView with no authentication, permissions or throttles

The project's own URLs follow unchanged (the catalog GET and POST /api/events/ among them)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def floor_django(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"{}", content_type="application/json")


class FloorApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return Response({})


urlpatterns = [
    path("bench/floor/django/", floor_django),
    path("bench/floor/drf/", FloorApi.as_view()),
    path("", include("config.urls")),
]
