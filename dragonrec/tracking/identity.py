"""Who the shopper of a request is: the one place that decides it.

A browser is identified by an anonymous id DragonRec issues itself, in a signed, HttpOnly, SameSite=Lax cookie
(set on the first response of a shopper-aware endpoint), plus the Django user once signed in. A `session_id` sent
by a browser that is not its own cookie's is refused: ids are not secrets a client may choose, or anyone could read
another shopper's personalised lists, reasons and data. A shop's backend calling for its own shoppers
authenticates with an API key (`Authorization: Api-Key <key>`) and may then name any `session_id`.

`shopper_for_request` works on a Django `HttpRequest` or a DRF `Request`; `ShopperMixin` makes DRF views use it
and set the cookie on their response.

The anonymous id is a bearer token, so it is replaced whenever what it stands for changes hands: at sign-in (after
its anonymous history is merged into the account), at sign-out and after erasure. The replaced id is retired
(`RetiredShopperId`): a browser, or a copy of its cookie jar taken before its owner signed in, that presents it gets
a fresh, empty id, so the copy reads, erases and adds nothing to the account (issue #21, session fixation).

    shopper = shopper_for_request(request, session_id=params.get("session_id", ""))
    shopper.key  # "u:42", "s:<cookie id>" or "s:<integration's session id>"
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings

SALT = "dragonrec.shopper"  # a signature made for another purpose (sessions, messages) never validates here
PENDING_ATTR = "_dragonrec_shopper_cookie"  # on the HttpRequest: (value to set | None to delete) for the response
PRESENTED_ATTR = "_dragonrec_shopper_presented"  # on the HttpRequest: the verified id its cookie carried ("" = none)
ID_PREFIX = "c-"  # tells ids DragonRec issued from ids an integration chose, in the admin and in exports

DEFAULTS: dict[str, Any] = {
    "NAME": "dragonrec_shopper",
    # A year, like the anonymous carts of most shops: long enough to recognise a returning visitor, and the
    # cookie is renewed on every response that carries it.
    "MAX_AGE": 365 * 24 * 3600,
    "SECURE": None,  # None: Secure exactly when the request came over HTTPS (request.is_secure())
    "SAMESITE": "Lax",
    "DOMAIN": None,
    "PATH": "/",
}


def cookie_settings() -> dict[str, Any]:
    """DRAGONREC_SHOPPER_COOKIE over the defaults; read per call, so `override_settings` works in tests."""
    return {**DEFAULTS, **getattr(settings, "DRAGONREC_SHOPPER_COOKIE", {})}


def shopper_key(*, user_id: int | None, session_id: str) -> str:
    """ "u:<user id>" for a signed-in shopper, else "s:<session id>", else "" (nobody we can remember)."""
    if user_id:
        return f"u:{user_id}"
    return f"s:{session_id}" if session_id else ""


def shopper_key_sql(*, user_column: str, session_column: str) -> str:
    """shopper_key's rule as a SQL expression over a user id and a session id column, for keys computed inside an
    aggregate query (the experiment figures): the one other spelling of the rule, tested against shopper_key."""
    return (
        f"CASE WHEN {user_column} IS NOT NULL THEN 'u:' || {user_column}::text "
        f"WHEN {session_column} <> '' THEN 's:' || {session_column} ELSE '' END"
    )


def signed_in(user: Any | None) -> Any | None:
    """`user` when it is a signed-in user, else None (no user, Django's AnonymousUser)."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def signed_in_user_id(user: Any | None) -> int | None:
    """The signed-in user's id, else None."""
    user = signed_in(user)
    return user.pk if user is not None else None


def shopper_key_for(*, user: Any | None, session_id: str) -> str:
    """The shopper key of a request's user (when signed in) and anonymous session id."""
    return shopper_key(user_id=signed_in_user_id(user), session_id=session_id)


def shopper_key_hash(key: str) -> str:
    """What erasure records keep instead of the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()


class ShopperMismatch(PermissionError):
    """A browser named a session id that is not its own (answered with 403)."""

    def __init__(self) -> None:
        super().__init__(
            "session_id does not match this browser's shopper cookie; browsers are identified by the cookie alone "
            "(omit session_id), and only a server integration with an API key may name a shopper"
        )


@dataclass(frozen=True)
class Shopper:
    """The shopper a request acts for. `user` is the signed-in user (None when anonymous or an integration)."""

    user: Any | None
    session_id: str
    is_integration: bool = False

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def key(self) -> str:
        return shopper_key(user_id=self.user_id, session_id=self.session_id)


def _http_request(request: Any) -> Any:
    return getattr(request, "_request", request)  # a DRF Request wraps Django's


def new_session_id() -> str:
    return ID_PREFIX + secrets.token_urlsafe(18)  # 144 random bits: not guessable, short enough for any column


def presented_session_id(request: Any) -> str:
    """The anonymous id this request's cookie carries, when its signature verifies and the id is not retired;
    else "". One indexed lookup, made once per request (a DRF view, its throttles and a receiver all ask)."""
    raw = _http_request(request)
    if hasattr(raw, PRESENTED_ATTR):
        return str(getattr(raw, PRESENTED_ATTR))
    conf = cookie_settings()
    value = str(raw.get_signed_cookie(conf["NAME"], default=None, salt=SALT, max_age=conf["MAX_AGE"]) or "")
    if value and getattr(raw, DEFER_ATTR, False):
        setattr(raw, RETIRED_DEFERRED_ATTR, value)  # checked in the request's Redis round trip (retired_resolve)
    elif value and _retired(value):
        value = ""
    setattr(raw, PRESENTED_ATTR, value)
    return value


# ------------------------------------------------------------------------------------------------ retired ids, cached
# Serving views (ShopperMixin) check a cookie's id against RetiredShopperId once per process, not once per request:
# the ids are spread over RETIRED_BUCKETS buckets, each with a token in Redis that every retirement in it replaces;
# an id found live under its bucket's token is live for as long as that token stands. The token is read in the
# request's one Redis round trip, before the database is asked, so a retirement is never missed: if it committed
# after the read, the next request reads the new token. A Redis that lost its tokens reads as "changed".
RETIRED_TOKENS_KEY = "dragonrec:retired:tokens"
RETIRED_BUCKETS = 1024  # one sign-in makes 1/1024 of the live ids be looked up again, once per process
DEFER_ATTR = "_dragonrec_defer_checks"  # on the HttpRequest: the view checks retired ids and keys in its round trip
RETIRED_DEFERRED_ATTR = "_dragonrec_retired_deferred"  # on the HttpRequest: the cookie's id, not checked yet
_LIVE_MAX = 100_000  # ~10 MB per process; cleared when full (then each id is looked up once more)
_live: dict[str, str] = {}  # session id -> the token of its bucket when it was found live


def _bucket(session_id: str) -> str:
    return str(int(hashlib.blake2b(session_id.encode(), digest_size=4).hexdigest(), 16) % RETIRED_BUCKETS)


def retired_queue(pipe: Any, request: Any) -> int:
    """Queue the read of the cookie id's bucket token onto `pipe` when its check was deferred; reply count."""
    if integration_key(request) is None:
        presented_session_id(request)  # reads the cookie (deferring its check) if nothing did yet
    value = getattr(_http_request(request), RETIRED_DEFERRED_ATTR, None)
    if not value:
        return 0
    pipe.hget(RETIRED_TOKENS_KEY, _bucket(value))
    return 1


def retired_resolve(request: Any, replies: list[Any] | None) -> None:
    """Finish the deferred check of the cookie's id: known live under the current token, else looked up (and a
    retired id replaced by a fresh one, as `presented_session_id` would have). `replies`: those of retired_queue."""
    raw = _http_request(request)
    value = getattr(raw, RETIRED_DEFERRED_ATTR, None)
    if not value:
        return
    delattr(raw, RETIRED_DEFERRED_ATTR)
    token = replies[0].decode() if replies and replies[0] else ""
    if token and _live.get(value) == token:
        return
    if not token and replies is not None:
        token = _token_ensure(_bucket(value))
    if _retired(value):
        _live.pop(value, None)
        setattr(raw, PRESENTED_ATTR, "")
        return
    if token:
        if len(_live) >= _LIVE_MAX:
            _live.clear()
        _live[value] = token


def _redis() -> Any:
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _token_ensure(bucket: str) -> str:
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hsetnx(RETIRED_TOKENS_KEY, bucket, secrets.token_hex(8))
        pipe.hget(RETIRED_TOKENS_KEY, bucket)
        return str(pipe.execute()[1].decode())
    except Exception:
        return ""


def _token_replace(session_id: str) -> None:
    _live.pop(session_id, None)
    try:
        _redis().hset(RETIRED_TOKENS_KEY, _bucket(session_id), secrets.token_hex(8))
    except Exception:  # every process then looks the ids of this bucket up until the token is readable again
        import logging

        logging.getLogger(__name__).warning("could not announce a retired shopper id", exc_info=True)


def _retired(session_id: str) -> bool:
    """One primary-key probe, in SQL: it runs on every browser request, where building it through the ORM cost
    more than running it (1.1 vs 0.46 ms measured under load, a `SELECT 1` round trip 0.3 ms)."""
    from django.db import connection

    from dragonrec.tracking.models import RetiredShopperId

    table = connection.ops.quote_name(RetiredShopperId._meta.db_table)  # from the model; the value is bound
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE session_id = %s LIMIT 1", [session_id])
        return cursor.fetchone() is not None


def cookie_session_id(request: Any, *, create: bool = True) -> str:
    """This browser's anonymous id from its signed cookie; a fresh one (set on the response) when there is none,
    its signature does not verify or the id was retired. "" when there is none and `create` is False."""
    raw = _http_request(request)
    pending = getattr(raw, PENDING_ATTR, None)
    if pending:
        return str(pending)
    value = presented_session_id(raw)
    if value:
        return value
    if not create:
        return ""
    value = new_session_id()
    setattr(raw, PENDING_ATTR, value)
    return value


def cookie_issued(request: Any) -> bool:
    """Whether this request issued (or rotated to) a new anonymous id, which has no history yet."""
    return bool(getattr(_http_request(request), PENDING_ATTR, None))


def shopper_id_retire(*, session_id: str) -> None:
    """Mark `session_id` dead (see RetiredShopperId), and forget ids retired longer ago than a cookie can live."""
    from django.db import transaction
    from django.utils import timezone

    from dragonrec.tracking.models import RetiredShopperId

    now = timezone.now()
    RetiredShopperId.objects.bulk_create(
        [RetiredShopperId(session_id=session_id, retired_at=now)], ignore_conflicts=True
    )
    _token_replace(session_id)  # now (this connection's reads) and once committed (everyone else's)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _token_replace(session_id))
    horizon = now - timedelta(seconds=int(cookie_settings()["MAX_AGE"]))
    RetiredShopperId.objects.filter(retired_at__lt=horizon).delete()  # index range: a few rows a day at most


def cookie_rotate(request: Any) -> str:
    """Give this browser a new anonymous id and retire the one its cookie carried (at sign-in, sign-out, after
    erasure): what happens next is not linked to what came before, and a copy of the old cookie is worth nothing."""
    raw = _http_request(request)
    old = presented_session_id(raw)
    if old:
        shopper_id_retire(session_id=old)
        setattr(raw, PRESENTED_ATTR, "")
    value = new_session_id()
    setattr(raw, PENDING_ATTR, value)
    return value


def cross_site(request: Any) -> bool:
    """Whether the browser says another site started this request (`Sec-Fetch-Site: cross-site`: a link, a form
    or an <img> elsewhere). The Lax shopper cookie rides along on such a top-level GET, so a GET that would record
    something for the shopper (a served list, impression fatigue) serves without recording it: another site cannot
    make a visitor's browser write to their profile. "same-site", "same-origin", "none" (typed, bookmarked) and no
    header (older browsers, server integrations) are the shopper's own requests."""
    return str(_http_request(request).headers.get("Sec-Fetch-Site", "")).strip().lower() == "cross-site"


def integration_key(request: Any) -> Any | None:
    """The API key a request authenticated with, if any (set by `ApiKeyAuthentication`)."""
    from dragonrec.tracking.models import ApiKey

    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


def shopper_for_request(request: Any, *, session_id: str = "") -> Shopper:
    """The shopper of `request`; `session_id` is what the caller named explicitly ("" when nothing).

    Integration (API key): the named session, or nobody. Browser: the signed-in user (if any) and the cookie's
    id; naming another id raises `ShopperMismatch`.
    """
    if integration_key(request) is not None:
        return Shopper(user=None, session_id=session_id, is_integration=True)
    user = signed_in(getattr(request, "user", None))
    own = cookie_session_id(request)
    if session_id and session_id != own:
        raise ShopperMismatch()
    return Shopper(user=user, session_id=own)


def cookie_apply(request: Any, response: Any) -> Any:
    """Set the shopper cookie on `response` when this request issued or rotated the id."""
    value = getattr(_http_request(request), PENDING_ATTR, None)
    if not value:
        return response
    conf = cookie_settings()
    secure = conf["SECURE"] if conf["SECURE"] is not None else _http_request(request).is_secure()
    response.set_signed_cookie(
        conf["NAME"],
        value,
        salt=SALT,
        max_age=conf["MAX_AGE"],
        secure=secure,
        httponly=True,
        samesite=conf["SAMESITE"],
        domain=conf["DOMAIN"],
        path=conf["PATH"],
    )
    return response
