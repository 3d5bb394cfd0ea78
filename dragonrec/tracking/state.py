"""A shopper's state (recent history, stated preferences), cached in Redis and invalidated on every write.

Every recommendation request reads it; from the database that was two statements per request (issue #27). The
cache is exact, not merely fresh-ish: each shopper has a version counter, bumped after a write commits (events
recorded or imported, a session merged into an account, preferences saved or deleted, an erasure), and a cached
state is used only when it was built under the version Redis holds now. A reader that raced a write (read the
version, then the old rows) stores its state under the old version, which the next reader sees is stale.

    pipe = redis.pipeline(transaction=False)
    shopper_state_queue(pipe, key)                 # two commands: the version and the cached state
    state = shopper_state_resolve(key, replies)    # from the cache, or from the database (then cached)

Redis unreachable: the state comes from the database, as before. A bump that could not reach Redis leaves a stale
state for at most STATE_TTL_S; an erasure's bump also deletes the cached state, so erased history is not kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from dragonrec.tracking.identity import shopper_key
from dragonrec.tracking.models import UserPreference
from dragonrec.tracking.selectors import HISTORY_LIMIT, history_recent

logger = logging.getLogger(__name__)

VERSION_KEY = "dragonrec:shopper:version:{}"
STATE_KEY = "dragonrec:shopper:state:{}"
# A state is rebuilt after this long even without a write: bounds what a lost bump (Redis down during a write, a
# bulk delete by the retention job) can leave stale. Long enough that a browsing shopper is served from the cache.
STATE_TTL_S = 600
VERSION_TTL_S = 7 * 86400  # outlives any cached state: a version that expired reads as a mismatch, never a match
SHOPPER_STATE_PATTERNS = (VERSION_KEY.format("*"), STATE_KEY.format("*"))  # for SCANs: retention, tests


def shopper_states_clear() -> int:
    """Drop every cached state and version (tests whose database rolls back under the cache; an operator who
    restored a database backup); how many keys went. Shoppers' states are then read from the database again."""
    client = _redis()
    removed = 0
    for pattern in SHOPPER_STATE_PATTERNS:
        names = list(client.scan_iter(match=pattern, count=1000))
        if names:
            removed += int(client.delete(*names))
    return removed


@dataclass(frozen=True)
class ShopperState:
    """What serving reads about a shopper: (product id, event type, unix time) oldest first, and their stated
    preferences (categories, brands, price_min, price_max as floats or None), None when they stated none."""

    history: list[tuple[int, str, float]] = field(default_factory=list)
    preferences: dict[str, Any] | None = None
    limit: int = HISTORY_LIMIT


def _redis() -> Any:
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def shopper_state_queue(pipe: Any, key: str) -> int:
    """Queue the reads of `key`'s cached state onto `pipe`; how many replies they take."""
    pipe.get(VERSION_KEY.format(key))
    pipe.get(STATE_KEY.format(key))
    return 2


def shopper_state_resolve(key: str, replies: list[Any] | None, *, limit: int = HISTORY_LIMIT) -> ShopperState:
    """The state of `key` from the replies of `shopper_state_queue` (None: Redis was unreachable); built from the
    database and cached when the cache had no state for the current version."""
    if not key:
        return ShopperState(limit=limit)
    version = _version(replies[0]) if replies else None
    if replies and replies[1]:
        try:
            cached = json.loads(replies[1])
        except ValueError:
            cached = {}
        if cached.get("version") == version and int(cached.get("limit", 0)) >= limit:
            history = [(int(p), str(t), float(ts)) for p, t, ts in cached["history"]][-limit:]
            return ShopperState(history=history, preferences=cached["preferences"], limit=limit)
    state = shopper_state_load(key, limit=limit)
    if replies is not None:
        blob = {"version": version, "limit": limit, "history": state.history, "preferences": state.preferences}
        try:
            _redis().set(STATE_KEY.format(key), json.dumps(blob, separators=(",", ":")), ex=STATE_TTL_S)
        except Exception:
            logger.warning("shopper state cache unavailable", exc_info=True)
    return state


def shopper_state_get(key: str, *, limit: int = HISTORY_LIMIT) -> ShopperState:
    """`key`'s state through the cache, in one round trip of its own (callers outside a prefetched request)."""
    if not key:
        return ShopperState(limit=limit)
    try:
        pipe = _redis().pipeline(transaction=False)
        shopper_state_queue(pipe, key)
        replies: list[Any] | None = pipe.execute()
    except Exception:
        logger.warning("shopper state cache unavailable; reading the database", exc_info=True)
        replies = None
    return shopper_state_resolve(key, replies, limit=limit)


def shopper_state_load(key: str, *, limit: int = HISTORY_LIMIT) -> ShopperState:
    """`key`'s state from the database (two indexed statements)."""
    kind, _, ident = key.partition(":")
    if kind == "u" and ident.isdigit():
        rows = history_recent(user_id=int(ident), limit=limit)
        pref = UserPreference.objects.filter(user_id=int(ident)).first()
    elif kind == "s" and ident:
        rows = history_recent(session_id=ident, limit=limit)
        pref = UserPreference.objects.filter(user__isnull=True, session_id=ident).first()
    else:
        return ShopperState(limit=limit)
    preferences = None
    if pref is not None:
        preferences = {
            "categories": list(pref.categories),
            "brands": list(pref.brands),
            "price_min": float(pref.price_min) if pref.price_min is not None else None,
            "price_max": float(pref.price_max) if pref.price_max is not None else None,
        }
    return ShopperState(history=[(p, t, ts.timestamp()) for p, t, ts in rows], preferences=preferences, limit=limit)


def shopper_state_changed(keys: Iterable[str], *, forget: bool = True) -> None:
    """The state of these shopper keys changed: bump their versions and drop their cached states now (this
    connection reads its own uncommitted rows) and again once the transaction commits (a reader on another
    connection may have cached the old rows under the first bump meanwhile).

    `forget=False` (new events, nothing removed): the versions are bumped, the cached states are left to expire. A
    state is used only under the version it was built under, and a version only grows while its key lives (each
    bump renews it for VERSION_TTL_S, far past STATE_TTL_S), so the old state is never read again; skipping its
    DEL halves the Redis commands of an ingest batch's bump. An erasure must forget: erased history is not kept."""
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return
    _bump(wanted, forget=forget)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(wanted, forget=forget))


def events_state_changed(events: Iterable[Any]) -> None:
    """New, re-owned or deleted events change the state of their shoppers (the user's and the session's)."""
    keys = set()
    for event in events:
        if event.user_id:
            keys.add(shopper_key(user_id=event.user_id, session_id=""))
        if event.session_id:
            keys.add(shopper_key(user_id=None, session_id=event.session_id))
    shopper_state_changed(keys)


def preference_state_changed(sender: Any, instance: UserPreference, **kwargs: Any) -> None:
    """post_save/post_delete of a UserPreference (connected in apps.ready): its shopper's state changed."""
    shopper_state_changed([shopper_key(user_id=instance.user_id, session_id=instance.session_id)])


# One command for any number of shoppers: pipelined, INCR + EXPIRE + DEL per shopper cost redis-py three packed
# commands each (a batch of events from 100 shoppers spent more on packing them than on its INSERT). KEYS: the
# version keys, each followed by its cached state's key when ARGV[2] is "1" (forget: the state is deleted too);
# ARGV[1]: the versions' lifetime.
_BUMP = """
local step = ARGV[2] == '1' and 2 or 1
for i = 1, #KEYS, step do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
  if step == 2 then redis.call('DEL', KEYS[i + 1]) end
end
return #KEYS / step
"""


def _bump(keys: list[str], *, forget: bool = True) -> None:
    if forget:
        names = [name for key in keys for name in (VERSION_KEY.format(key), STATE_KEY.format(key))]
    else:
        names = [VERSION_KEY.format(key) for key in keys]
    try:
        _redis().register_script(_BUMP)(keys=names, args=[VERSION_TTL_S, int(forget)])
    except Exception:  # the write itself stands; the cached state is rebuilt within STATE_TTL_S
        logger.warning("could not invalidate the cached state of %s shoppers", len(keys), exc_info=True)


def _version(raw: Any) -> int:
    return int(raw) if raw else 0
