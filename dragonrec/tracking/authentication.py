"""API keys for server integrations: `Authorization: Api-Key <key>` (DRF authentication) and scope checks; and the
failed-credential limits shared with sign-in (django-axes): failed API keys are counted per client address like
wrong passwords, and a locked-out client meets a 429 before its key or password is even checked."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import BaseThrottle

from dragonrec.tracking.identity import (
    integration_key,
)
from dragonrec.tracking.models import ApiKey
from dragonrec.tracking.services import LAST_USED_RESOLUTION, api_key_authenticate

logger = logging.getLogger(__name__)
KEYWORD = "Api-Key"
RECOMMENDATIONS_READ = ApiKey.Scope.RECOMMENDATIONS_READ  # the scope of every list endpoint (recommender.api_base)


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

    cool_off: timedelta | None = get_cool_off(request)  # axes is unannotated
    return cool_off


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
    address meets a 429 for every API-key request, without its key being looked up, until the cool-off passes.

    `deferrable` (the serving views, tracking.identity.ShopperMixin): a key this process verified before is taken
    from memory, and the request's one Redis round trip then checks that no key changed since and that its address
    has no failures counted (`api_key_deferred_queue` / `api_key_deferred_resolve`); otherwise the full check runs
    then, with the answer it would have given here."""

    def __init__(self, *, deferrable: bool = False) -> None:
        # an instance flag, not a subclass: the schema's security scheme is keyed by the authenticator's class
        self.deferrable = deferrable

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, raw = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None  # not ours: session or basic authentication may still apply
        django_request = getattr(request, "_request", request)
        if self.deferrable:
            cached = _verified_get(raw.strip())
            if cached is not None:  # checked against revocations and lockouts in the request's one Redis round trip
                setattr(django_request, DEFERRED_ATTR, raw.strip())
                return AnonymousUser(), cached
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
                _failure_mark(django_request)
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        if self.deferrable:
            # kept unconfirmed: the next request's round trip reads the token before verifying it again, so a key
            # revoked while this request read it is never kept as valid
            _verified_keep(raw.strip(), key, "")
        return AnonymousUser(), key

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD  # a 401, not a 403, for a bad key: the caller should fix its credentials


# ------------------------------------------------------------------------------------------------ cached keys
# A key verified once is kept in this process for LAST_USED_RESOLUTION (then verified again, which also records its
# use); a token in Redis, replaced whenever any key is saved or deleted (a revocation, new scopes), says whether what
# is kept is still true, and a per-address mark says the address has failures django-axes is counting.
GENERATION_KEY = "dragonrec:apikeys:generation"
FAILED_KEY = "dragonrec:apikeys:failed:{}"
DEFERRED_ATTR = "_dragonrec_api_key_deferred"  # on the HttpRequest: the raw key taken from memory
_VERIFIED_MAX = 1000  # keys are per integration: a handful; the bound only stops a flood of distinct valid keys
_verified: dict[str, tuple[Any, str, float]] = {}  # sha256(raw) -> (ApiKey, generation verified under, when)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def _verified_get(raw: str) -> Any | None:
    entry = _verified.get(_digest(raw))
    if entry is None or time.monotonic() - entry[2] > LAST_USED_RESOLUTION.total_seconds():
        return None
    return entry[0]


def _redis() -> Any:
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _failure_mark(request: Any) -> None:
    try:
        _redis().set(FAILED_KEY.format(client_address(request)), 1, ex=lockout_retry_after(request))
    except Exception:  # the axes counter in the database still locks the address out
        logger.warning("could not mark an API-key failure in Redis", exc_info=True)


def api_keys_changed() -> None:
    """A key was saved or deleted: every process verifies its kept keys again (now and once committed)."""
    _verified.clear()

    def bump() -> None:
        try:
            _redis().set(GENERATION_KEY, uuid.uuid4().hex)
        except Exception:  # kept keys then live out LAST_USED_RESOLUTION
            logger.warning("could not announce an API-key change", exc_info=True)

    bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(bump)


def api_key_deferred_queue(pipe: Any, request: Any) -> int:
    """Queue the reads that verify a key taken from memory onto `pipe` (the request's round trip); reply count."""
    raw = getattr(getattr(request, "_request", request), DEFERRED_ATTR, None)
    if raw is None:
        return 0
    pipe.get(GENERATION_KEY)
    pipe.exists(FAILED_KEY.format(client_address(request)))
    return 2


def api_key_deferred_resolve(request: Any, replies: list[Any] | None) -> None:
    """Finish authenticating a request whose key came from memory: the full check (the lockout, the database) when
    its address has failures counted or any key changed since it was kept; raises what `authenticate` would have.
    `replies` are those of `api_key_deferred_queue` (None: Redis unreachable)."""
    django_request = getattr(request, "_request", request)
    raw = getattr(django_request, DEFERRED_ATTR, None)
    if raw is None:
        return
    digest = _digest(raw)
    generation = replies[0].decode() if replies and replies[0] else ""
    failures = bool(replies[1]) if replies else True
    entry = _verified.get(digest)
    if not failures and generation and entry is not None and entry[1] == generation:
        return
    _verified.pop(digest, None)
    if not generation and replies is not None:
        # no token yet (a fresh Redis): set one, so keys kept from now on can be checked against it
        generation = uuid.uuid4().hex
        try:
            pipe = _redis().pipeline(transaction=False)
            pipe.set(GENERATION_KEY, generation, nx=True)
            pipe.get(GENERATION_KEY)
            generation = pipe.execute()[1].decode()
        except Exception:
            generation = ""
    delattr(django_request, DEFERRED_ATTR)
    _, key = ApiKeyAuthentication().authenticate(request) or (None, None)  # read after the token: never stale
    request.auth = key
    if key is not None and generation:
        _verified_keep(raw, key, generation)


def _verified_keep(raw: str, key: Any, generation: str) -> None:
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[_digest(raw)] = (key, generation, time.monotonic())


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
