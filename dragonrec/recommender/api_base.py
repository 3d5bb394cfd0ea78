"""What the shopper-facing list endpoints share (apis.py: recommendations, a product's similar and complements;
search_apis.py: search and suggestions): API-key scope, rate-limit scope, the `session_id` an integration names, the
shopper of the request, and for the recommendation lists the request's one Redis round trip (issue #27)."""

from __future__ import annotations

import functools
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from dragonrec.recommender.services.recommendations import (
    Prefetched,
    serving_prefetch_queue,
    serving_prefetch_resolve,
)
from dragonrec.tracking.authentication import RECOMMENDATIONS_READ, ApiKeyScopes
from dragonrec.tracking.identity import (
    ShopperMismatch,
    cookie_issued,
    integration_key,
    shopper_for_request,
    shopper_key,
)
from dragonrec.tracking.shopper_views import ShopperMixin
from dragonrec.tracking.state import ShopperState

PREFETCHED_ATTR = "_dragonrec_prefetched"  # on the DRF Request: the Prefetched of its round trip


def session_id_field() -> serializers.CharField:
    return serializers.CharField(
        required=False, max_length=128, allow_blank=True, default="", help_text="API-key callers only."
    )


class ShopperListApi(ShopperMixin, APIView):
    """Base of the endpoints that serve a shopper a list: `recommendations:read` for API keys, the
    `recommendations` rate limits, and with `prefetch` the shopper's state and fatigue read in the round trip
    that counts the request (`self.prefetched(request)`)."""

    permission_classes = [ApiKeyScopes]
    required_scopes = {"GET": RECOMMENDATIONS_READ}
    throttle_scope = "recommendations"
    InputSerializer: type[serializers.Serializer[Any]]  # each subclass declares its query parameters

    def query_params(self, request: Request) -> dict[str, Any]:
        """The request's query parameters as the view's InputSerializer validates them (a 400 when they are not)."""
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data: dict[str, Any] = params.validated_data
        return data

    def prefetch_queue(self, pipe: Any, request: Any) -> int:
        try:  # the session id as the view's input will validate it; invalid: the view answers 400, nothing to read
            named = _session_id_field(self.InputSerializer).run_validation(request.query_params.get("session_id"))
        except (KeyError, serializers.ValidationError):
            named = ""
        key, fresh = _expected_key(request, str(named or ""))
        if fresh:  # an id issued by this very request: nobody has any state under it yet
            setattr(request, PREFETCHED_ATTR, Prefetched(key, ShopperState()))
            return 0
        setattr(request, PREFETCHED_ATTR, key)
        return serving_prefetch_queue(pipe, key)

    def prefetch_resolve(self, request: Any, replies: list[Any] | None) -> None:
        key = getattr(request, PREFETCHED_ATTR, "")
        if isinstance(key, str):
            setattr(request, PREFETCHED_ATTR, serving_prefetch_resolve(key, replies) if key else None)

    def prefetched(self, request: Any) -> Prefetched | None:
        found = getattr(request, PREFETCHED_ATTR, None)
        return found if isinstance(found, Prefetched) else None


@functools.cache
def _session_id_field(serializer: type[serializers.Serializer[Any]]) -> serializers.Field[Any, Any, Any, Any]:
    """The view's `session_id` field, bound once per view class: validating a value keeps no state on the field,
    and a serializer built per request only to reach it was ~3% of a served list's CPU. KeyError: no such field."""
    return serializer().fields["session_id"]


def _expected_key(request: Any, session_id: str) -> tuple[str, bool]:
    """The shopper key the view will serve, as far as it can be known before the view validates its input (an
    integration's `session_id` as its input validates it; else the browser's own: a view that then
    finds another shopper reads that one's state itself), and whether that id was issued by this request."""
    if integration_key(request) is not None:
        return shopper_key(user_id=None, session_id=session_id), False
    try:
        shopper = shopper_for_request(request, session_id=session_id)
    except ShopperMismatch:
        return "", False
    return shopper.key, shopper.user is None and cookie_issued(request)
