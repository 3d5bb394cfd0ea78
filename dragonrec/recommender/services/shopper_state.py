"""A shopper's serving state as one request reads it: their history and stated preferences (tracking/state.py,
cached in Redis) and the products resting for them (impression fatigue), queued on the request's one Redis round
trip by the list endpoints (recommender/api_base.py) or read in a round trip of their own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django_redis import get_redis_connection

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.types import (
    Preferences,
)
from dragonrec.recommender.services.fatigue import fatigue_queue, fatigue_resolve
from dragonrec.tracking.identity import shopper_key_for
from dragonrec.tracking.state import ShopperState, shopper_state_get, shopper_state_queue, shopper_state_resolve

logger = logging.getLogger(__name__)


def preferences_for(user: Any | None, session_id: str = "") -> Preferences:
    """What the shopper stated: a signed-in user's preferences, else the anonymous session's."""
    return preferences_from(shopper_state_get(shopper_key_for(user=user, session_id=session_id)).preferences)


def preferences_from(stated: dict[str, Any] | None) -> Preferences:
    """A ShopperState's stated preferences as the pipeline's Preferences."""
    if not stated:
        return Preferences()
    return Preferences(
        categories=tuple(stated["categories"]),
        brands=tuple(stated["brands"]),
        price_min=stated["price_min"],
        price_max=stated["price_max"],
    )


@dataclass(frozen=True)
class Prefetched:
    """What a request's one Redis round trip read for its shopper (tracking.shopper_views + serving_prefetch_*):
    their state (history, preferences) and the products resting for them (impression fatigue)."""

    key: str
    state: ShopperState
    fatigued: frozenset[int] = frozenset()


def serving_prefetch_queue(pipe: Any, key: str) -> int:
    """Queue the reads a list for shopper `key` needs onto `pipe`; how many replies they take."""
    if not key:
        return 0
    return shopper_state_queue(pipe, key) + fatigue_queue(pipe, key)


def serving_prefetch_resolve(key: str, replies: list[Any] | None) -> Prefetched:
    """The replies of `serving_prefetch_queue` (None: Redis unreachable) as a Prefetched."""
    limit = int(recommender_settings.HISTORY_LENGTH)
    if not key:
        return Prefetched(key, ShopperState(limit=limit))
    state = shopper_state_resolve(key, replies[:2] if replies is not None else None, limit=limit)
    return Prefetched(key, state, fatigue_resolve(replies[2:4]) if replies is not None else frozenset())


def serving_prefetch(key: str) -> Prefetched:
    """`serving_prefetch_*` in a round trip of its own, for a call outside a prefetching view."""
    replies: list[Any] | None = None
    if key:
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
            serving_prefetch_queue(pipe, key)
            replies = pipe.execute()
        except Exception:
            logger.warning("shopper state unavailable in Redis; reading the database", exc_info=True)
    return serving_prefetch_resolve(key, replies)
