"""Retention: what DragonRec keeps about shoppers, and for how long (RECOMMENDER["RETENTION"]).

Events, served lists (with their items) and teacher judgments older than their configured age are deleted, in
batches of `batch_size` rows, each its own short transaction: a first run over years of data never holds a long
lock on the tables the request path writes to, and a run that is stopped (time budget, worker restart) loses
nothing, the next one carries on. Nothing needs anonymising instead: what outlives the windows (trending scores,
complements, model versions, experiment results) holds no per-shopper data, and the lists of a running experiment,
whose figures are computed per shopper, are kept until it stops.

Per-shopper Redis keys (fatigue rings and click sets, cached teacher scores, throttle counters) are written with an
expiry; `shopper_keys_expire` gives one to any that lacks it (written by an older release, or with a TTL setting of
None), so no shopper's state lives in Redis forever.

    >>> report = retention_apply()     # the beat job (tasks.retention_apply) re-queues itself while report.more
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django_redis import get_redis_connection

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.models import Experiment, Impression, ImpressionItem, TeacherJudgment
from dragonrec.recommender.services.impressions import CLICKED_KEY, SEEN_KEY
from dragonrec.recommender.services.teacher import teacher_cache_key
from dragonrec.tracking.selectors import events_before
from dragonrec.tracking.state import SHOPPER_STATE_PATTERNS

logger = logging.getLogger(__name__)

# One run stops starting new batches after this long and asks to be re-queued: well inside the default soft time
# limit (10 min), and other tasks on the queue get their turn in between.
RUN_BUDGET_S = 240.0
SCAN_COUNT = 1000  # keys per SCAN round trip


@dataclass
class RetentionReport:
    events: int = 0
    impressions: int = 0
    judgments: int = 0
    redis_keys_expired: int = 0
    more: bool = False  # stopped at the time budget with old rows left: run again

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def retention_settings() -> dict[str, Any]:
    """RETENTION as configured over its defaults: a host may set only the keys it changes."""
    return {**DEFAULTS["RETENTION"], **(recommender_settings.RETENTION or {})}


def _cutoff(now: datetime, days: float | None) -> datetime | None:
    return None if days is None else now - timedelta(days=float(days))


def _delete_batch(queryset: QuerySet[Any], batch_size: int) -> int:
    """Delete up to `batch_size` rows of `queryset` (oldest first). One statement per table, in autocommit: the
    row locks last as long as one batch."""
    model = queryset.model
    ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
    if not ids:
        return 0
    if model is Impression:
        # the items first, in one DELETE: the cascade would otherwise load them to delete them one list at a time
        ImpressionItem.objects.filter(impression_id__in=ids).delete()
    return int(model._default_manager.filter(pk__in=ids).delete()[1].get(model._meta.label, 0))


def retention_apply(*, now: datetime | None = None, budget_s: float = RUN_BUDGET_S) -> RetentionReport:
    """Delete what is older than the RETENTION ages, batch by batch, until done or `budget_s` has passed."""
    conf = retention_settings()
    now = now or timezone.now()
    batch_size = max(1, int(conf["batch_size"]))
    running = Experiment.objects.filter(status=Experiment.Status.RUNNING).values_list("name", flat=True)
    targets: list[tuple[str, QuerySet[Any]]] = []
    if (events_cutoff := _cutoff(now, conf["events_days"])) is not None:
        targets.append(("events", events_before(before=events_cutoff)))
    if (impressions_before := _cutoff(now, conf["impressions_days"])) is not None:
        old = Impression.objects.filter(created_at__lt=impressions_before).exclude(experiment__in=running)
        targets.append(("impressions", old))
    if (judgments_before := _cutoff(now, conf["judgments_days"])) is not None:
        targets.append(("judgments", TeacherJudgment.objects.filter(created_at__lt=judgments_before)))

    report = RetentionReport()
    started = time.monotonic()
    for field, queryset in targets:
        while True:
            if time.monotonic() - started > budget_s:
                report.more = True
                break
            deleted = _delete_batch(queryset, batch_size)
            setattr(report, field, getattr(report, field) + deleted)
            if deleted < batch_size:
                break
    report.redis_keys_expired = shopper_keys_expire(ttl_s=int(conf["redis_key_max_ttl_s"]))
    logger.info("retention: %s", report.as_dict())
    return report


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
