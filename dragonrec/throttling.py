"""Request-rate limits per API scope, counted per shopper and per client address in the Redis cache.

A view opts in with `throttle_scope = "<scope>"`; its limits are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
entries named "<scope>.shopper" and "<scope>.address" ("600/min"; a missing or empty rate means no limit).
Over a limit, DRF answers 429 with Retry-After.

Why not DRF's SimpleRateThrottle: it keeps every request's timestamp in one cached list that each request reads,
rewrites and races on (3000/min is a 3000-float pickle per request, and concurrent requests lose each other's
writes). A window counter is one atomic INCR on a key that expires `period` after the client's first request;
its cost is that a client can spend up to twice the rate across two back-to-back windows, which is fine for a
limit meant to stop floods, not to meter honest clients.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60); the period is read from its first letter, like DRF's."""
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period.strip()[0].lower()]


def shopper_ident(request: Request) -> str:
    """Who the shopper is for rate purposes: the signed-in user, else the browser's signed shopper cookie, else the
    `session_id` an API-key caller names; "" when the request names nobody (then only the address limit applies).
    A browser without a cookie yet counts under its address only: a fresh id per request must not reset limits."""
    from dragonrec.tracking.identity import cookie_session_id, integration_key, shopper_key, signed_in_user_id

    user_id = signed_in_user_id(getattr(request, "user", None))
    if user_id is not None:
        return shopper_key(user_id=user_id, session_id="")
    if integration_key(request) is not None:
        session_id = request.query_params.get("session_id") or request.headers.get("X-Session-Id") or ""
    else:
        session_id = cookie_session_id(request, create=False)
    if not session_id:
        return ""
    # hashed: session ids are client text of any shape, a cache key should not be
    return shopper_key(
        user_id=None, session_id=hashlib.blake2b(session_id.encode("utf-8", "replace"), digest_size=12).hexdigest()
    )


def _ttl(key: str) -> int | None:
    """Seconds until the window closes (django-redis' `ttl`; another cache backend gets the whole period)."""
    ttl = getattr(cache, "ttl", None)
    try:
        return int(ttl(key)) if ttl is not None else None
    except Exception:
        return None


class _ScopedRateThrottle(BaseThrottle):
    kind = ""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def ident(self, request: Request) -> str:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        rate = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(f"{scope}.{self.kind}") if scope else None
        if not rate:
            return True
        ident = self.ident(request)
        if not ident:
            return True
        limit, period = parse_rate(rate)
        # The window opens at the client's first request and closes `period` later (the key's expiry).
        key = f"dragonrec:throttle:{scope}:{self.kind}:{ident}"
        try:
            cache.add(key, 0, timeout=period)
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: a new window, and this request opens it
            return True
        except Exception:  # the cache being down must not take the API with it: fail open
            logger.warning("throttle counter unavailable; not limiting", exc_info=True)
            return True
        if count is None or int(count) <= limit:
            return True
        ttl = _ttl(key)
        self.retry_after = float(ttl if ttl and 0 < ttl <= period else period)
        return False

    def wait(self) -> float | None:
        return self.retry_after


class ShopperRateThrottle(_ScopedRateThrottle):
    """'<scope>.shopper': one shopper (user, else session id) cannot flood, whatever address they come from."""

    kind = "shopper"

    def ident(self, request: Request) -> str:
        return shopper_ident(request)


class AddressRateThrottle(_ScopedRateThrottle):
    """'<scope>.address': one client address cannot flood by inventing session ids. The address is REMOTE_ADDR,
    or the X-Forwarded-For entry REST_FRAMEWORK["NUM_PROXIES"] hops back when behind trusted proxies."""

    kind = "address"

    def ident(self, request: Request) -> str:
        return self.get_ident(request) or ""
