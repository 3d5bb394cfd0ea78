from __future__ import annotations

import contextlib
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.api_params import QueryParamsSerializer
from dragonrec.throttling import AddressRateThrottle
from dragonrec.tracking.authentication import ApiKeyScopes, lockout_message, lockout_retry_after
from dragonrec.tracking.identity import cookie_session_id, signed_in
from dragonrec.tracking.models import ApiKey, EventType
from dragonrec.tracking.selectors import preference_get
from dragonrec.tracking.services import (
    MAX_BATCH,
    EventBudget,
    EventInput,
    EventLimitExceeded,
    events_record,
    preference_update,
    shopper_sign_in,
)
from dragonrec.tracking.shopper_views import ShopperMixin
from dragonrec.tracking.validation import bad_text_error, printable


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


MAX_CONTEXT_BYTES = 4096  # page, referrer, request id, position: anything bigger is not tracking context


class EventItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(max_length=32)  # checked in the service, so the reason lists the valid types
    product_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)
    session_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    timestamp = serializers.DateTimeField(required=False, allow_null=True)
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    # Shadows Field.context in the stubs only: DRF's serializer metaclass pops declared fields off the class.
    context = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]

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

    throttle_scope = "event_requests"

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
                            "timestamp": "2026-11-26T10:00:00Z",
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
            item_id = printable(raw.get("id", "")) if isinstance(raw, dict) else ""
            if not isinstance(raw, dict):
                results[index] = {"id": "", "status": "rejected", "error": "an event must be a JSON object"}
                continue
            text_error = bad_text_error(raw)  # NUL / lone surrogates: storable nowhere, so rejected per item
            if text_error:
                results[index] = {"id": item_id, "status": "rejected", "error": text_error}
                continue
            try:
                item = EventInput(**checker.run_validation(raw))
            except ValidationError as invalid:
                results[index] = {"id": item_id, "status": "rejected", "error": _first_error(invalid.detail)}
                continue
            if not shopper.is_integration:
                item.session_id = shopper.session_id
            valid.append((index, item))
        budget = EventBudget(address=AddressRateThrottle().get_ident(request) or "")
        try:
            recorded = events_record(items=[item for _, item in valid], user=shopper.user, budget=budget)
        except EventLimitExceeded as over:
            raise Throttled(wait=over.retry_after, detail=f"Request was throttled: {over}.") from over
        for (index, _), result in zip(valid, recorded, strict=True):
            results[index] = result.as_dict()
        return Response({"results": results}, status=status.HTTP_200_OK)


SESSION_ID_HELP = (
    "Required with an API key (the shopper whose preferences these are; without it: 400). A browser omits it: "
    "its shopper cookie or signed-in user says who it is, and naming another id is a 403."
)
PREFERENCE_400 = (
    "Invalid input, the offending field named; in particular `session_id` missing with an API key "
    '(`{"session_id": ["required with an API key"]}`), a `price_max` below `price_min`, and a PUT without a body.'
)


class PreferenceApi(ShopperMixin, APIView):
    """The shopper's stated tastes, used for cold-start recommendations: a signed-in user's, else the anonymous
    shopper cookie's (merged into the account at sign-in). An API key with `preferences:write` names a
    `session_id` (query parameter for GET, body field for PUT)."""

    throttle_scope = "preferences"
    # A PUT states the whole preference: a request without any body is a mistake, not "clear everything" (`{}` is)
    body_required = ("PUT",)

    permission_classes = [ApiKeyScopes]
    required_scopes = {"GET": ApiKey.Scope.PREFERENCES_WRITE, "PUT": ApiKey.Scope.PREFERENCES_WRITE}

    class PreferenceSerializer(serializers.Serializer):
        categories = serializers.ListField(
            child=TextField(max_length=1000, allow_blank=True), max_length=50, default=list
        )
        brands = serializers.ListField(child=TextField(max_length=200, allow_blank=True), max_length=50, default=list)
        price_min = PriceField(max_digits=12, decimal_places=2, min_value=0, allow_null=True, default=None)
        price_max = PriceField(max_digits=12, decimal_places=2, min_value=0, allow_null=True, default=None)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            low, high = attrs.get("price_min"), attrs.get("price_max")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError({"price_max": "must not be below price_min"})
            # blank entries (an empty form field) state nothing
            for key in ("categories", "brands"):
                attrs[key] = [value for value in attrs.get(key, []) if value.strip()]
            return attrs

    class PreferenceInputSerializer(PreferenceSerializer):
        session_id = TextField(max_length=128, required=False, allow_blank=True, default="", help_text=SESSION_ID_HELP)

    class PreferenceQuerySerializer(QueryParamsSerializer):
        # validated like the body's: a NUL reached the database query unchecked (a 500)
        session_id = serializers.CharField(
            max_length=128, required=False, allow_blank=True, default="", help_text=SESSION_ID_HELP
        )

    class PreferenceErrorSerializer(serializers.Serializer):
        """The 400s this endpoint gives besides a malformed field: OpenAPI cannot state that a parameter is
        required for one kind of caller only, nor that one field bounds another, so the answer is described."""

        detail = serializers.CharField(required=False, help_text="a PUT without a body")
        session_id = serializers.ListField(
            child=serializers.CharField(), required=False, help_text='["required with an API key"]'
        )
        price_max = serializers.ListField(
            child=serializers.CharField(), required=False, help_text='["must not be below price_min"]'
        )

    def _shopper(self, request: Request, session_id: str) -> Any:
        shopper = self.shopper(request, session_id=session_id)
        if shopper.is_integration and not shopper.session_id:
            raise ValidationError({"session_id": ["required with an API key"]})  # a list, like every field error
        return shopper

    @staticmethod
    def _data(pref: Any) -> dict[str, Any]:
        if pref is None:
            return {"categories": [], "brands": [], "price_min": None, "price_max": None}
        return {
            "categories": pref.categories,
            "brands": pref.brands,
            "price_min": pref.price_min,
            "price_max": pref.price_max,
        }

    @extend_schema(
        parameters=[PreferenceQuerySerializer],
        responses={
            200: PreferenceSerializer,
            400: OpenApiResponse(PreferenceErrorSerializer, description=PREFERENCE_400),
        },
    )
    def get(self, request: Request) -> Response:
        params = self.PreferenceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        shopper = self._shopper(request, params.validated_data["session_id"])
        pref = preference_get(user=shopper.user, session_id=shopper.session_id)
        return Response(self.PreferenceSerializer(self._data(pref)).data)

    @extend_schema(
        request=PreferenceInputSerializer,
        responses={
            200: PreferenceSerializer,
            400: OpenApiResponse(PreferenceErrorSerializer, description=PREFERENCE_400),
        },
    )
    def put(self, request: Request) -> Response:
        if request.stream is None:  # DRF's stream is None exactly when the request has no body
            raise ValidationError({"detail": "a JSON body is required: the preferences to state ({} clears them)"})
        serializer = self.PreferenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        shopper = self._shopper(request, data.pop("session_id"))
        pref = preference_update(user=shopper.user, session_id=shopper.session_id, **data)
        return Response(self.PreferenceSerializer(self._data(pref)).data)


class SessionMergeApi(ShopperMixin, APIView):
    """Attach this browser's anonymous history to the signed-in user (sign-in through DragonRec's login endpoint
    or Django's login does this already). Only the caller's own, verified shopper cookie is merged (a `session_id`
    naming anyone else's is a 403); its id is then retired and the browser gets a new one, as at sign-in."""

    permission_classes = [IsAuthenticated]

    class SessionMergeInputSerializer(serializers.Serializer):
        session_id = TextField(max_length=128, required=False, allow_blank=True, default="")

    @extend_schema(
        request=SessionMergeInputSerializer,
        responses=inline_serializer("SessionMergeOutput", {"merged": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        serializer = self.SessionMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.shopper(request, session_id=serializer.validated_data["session_id"])  # 403 for anyone else's id
        return Response({"merged": shopper_sign_in(request=request, user=request.user)})


# ------------------------------------------------------------------------------------------ storefront sign-in


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


def _user_data(user: Any) -> dict[str, Any] | None:
    if signed_in(user) is None:
        return None
    return {"id": user.pk, "username": user.get_username()}


AuthOutput = inline_serializer("AuthSessionOutput", {"user": UserSerializer(allow_null=True)})


class AuthSessionApi(ShopperMixin, APIView):
    """Who is signed in. Also sets the `csrftoken` cookie (the storefront sends it back as `X-CSRFToken` on
    writes) and the shopper cookie, so a storefront that calls this first has both before anything else."""

    permission_classes = [AllowAny]

    @extend_schema(responses=AuthOutput)
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        cookie_session_id(request)
        return Response({"user": _user_data(request.user)})


class AuthLoginApi(ShopperMixin, APIView):
    """Sign in with Django's `authenticate` + `login` (a session cookie). The anonymous history and preferences of
    the shopper cookie this request presents are merged into the account, and the browser gets a new shopper id
    (the `user_logged_in` receiver). Wrong passwords lock that username out from this address for a while
    (django-axes: a 429, and a correct password is not checked either until the cool-off has passed)."""

    permission_classes = [AllowAny]
    throttle_scope = "signin"  # per address, whatever the usernames (config/settings/base.py THROTTLE_RATES)

    class LoginInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        request=LoginInputSerializer,
        responses={200: AuthOutput, 400: inline_serializer("AuthError", {"detail": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        # DRF checks CSRF only for requests that are already signed in; a login form is a target too (login CSRF)
        SessionAuthentication().enforce_csrf(request)
        serializer = self.LoginInputSerializer(data=request.data)
        if not serializer.is_valid():
            # say which field and why (a NUL or a lone surrogate is refused like a missing value), never a 500
            field, problems = next(iter(serializer.errors.items()))
            return Response({"detail": f"{field}: {problems[0]}"}, status=status.HTTP_400_BAD_REQUEST)
        user = authenticate(request._request, **serializer.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            # django-axes refused it before the password was checked (or this failure reached the limit)
            credentials = {"username": serializer.validated_data["username"]}
            return Response(
                {"detail": lockout_message(request._request, credentials)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(lockout_retry_after(request._request))},
            )
        if user is None:
            return Response({"detail": "wrong username or password"}, status=status.HTTP_400_BAD_REQUEST)
        login(request._request, user)
        return Response({"user": _user_data(user)})


class AuthLogoutApi(ShopperMixin, APIView):
    """Sign out. The browser gets a new anonymous shopper id: what the next person at this browser does is not
    added to the account's history at their sign-in."""

    permission_classes = [AllowAny]

    @extend_schema(request=None, responses=AuthOutput)
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        logout(request._request)  # the user_logged_out receiver gives the browser a new shopper id
        return Response({"user": None})


__all__ = [
    "AuthLoginApi",
    "AuthLogoutApi",
    "AuthSessionApi",
    "EventCreateApi",
    "EventType",
    "PreferenceApi",
    "SessionMergeApi",
]
