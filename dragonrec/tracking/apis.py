from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.tracking.models import EventType
from dragonrec.tracking.selectors import preference_get
from dragonrec.tracking.services import MAX_BATCH, EventInput, events_record, preference_update, session_merge_into_user
from dragonrec.tracking.validation import bad_text_error, printable

MAX_CONTEXT_BYTES = 4096  # page, referrer, request id, position: anything bigger is not tracking context


class EventItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(max_length=32)  # checked in the service, so the reason lists the valid types
    product_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    session_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    timestamp = serializers.DateTimeField(required=False, allow_null=True)
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    context = serializers.DictField(required=False, default=dict)

    def validate_context(self, value: dict[str, Any]) -> dict[str, Any]:
        import json

        if len(json.dumps(value, default=str)) > MAX_CONTEXT_BYTES:
            raise serializers.ValidationError(f"context is larger than {MAX_CONTEXT_BYTES} bytes")
        return value


def _first_error(errors: Any) -> str:
    """'field: message' of the first validation error, for a one-line per-item reason."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            return f"{key}: {_first_error(value)}"
    if isinstance(errors, list) and errors:
        return _first_error(errors[0])
    return str(errors)


class EventCreateApi(APIView):
    """Record one event or a batch (up to 500). Each item is accepted, a duplicate (its id was seen before) or
    rejected with a reason; valid items are stored even when others in the batch are bad."""

    throttle_scope = "events"

    class ResultSerializer(serializers.Serializer):
        id = serializers.CharField()
        status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
        error = serializers.CharField(required=False)

    @extend_schema(
        request=inline_serializer(
            "EventBatchInput",
            {"events": serializers.ListField(child=EventItemSerializer(), min_length=1, max_length=MAX_BATCH)},
        ),
        responses={200: inline_serializer("EventBatchOutput", {"results": ResultSerializer(many=True)})},
        examples=[
            OpenApiExample(
                "A view and a click on a recommendation",
                value={
                    "events": [
                        {
                            "id": "3f0c1f8e-7b1a-4c55-9d7e-0d6b1b0f8a11",
                            "type": "view",
                            "product_id": 12,
                            "session_id": "s-1",
                            "timestamp": "2026-11-26T10:00:00Z",
                        },
                        {
                            "id": "9a1d2e3f-4b5c-4d6e-8f70-1a2b3c4d5e6f",
                            "type": "click",
                            "product_id": 40,
                            "session_id": "s-1",
                            "context": {"request_id": "<from /api/recommendations/>", "position": 3},
                        },
                    ]
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if isinstance(body, dict) and "events" not in body and "id" in body:
            raw_items: Any = [body]  # a single event object
        elif isinstance(body, dict):
            raw_items = body.get("events")
        else:
            raw_items = None
        if not isinstance(raw_items, list):
            raise ValidationError({"events": "expected a JSON object with an 'events' list (or one event object)"})
        if not raw_items:
            raise ValidationError({"events": "the batch is empty"})
        if len(raw_items) > MAX_BATCH:
            raise ValidationError({"events": f"at most {MAX_BATCH} events per request, got {len(raw_items)}"})

        results: list[dict[str, str] | None] = [None] * len(raw_items)
        valid: list[tuple[int, EventInput]] = []
        for index, raw in enumerate(raw_items):
            item_id = printable(raw.get("id", "")) if isinstance(raw, dict) else ""
            if not isinstance(raw, dict):
                results[index] = {"id": "", "status": "rejected", "error": "an event must be a JSON object"}
                continue
            text_error = bad_text_error(raw)  # NUL / lone surrogates: storable nowhere, so rejected per item
            if text_error:
                results[index] = {"id": item_id, "status": "rejected", "error": text_error}
                continue
            serializer = EventItemSerializer(data=raw)
            if not serializer.is_valid():
                results[index] = {"id": item_id, "status": "rejected", "error": _first_error(serializer.errors)}
                continue
            valid.append((index, EventInput(**serializer.validated_data)))
        recorded = events_record(items=[item for _, item in valid], user=request.user)
        for (index, _), result in zip(valid, recorded, strict=True):
            results[index] = result.as_dict()
        return Response({"results": results}, status=status.HTTP_200_OK)


class PreferenceApi(APIView):
    """The signed-in shopper's stated tastes, used for cold-start recommendations."""

    throttle_scope = "preferences"

    permission_classes = [IsAuthenticated]

    class PreferenceSerializer(serializers.Serializer):
        categories = serializers.ListField(child=serializers.CharField(max_length=1000), max_length=50, default=list)
        brands = serializers.ListField(child=serializers.CharField(max_length=200), max_length=50, default=list)
        price_min = serializers.DecimalField(
            max_digits=12, decimal_places=2, min_value=0, allow_null=True, default=None
        )
        price_max = serializers.DecimalField(
            max_digits=12, decimal_places=2, min_value=0, allow_null=True, default=None
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            low, high = attrs.get("price_min"), attrs.get("price_max")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError({"price_max": "must not be below price_min"})
            return attrs

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        pref = preference_get(user=request.user)
        data = {"categories": [], "brands": [], "price_min": None, "price_max": None}
        if pref is not None:
            data = {
                "categories": pref.categories,
                "brands": pref.brands,
                "price_min": pref.price_min,
                "price_max": pref.price_max,
            }
        return Response(self.PreferenceSerializer(data).data)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request: Request) -> Response:
        serializer = self.PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pref = preference_update(user=request.user, **serializer.validated_data)
        return Response(
            self.PreferenceSerializer(
                {
                    "categories": pref.categories,
                    "brands": pref.brands,
                    "price_min": pref.price_min,
                    "price_max": pref.price_max,
                }
            ).data
        )


class SessionMergeApi(APIView):
    """Attach an anonymous storefront session to the signed-in user (for SPAs that log in without Django's
    login view; the login view does this itself from the X-Session-Id header)."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        session_id = serializers.CharField(max_length=128)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer("SessionMergeOutput", {"merged": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merged = session_merge_into_user(session_id=serializer.validated_data["session_id"], user=request.user)
        return Response({"merged": merged})


__all__ = ["EventCreateApi", "EventType", "PreferenceApi", "SessionMergeApi"]
