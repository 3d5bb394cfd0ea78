from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
import orjson
from django.http import HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.throttling import AddressRateThrottle
from dragonrec.tracking.authentication import ApiKeyScopes
from dragonrec.tracking.models import ApiKey, EventType
from dragonrec.tracking.services import (
    MAX_BATCH,
    EventBudget,
    EventInput,
    EventLimitExceeded,
    Lane,
    events_record,
    events_record_well_formed,
)
from dragonrec.tracking.shopper_views import ShopperMixin
from dragonrec.tracking.validation import (
    MAX_CONTEXT_BYTES,
    MAX_ID,
    PLAIN_DECIMAL,
    WellFormedEvent,
    bad_text_error,
    printable,
)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": r"^\d{0,10}(?:\.\d{0,2})?$"},
            {"type": "number", "minimum": 0, "maximum": 9999999999.99},
        ],
        "nullable": True,
        "description": 'A price: a decimal string ("19.99"), a number, or null; "" means null.',
    }
)
class PriceField(serializers.DecimalField):
    """A price as a decimal string or a JSON number (both are what storefronts send), or null; rounded to the cent
    rather than refused for more decimals (a float 19.990000001 from a client is 19.99). `""` is null (the schema's
    pattern admits it); white space alone is refused, where DRF's DecimalField would strip it to null too."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if isinstance(data, str) and data and not data.strip():
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        with contextlib.suppress(InvalidOperation, ValueError):  # not a number: the parent names the error
            data = str(Decimal(str(data)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """Text only: DRF's CharField would turn a number into its digits, which the schema (a string) does not allow."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


MAYBE_BAD_TEXT = b"\\u0000"  # NUL in an orjson dump; see EventItemSerializer.quick


class EventItemSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    type = serializers.CharField(max_length=32)  # checked in the service, so the reason lists the valid types
    # a product id is a database bigint: a larger number is a per-item 400, not a failed statement
    product_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID, default=None)
    session_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    timestamp = serializers.DateTimeField(required=False, allow_null=True)
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    # Shadows Field.context in the stubs only: DRF's serializer metaclass pops declared fields off the class.
    context = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]

    def validate_context(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_CONTEXT_BYTES:
            raise serializers.ValidationError(f"context is larger than {MAX_CONTEXT_BYTES} bytes")
        return value

    def quick(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """What `run_validation` returns, for the usual well-formed item (plain JSON types, an ISO timestamp with
        its zone, a price as a decimal string, no text that `bad_text_error` could refuse), at a fraction of its
        cost (DRF's field machinery was most of a batch's time); None for anything else, which then goes through
        `bad_text_error`, `run_validation` and their messages."""
        data: dict[str, Any] = {}
        ident, kind = raw.get("id"), raw.get("type")
        if not isinstance(ident, str) or not isinstance(kind, str) or not 0 < len(kind) <= 32 or kind != kind.strip():
            return None
        try:
            data["id"] = uuid.UUID(ident)
        except ValueError:
            return None
        data["type"] = kind
        product_id = raw.get("product_id")
        if product_id is not None and (type(product_id) is not int or not 1 <= product_id <= MAX_ID):
            return None
        data["product_id"] = product_id
        session_id = raw.get("session_id", "")
        if not isinstance(session_id, str) or len(session_id) > 128 or session_id != session_id.strip():
            return None
        data["session_id"] = session_id
        if "timestamp" in raw:
            stamp = raw["timestamp"]
            if stamp is not None:
                try:
                    stamp = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
                except ValueError:
                    return None
                if stamp is None or stamp.tzinfo is None:
                    return None
            data["timestamp"] = stamp
        quantity = raw.get("quantity", 1)
        if type(quantity) is not int or not 1 <= quantity <= 10_000:
            return None
        data["quantity"] = quantity
        if "value" in raw:
            value = raw["value"]
            if value is not None:
                if not isinstance(value, str) or not PLAIN_DECIMAL.match(value):
                    return None
                value = Decimal(value)
            data["value"] = value
        context = raw.get("context", {})
        if not isinstance(context, dict):
            return None
        # One dump of the whole item (orjson: a twentieth of the json module's time) screens it for text no column
        # can hold: orjson refuses a lone surrogate and escapes NUL as \u0000 (the six characters typed by a
        # shopper are a false alarm, sent to the exact check). It also bounds the context, a part of the item: the
        # serializer measures the context's `json.dumps` (ASCII escapes, ", " and ": " separators), at most 3x
        # this compact UTF-8 dump (12 characters for a 4-byte character, 2 for a 1-byte separator), so an item
        # whose dump is within a third of the bound is within it; a larger one gets the exact check.
        try:
            blob = orjson.dumps(raw)
        except TypeError:  # a lone surrogate, an integer beyond 64 bits: the exact checks name it
            return None
        if 3 * len(blob) > MAX_CONTEXT_BYTES or MAYBE_BAD_TEXT in blob:
            return None
        data["context"] = context
        return data


class RawItemField(serializers.Field[Any, Any, Any, Any]):  # a raw JSON value in, the same out
    """An item of the batch as sent: checked one by one by EventItemSerializer, which rejects a bad item alone."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


BODY_SHAPE = "expected a JSON object with an 'events' list (or one event object)"


class WellFormedBatch(msgspec.Struct, gc=False):
    events: Annotated[list[WellFormedEvent], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


WELL_FORMED_BATCH = msgspec.json.Decoder(WellFormedBatch)
WELL_FORMED_EVENT = msgspec.json.Decoder(WellFormedEvent)
# An escaped NUL or UTF-16 surrogate anywhere in the body (a lone one is text no column can hold; a pair, an
# emoji written as escapes, is fine but rare): the usual way, whose checks name the item and the field.
MAYBE_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def accepted_answer(items: list[WellFormedEvent]) -> bytes:
    """`{"results": [{"id": ..., "status": "accepted"}, ...]}` as the renderer writes it, written in C: orjson
    writes the ids (a UUID as its canonical text, which holds no quote or comma), one replace frames them."""
    ids = orjson.dumps([item.id for item in items])[1:-1]  # b'"id1","id2"'
    framed = ids.replace(b'","', b'","status":"accepted"},{"id":"')
    return b'{"results":[{"id":' + framed + b',"status":"accepted"}]}'


def well_formed_events(request: Request) -> list[WellFormedEvent] | None:
    """The items of a body that is a well-formed batch (`{"events": [...]}` of WellFormedEvent, UTF-8 JSON) or
    one well-formed event object, decoded by msgspec in C in one pass; None for any other body, which then goes
    the usual way (DRF's parser, the serializer per item, the per-item results). A body over the size limit is
    the usual 413 either way."""
    django_request = request._request
    charset = (django_request.content_params or {}).get("charset", "utf-8").lower()
    if django_request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        return None
    try:
        body = django_request.body
    except RawPostDataException:  # the stream was read already (by a project's middleware): DRF's parser knows how
        return None
    if MAYBE_BAD_ESCAPE.search(body):
        return None
    try:
        if b'"events"' not in body:  # one event object, as the tracker's single sends are (no key names a batch)
            return [WELL_FORMED_EVENT.decode(body)]
        return WELL_FORMED_BATCH.decode(body).events
    except (msgspec.DecodeError, RecursionError):  # anything not well formed (msgspec's ValidationError included)
        return None


def _first_error(errors: Any) -> str:
    """'field: message' of the first validation error, for a one-line per-item reason."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            return f"{key}: {_first_error(value)}"
    if isinstance(errors, list) and errors:
        return _first_error(errors[0])
    return str(errors)


class EventCreateApi(ShopperMixin, APIView):
    """Record one event or a batch (up to 500). Each item is accepted, a duplicate (its id was seen before) or
    rejected with a reason; valid items are stored even when others in the batch are bad.

    A browser's events belong to its shopper cookie (and signed-in user); an item naming another `session_id` makes
    the whole request a 403. An API key with `events:write` names each item's `session_id`.

    Limits count events, not requests: each new valid item is counted against "events.shopper" and
    "events.address", each purchase against the shopper's hourly purchase and value caps; an item past a limit is
    rejected naming it, and a batch of which nothing fits the event rates is a 429. The requests themselves are
    throttled apart ("event_requests"), so a flood of invalid items costs the flooder too."""

    permission_classes = [ApiKeyScopes]
    required_scopes = {"POST": ApiKey.Scope.EVENTS_WRITE}
    # one Redis round trip before the view: both request windows, a kept API key's check, the cookie's retired-id
    # check (tracking.shopper_views); a single event was several round trips and a database read of the key
    prefetch = True

    throttle_scope = "event_requests"

    class InputSerializer(serializers.Serializer[Any]):
        """The body: `{"events": [...]}` or one event object. Only its shape is checked here; each item is checked
        on its own below, so one bad item is rejected alone instead of failing the request."""

        events = serializers.ListField(
            child=RawItemField(),
            allow_empty=False,
            max_length=MAX_BATCH,
            error_messages={
                "not_a_list": BODY_SHAPE,
                "empty": "the batch is empty",
                "max_length": "at most {max_length} events per request",
            },
        )

        def to_internal_value(self, data: Any) -> Any:
            if isinstance(data, dict) and "events" not in data and "id" in data:
                data = {"events": [data]}  # a single event object
            if not isinstance(data, dict):
                raise ValidationError({"events": [BODY_SHAPE]})
            return super().to_internal_value(data)

    class ResultSerializer(serializers.Serializer[Any]):
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
                            # no fixed timestamp: one older than the 30-day bound is rejected, and an example must
                            # stay valid whenever it is tried (the server stamps an event without one)
                        },
                        {
                            "id": "9a1d2e3f-4b5c-4d6e-8f70-1a2b3c4d5e6f",
                            "type": "click",
                            "product_id": 40,
                            "context": {"request_id": "<from /api/recommendations/>", "position": 3},
                        },
                    ]
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> HttpResponseBase:
        lane = None
        items = well_formed_events(request)
        if items is not None:  # the fast lane: decoded and checked in C, stored with a few operations an event
            lane = self.record_well_formed(request, items)
            if lane is Lane.STORED and request.accepted_media_type == "application/json":
                return HttpResponse(accepted_answer(items), content_type="application/json")
            if lane is Lane.STORED:  # another rendering asked for (the browsable API)
                return Response({"results": [{"id": str(item.id), "status": "accepted"} for item in items]})

        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        raw_items: list[Any] = body.validated_data["events"]

        shopper = self.shopper(request)
        if not shopper.is_integration:
            named = (raw.get("session_id") for raw in raw_items if isinstance(raw, dict))
            for session_id in {str(value) for value in named if value not in (None, "")}:  # str(): any JSON value
                self.shopper(request, session_id=session_id)  # 403 for anyone else's id

        results: list[dict[str, str] | None] = [None] * len(raw_items)
        valid: list[tuple[int, EventInput]] = []
        # One serializer for the batch: a new instance per item deep-copies its fields each time, which was half
        # the cost of a 500-event batch.
        checker = EventItemSerializer()
        for index, raw in enumerate(raw_items):
            if not isinstance(raw, dict):
                results[index] = {"id": "", "status": "rejected", "error": "an event must be a JSON object"}
                continue
            data = checker.quick(raw)
            if data is None:  # not the usual item: the full checks, and their messages
                item_id = printable(raw.get("id", ""))
                text_error = bad_text_error(raw)  # NUL / lone surrogates: storable nowhere, so rejected per item
                if text_error:
                    results[index] = {"id": item_id, "status": "rejected", "error": text_error}
                    continue
                try:
                    data = checker.run_validation(raw)
                except ValidationError as invalid:
                    results[index] = {"id": item_id, "status": "rejected", "error": _first_error(invalid.detail)}
                    continue
            item = EventInput(**data)
            if not shopper.is_integration:
                item.session_id = shopper.session_id
            valid.append((index, item))
        budget = EventBudget(address=AddressRateThrottle().get_ident(request) or "")
        try:
            recorded = events_record(
                items=[item for _, item in valid],
                user=shopper.user,
                budget=budget,
                write_first=lane is not Lane.EXACT,  # the COPY refused it: the exact way, not the same write again
            )
        except EventLimitExceeded as over:
            raise Throttled(wait=over.retry_after, detail=f"Request was throttled: {over}.") from over
        for (index, _), result in zip(valid, recorded, strict=True):
            results[index] = result.as_dict()
        return Response({"results": results}, status=status.HTTP_200_OK)

    def record_well_formed(self, request: Request, items: list[WellFormedEvent]) -> Lane:
        """The fast lane's write (events_record_well_formed), for the request's shopper: a browser's items are
        its cookie's (naming another id is a 403, as on the usual way), an integration's name their own."""
        shopper = self.shopper(request)
        session_id = None
        if not shopper.is_integration:
            for named in {item.session_id for item in items if item.session_id}:
                self.shopper(request, session_id=named)  # 403 for anyone else's id
            session_id = shopper.session_id
        budget = EventBudget(address=AddressRateThrottle().get_ident(request) or "")
        return events_record_well_formed(items=items, user=shopper.user, budget=budget, session_id=session_id)


__all__ = ["EventCreateApi", "EventType", "PriceField", "TextField"]
