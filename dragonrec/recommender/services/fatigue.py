"""Impression fatigue, kept in Redis.

Impression fatigue ("shown FATIGUE_IMPRESSIONS+ times in the shopper's last FATIGUE_LOOKBACK lists within
FATIGUE_DAYS, never clicked") is read on every request, so it is kept in Redis too: the same push appends the list's
products to a short per-shopper ring, and clicks add to a per-shopper set. One round trip, no query plan that
depends on how many lists a shopper (or a bot) has seen, and no wait for the flush. Losing it (a Redis restart)
only means items are shown a few more times.

Serving reads it in the request's one Redis round trip (`fatigue_queue` / `fatigue_resolve`, queued by the
recommendation views' prefetch) or on its own (`fatigued_ids`); the impression push appends to it
(`fatigue_seen_push`, queued on the push's pipeline).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django_redis import get_redis_connection

from dragonrec.recommender.conf import recommender_settings
from dragonrec.tracking.identity import shopper_key  # one key convention for the whole plugin, tracking's

logger = logging.getLogger(__name__)

SEEN_KEY = "dragonrec:fatigue:seen:{}"  # per shopper: "<unix time>:<id>,<id>,..." per served list, newest first
CLICKED_KEY = "dragonrec:fatigue:clicked:{}"  # per shopper: product ids clicked in a served list


def _redis() -> Any:
    return get_redis_connection("default")


def fatigue_queue(pipe: Any, user_key: str) -> int:
    """Queue the reads of `user_key`'s fatigue state onto `pipe`; how many replies they take."""
    pipe.lrange(SEEN_KEY.format(user_key), 0, -1)
    pipe.smembers(CLICKED_KEY.format(user_key))
    return 2


def fatigue_resolve(replies: list[Any]) -> frozenset[int]:
    """Products shown FATIGUE_IMPRESSIONS+ times and never clicked, from the replies of `fatigue_queue`."""
    lists, clicked = replies
    since = timezone.now().timestamp() - recommender_settings.FATIGUE_DAYS * 86400
    recent: list[bytes] = []
    for entry in lists:
        stamp, _, ids = entry.partition(b":")
        if int(stamp) < since:
            break  # newest first: the rest are older still
        recent.append(ids)
    # the ids are counted as the bytes they were written as (str(int)), in C; only the few past the threshold
    # become ints (a shopper's 50 lists are ~1,000 ids: parsing each was ~1.5% of a list's CPU)
    shown = Counter(b",".join(recent).split(b",")) if recent else Counter()
    threshold = int(recommender_settings.FATIGUE_IMPRESSIONS)
    clicked_ids = {int(pid) for pid in clicked}
    tired = (int(pid) for pid, count in shown.items() if count >= threshold)
    return frozenset(pid for pid in tired if pid not in clicked_ids)


def fatigue_seen_push(pipe: Any, record: dict[str, Any]) -> None:
    key = (record.get("context") or {}).get("user_key")
    if not key or not record["items"]:
        return
    seen = SEEN_KEY.format(key)
    entry = f"{int(timezone.now().timestamp())}:" + ",".join(str(int(item[0])) for item in record["items"])
    pipe.lpush(seen, entry)
    pipe.ltrim(seen, 0, int(recommender_settings.FATIGUE_LOOKBACK) - 1)
    pipe.expire(seen, int(recommender_settings.FATIGUE_DAYS * 86400))


def fatigued_ids(*, user_key: str) -> frozenset[int]:
    """Products shown FATIGUE_IMPRESSIONS+ times to this shopper and never clicked, over their last
    FATIGUE_LOOKBACK lists within FATIGUE_DAYS (one round trip of its own)."""
    if not user_key:
        return frozenset()
    try:
        pipe = _redis().pipeline(transaction=False)
        fatigue_queue(pipe, user_key)
        replies = pipe.execute()
    except Exception:
        logger.warning("fatigue state unavailable; serving without it", exc_info=True)
        return frozenset()
    return fatigue_resolve(replies)


def fatigue_clicks_record(*, events: Iterable[Any]) -> None:
    """Clicks on recommended products: a product the shopper clicked is never rested for them."""
    clicks: dict[str, set[int]] = {}
    for event in events:
        if event.type != "click" or not isinstance(event.context, dict) or not event.context.get("request_id"):
            continue
        key = shopper_key(user_id=event.user_id, session_id=event.session_id)
        if key and event.product_id:
            clicks.setdefault(key, set()).add(int(event.product_id))
    if not clicks:
        return
    try:
        pipe = _redis().pipeline(transaction=False)
        for key, ids in clicks.items():
            pipe.sadd(CLICKED_KEY.format(key), *ids)
            pipe.expire(CLICKED_KEY.format(key), int(recommender_settings.FATIGUE_DAYS * 86400))
        pipe.execute()
    except Exception:
        logger.warning("could not record clicks for fatigue", exc_info=True)
