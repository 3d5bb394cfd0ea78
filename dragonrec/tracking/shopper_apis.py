"""The shopper's own endpoints: stated preferences, merging the anonymous history into the account, and the
storefront's sign-in / sign-out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.api_params import QueryParamsSerializer
from dragonrec.tracking.apis import PriceField, TextField
from dragonrec.tracking.authentication import ApiKeyScopes, lockout_message, lockout_retry_after
from dragonrec.tracking.identity import cookie_session_id, signed_in
from dragonrec.tracking.models import ApiKey
from dragonrec.tracking.selectors import preference_get
from dragonrec.tracking.services import preference_update, shopper_sign_in
from dragonrec.tracking.shopper_views import ShopperMixin

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

    class PreferenceSerializer(serializers.Serializer[Any]):
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

    class PreferenceErrorSerializer(serializers.Serializer[Any]):
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

    class SessionMergeInputSerializer(serializers.Serializer[Any]):
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


class UserSerializer(serializers.Serializer[Any]):
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

    class LoginInputSerializer(serializers.Serializer[Any]):
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


__all__ = ["AuthLoginApi", "AuthLogoutApi", "AuthSessionApi", "PreferenceApi", "SessionMergeApi"]
