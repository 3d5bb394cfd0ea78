"""The one path by which DragonRec deletes what it recorded about shoppers. A shopper's erasure (services.privacy,
every row of one shopper at once, in one transaction) and retention (services.retention, every row past its age,
batch by batch) both delete through `recorded_rows_delete` and both answer a `DeletionReport`; their Redis halves
(erasure deletes a shopper's keys, retention gives any key without an expiry one) share the key names here.

    >>> report = recorded_rows_delete([("impressions", old_lists)], report=DeletionReport(), batch_size=2000)
    >>> report.as_dict()     # {"events": 0, "preferences": 0, "impressions": 3, "judgments": 0, "redis_keys": 0}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django_redis import get_redis_connection

from dragonrec.recommender.models import ServedList, ServedOutcome
from dragonrec.recommender.services.fatigue import CLICKED_KEY, SEEN_KEY
from dragonrec.recommender.services.teacher import teacher_cache_key, teacher_config
from dragonrec.tracking.state import SHOPPER_STATE_PATTERNS

logger = logging.getLogger(__name__)

SCAN_COUNT = 1000  # keys per SCAN round trip


@dataclass
class DeletionReport:
    """What one deletion removed, counted per kind of data. `redis_keys`: keys deleted (erasure) or given an expiry
    (retention). `more`: stopped at its time budget with rows left, to be run again (retention only)."""

    events: int = 0
    preferences: int = 0
    impressions: int = 0  # served lists, each with its outcomes
    judgments: int = 0
    redis_keys: int = 0
    more: bool = False

    def as_dict(self) -> dict[str, int]:
        """The counts (what the erasure API answers and the retention job logs)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "more"}


def rows_delete(queryset: QuerySet[Any], *, limit: int | None = None) -> int:
    """Delete the rows of `queryset` (the first `limit` of them, or all), one statement per table; how many. A served
    list's outcomes go first, in one DELETE."""
    model = queryset.model
    ids: Any = queryset.order_by().values_list("pk", flat=True)
    if limit is not None:
        ids = list(ids[:limit])
        if not ids:
            return 0
    if model is ServedList:  # a served list's outcomes first (no foreign key between partitioned tables)
        ServedOutcome.objects.filter(request_id__in=ids).delete()
    return int(model._default_manager.filter(pk__in=ids).delete()[1].get(model._meta.label, 0))


def recorded_rows_delete(
    targets: Sequence[tuple[str, QuerySet[Any]]],
    *,
    report: DeletionReport,
    batch_size: int | None = None,
    budget_s: float | None = None,
) -> DeletionReport:
    """Delete every row of each (report field, queryset) target, counted into `report`: all at once (`batch_size`
    None, inside the caller's transaction), or `batch_size` rows per statement in autocommit so row locks last one
    batch, stopping with `report.more` once `budget_s` has passed."""
    started = time.monotonic()
    for field, queryset in targets:
        while True:
            if budget_s is not None and time.monotonic() - started > budget_s:
                report.more = True
                break
            deleted = rows_delete(queryset, limit=batch_size)
            setattr(report, field, getattr(report, field) + deleted)
            if batch_size is None or deleted < batch_size:
                break
    return report


def shopper_redis_delete(keys: list[str], answer_keys: list[str]) -> int:
    """Delete a shopper's Redis state: fatigue rings and click sets, cached teacher scores, and the teacher's cached
    answers for their prompts; how many keys. Best effort: a Redis outage leaves keys that expire on their own."""
    removed = 0
    try:
        client = get_redis_connection("default")
        names = [SEEN_KEY.format(k) for k in keys] + [CLICKED_KEY.format(k) for k in keys]
        prefix = teacher_config().redis_prefix
        names += [f"{prefix}:cache:{k}" for k in answer_keys]
        if names:
            removed += int(client.delete(*names))
        for key in keys:
            # the key is escaped: an id an integration chose may hold glob characters and match other shoppers
            pattern = teacher_cache_key(_glob_escape(key), "*")
            removed += int(cache.delete_pattern(pattern))  # type: ignore[attr-defined]
    except Exception:  # the database part is done
        logger.exception("could not erase the Redis state of a shopper")
    return removed


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def shopper_key_patterns() -> list[str]:
    """Redis match patterns of every per-shopper key DragonRec writes (raw keys, as the server stores them)."""
    return [
        SEEN_KEY.format("*"),
        CLICKED_KEY.format("*"),
        *SHOPPER_STATE_PATTERNS,  # cached history/preferences and their versions (tracking/state.py)
        # written through Django's cache: KEY_PREFIX and version in front
        cache.make_key(teacher_cache_key("*", "*")),
        cache.make_key("dragonrec:throttle:*"),
    ]


def shopper_keys_expire(*, ttl_s: int) -> int:
    """Give every per-shopper key without an expiry one of `ttl_s` seconds; the number of keys changed. Streams
    the SCAN: memory stays at one chunk of names however many shoppers there are."""
    changed = 0
    try:
        client = get_redis_connection("default")
        for pattern in shopper_key_patterns():
            chunk: list[bytes] = []
            for name in client.scan_iter(match=pattern, count=SCAN_COUNT):
                chunk.append(name)
                if len(chunk) >= SCAN_COUNT:
                    changed += _expire_forever(client, chunk, ttl_s)
                    chunk = []
            changed += _expire_forever(client, chunk, ttl_s)
    except Exception:  # Redis down: the database part is done; the next run catches up
        logger.warning("retention: could not check the expiry of per-shopper Redis keys", exc_info=True)
    return changed


def _expire_forever(client: Any, names: list[bytes], ttl_s: int) -> int:
    if not names:
        return 0
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.ttl(name)
    forever = [name for name, ttl in zip(names, pipe.execute(), strict=True) if ttl == -1]
    pipe = client.pipeline(transaction=False)
    for name in forever:
        pipe.expire(name, ttl_s)
    return sum(1 for ok in pipe.execute() if ok) if forever else 0
