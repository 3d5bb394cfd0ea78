"""API keys for server integrations: `Authorization: Api-Key <key>` (DRF authentication) and scope checks; and the
failed-credential limits shared with sign-in (django-axes): failed API keys are counted per client address like
wrong passwords, and a locked-out client meets a 429 before its key or password is even checked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse, JsonResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import BaseThrottle

from dragonrec.throttling import shopper_ident_for
from dragonrec.tracking.identity import (
    Shopper,
    ShopperMismatch,
    cookie_apply,
    cookie_session_id,
    cross_site,
    integration_key,
    shopper_for_request,
    signed_in_user_id,
)
from dragonrec.tracking.services import api_key_authenticate

KEYWORD = "Api-Key"


def client_address(request: Any) -> str:
    """The client address the rate limits use (REMOTE_ADDR, or the X-Forwarded-For entry REST_FRAMEWORK
    ["NUM_PROXIES"] hops back behind trusted proxies): django-axes' AXES_CLIENT_IP_CALLABLE, so a lockout and a
    rate limit never disagree about who the client is, and a client cannot pick its address with a header."""
    return BaseThrottle().get_ident(getattr(request, "_request", request)) or ""


def _lockouts_enabled() -> bool:
    """django-axes is optional for a host project: without it API-key failures are not counted (docs/operations.md)."""
    from django.conf import settings

    return apps.is_installed("axes") and bool(getattr(settings, "AXES_ENABLED", True))


def _cool_off(request: Any) -> timedelta | None:
    from axes.helpers import get_cool_off

    return get_cool_off(request)


def lockout_retry_after(request: Any) -> int:
    cool_off = _cool_off(request)
    return max(1, int(cool_off.total_seconds())) if cool_off else 3600


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_message(request: Any, credentials: dict[str, Any] | None) -> str:
    what = (
        "failed API-key attempts from this address"
        if str((credentials or {}).get("username", "")).startswith(API_KEY_SUBJECT)
        else "failed sign-ins for this username from this address"
    )
    return f"Too many {what}; try again in {_minutes(lockout_retry_after(request))}."


def lockout_response(request: Any, original_response: Any = None, credentials: dict[str, Any] | None = None) -> Any:
    """django-axes' AXES_LOCKOUT_CALLABLE: a 429 with Retry-After; JSON `{"detail": ...}` where the refused request
    was an API call (a DRF response), a plain message elsewhere (the admin's login form)."""
    from rest_framework.response import Response

    retry_after = lockout_retry_after(request)
    message = lockout_message(request, credentials)
    response: HttpResponse
    if isinstance(original_response, Response):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


# What an API-key failure is recorded as in django-axes (its "username"): not a valid Django username (the
# validators refuse spaces and brackets), so no account shares its counter, and it names the address, so a host
# whose AXES_LOCKOUT_PARAMETERS is ["username"] still counts per address rather than for every client at once.
API_KEY_SUBJECT = "<api key>"


def _api_key_credentials(request: Any) -> dict[str, str]:
    return {"username": f"{API_KEY_SUBJECT} {client_address(request)}"}


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a shop's backend. `request.user` stays anonymous (an integration is not a shopper);
    `request.auth` is the `ApiKey`, which is what lets the request name any `session_id`.

    Wrong keys are counted per client address by django-axes, like wrong passwords (DRF authenticates before its
    throttles run, so a throttle could not see them): after AXES_FAILURE_LIMIT failures within the cool-off, that
    address meets a 429 for every API-key request, without its key being looked up, until the cool-off passes."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, raw = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None  # not ours: session or basic authentication may still apply
        django_request = getattr(request, "_request", request)
        counted = _lockouts_enabled()
        if counted:
            from axes.handlers.proxy import AxesProxyHandler

            credentials = _api_key_credentials(django_request)
            if not AxesProxyHandler.is_allowed(django_request, credentials):
                raise exceptions.Throttled(
                    wait=lockout_retry_after(django_request), detail=lockout_message(django_request, credentials)
                )
        key = api_key_authenticate(raw=raw.strip())
        if key is None:
            if counted:
                # django-axes records the failure (and flags the request once the limit is reached: its middleware
                # then answers this request with the lockout 429 too)
                user_login_failed.send(sender=type(self), credentials=credentials, request=django_request)
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        return AnonymousUser(), key

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD  # a 401, not a 403, for a bad key: the caller should fix its credentials


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the key in the OpenAPI schema (registered by subclassing)."""

    target_class = "dragonrec.tracking.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Server integrations: `Api-Key drk_<prefix>_<secret>`",
        }


class ApiKeyScopes(permissions.BasePermission):
    """An API-key request must hold the scope the view names for its method (`required_scopes`); browser
    requests are unaffected (what they may do is decided by the cookie and the signed-in user)."""

    message = "this API key lacks the scope this endpoint needs"

    def has_permission(self, request: Any, view: Any) -> bool:
        key = integration_key(request)
        if key is None:
            return True
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None:
            self.message = "API keys cannot use this endpoint"
            return False
        if needed not in key.scopes:
            self.message = f"this API key lacks the '{needed}' scope"
            return False
        return True


class ShopperMixin:
    """For DRF views that act for a shopper: API-key authentication first (then the project's own classes),
    `self.shopper(request)`, the cookie set on the response when the request issued one, and the shopper the
    rate limits count (dragonrec.throttling.ShopperRateThrottle asks the view: the root helper knows no app)."""

    def get_authenticators(self) -> list[Any]:
        others = super().get_authenticators()  # type: ignore[misc]
        return [ApiKeyAuthentication(), *(a for a in others if not isinstance(a, ApiKeyAuthentication))]

    def shopper(self, request: Any, *, session_id: str = "") -> Shopper:
        try:
            return shopper_for_request(request, session_id=session_id)
        except ShopperMismatch as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc

    def may_record(self, request: Any) -> bool:
        """Whether this request may write what a GET records for its shopper (see `cross_site`)."""
        return not cross_site(request)

    def rate_limit_ident(self, request: Any) -> str:
        """Who the shopper is for rate purposes: the signed-in user, else the browser's signed shopper cookie, else
        the `session_id` an API-key caller names; "" when the request names nobody (then only the address limit
        applies). A browser without a cookie yet counts under its address only: a fresh id per request must not
        reset limits."""
        user_id = signed_in_user_id(getattr(request, "user", None))
        if user_id is not None:
            return shopper_ident_for(user_id=user_id, session_id="")
        if integration_key(request) is not None:
            session_id = request.query_params.get("session_id") or request.headers.get("X-Session-Id") or ""
        else:
            session_id = cookie_session_id(request, create=False)
        return shopper_ident_for(user_id=None, session_id=session_id)

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        return cookie_apply(request, response)
