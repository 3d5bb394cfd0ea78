"""DRF glue for views that act for a shopper (kept out of identity.py, which decides who the shopper is and
imports no DRF view machinery: identity <- authentication <- this module, no cycle).

`ShopperMixin`: API-key authentication first, `self.shopper(request)`, the cookie set on the response. With
`prefetch = True` (the recommendation endpoints) the request makes ONE Redis round trip before the view runs: its
rate-limit counters, the check of an API key kept in memory (tracking.authentication), the check of a cookie id
against retired ids (tracking.identity), and whatever the view queues in `prefetch_queue` (the shopper's state,
impression fatigue), all in one pipeline (issue #27's per-request budget).
"""

from __future__ import annotations

import logging
from typing import Any

from dragonrec.throttling import request_throttles_queue, request_throttles_resolve, shopper_ident_for
from dragonrec.tracking.authentication import (
    ApiKeyAuthentication,
    api_key_deferred_queue,
    api_key_deferred_resolve,
)
from dragonrec.tracking.identity import (
    DEFER_ATTR,
    Shopper,
    ShopperMismatch,
    cookie_apply,
    cookie_session_id,
    cross_site,
    integration_key,
    retired_queue,
    retired_resolve,
    shopper_for_request,
    signed_in_user_id,
)

logger = logging.getLogger(__name__)


class ShopperMixin:
    """For DRF views that act for a shopper: API-key authentication first (then the project's own classes),
    `self.shopper(request)`, and the cookie set on the response when the request issued one."""

    prefetch = False  # one Redis round trip for throttles, deferred checks and `prefetch_queue` (see the module)

    def get_authenticators(self) -> list[Any]:
        others = super().get_authenticators()  # type: ignore[misc]
        ours = ApiKeyAuthentication(deferrable=self.prefetch)
        return [ours, *(a for a in others if not isinstance(a, ApiKeyAuthentication))]

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if self.prefetch:
            setattr(getattr(request, "_request", request), DEFER_ATTR, True)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def check_throttles(self, request: Any) -> None:
        if not self.prefetch:
            super().check_throttles(request)  # type: ignore[misc]
            return
        from django_redis import get_redis_connection

        throttles = self.get_throttles()  # type: ignore[attr-defined]
        replies: list[Any] | None
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
        except Exception:
            pipe = None
        counts = []
        if pipe is not None:
            counts.append(api_key_deferred_queue(pipe, request))
            counts.append(retired_queue(pipe, request))
            throttled_by, count = request_throttles_queue(pipe, request, self, throttles)
            counts.append(count)
            counts.append(self.prefetch_queue(pipe, request))
        try:
            replies = pipe.execute() if pipe is not None else None
        except Exception:  # Redis down: every check below takes its own (database) path, throttles fail open
            logger.warning("serving round trip unavailable", exc_info=True)
            replies = None
        parts: list[list[Any] | None] = []
        start = 0
        for count in counts or [0, 0, 0, 0]:
            parts.append(replies[start : start + count] if replies is not None else None)
            start += count
        before = getattr(request, "auth", None)
        api_key_deferred_resolve(request, parts[0])
        if getattr(request, "auth", None) is not before:
            self.check_permissions(request)  # type: ignore[attr-defined]  # a key's scopes may have changed
        retired_resolve(request, parts[1])
        waits = request_throttles_resolve(throttled_by if pipe is not None else [], parts[2])
        waits += [t.wait() for t in throttles if not _combined(t) and not t.allow_request(request, self)]
        if waits:
            durations = [w for w in waits if w is not None]
            self.throttled(request, max(durations, default=None))  # type: ignore[attr-defined]
        self.prefetch_resolve(request, parts[3])

    def prefetch_queue(self, pipe: Any, request: Any) -> int:
        """Queue the view's own reads onto the request's round trip; how many replies they take."""
        return 0

    def prefetch_resolve(self, request: Any, replies: list[Any] | None) -> None:
        """Take the replies of `prefetch_queue` (None: Redis was unreachable)."""

    def shopper(self, request: Any, *, session_id: str = "") -> Shopper:
        from rest_framework.exceptions import PermissionDenied

        try:
            return shopper_for_request(request, session_id=session_id)
        except ShopperMismatch as exc:
            raise PermissionDenied(str(exc)) from exc

    def may_record(self, request: Any) -> bool:
        """Whether this request may write what a GET records for its shopper (see `cross_site`)."""
        return not cross_site(request)

    def rate_limit_ident(self, request: Any) -> str:
        """Who the shopper is for rate purposes (dragonrec.throttling.ShopperRateThrottle asks the view: the root
        helper knows no app): the signed-in user, else the browser's signed shopper cookie, else the `session_id`
        an API-key caller names; "" when the request names nobody (then only the address limit applies). A
        browser without a cookie yet counts under its address only: a fresh id per request must not reset limits."""
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


def _combined(throttle: Any) -> bool:
    from dragonrec.throttling import ScopedRateThrottle

    return isinstance(throttle, ScopedRateThrottle)
