"""Retention: what DragonRec keeps about shoppers, and for how long (RECOMMENDER["RETENTION"]).

Served lists (models.ServedList and its outcomes) are retired a whole day at a time: their day partitions older
than `impressions_days` are dropped (services/partitions.py), except days holding a running experiment's lists.
Events and teacher judgments older than their configured age are deleted, in batches of `batch_size` rows, each
its own short transaction: a first run over years of data never holds a long lock on the tables the request path
writes to, and a run that is stopped (time budget, worker restart) loses
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
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.models import Experiment, ServedList, TeacherJudgment
from dragonrec.recommender.services.deletion import DeletionReport, recorded_rows_delete, shopper_keys_expire
from dragonrec.recommender.services.partitions import served_partitions_drop_before
from dragonrec.tracking.selectors import events_before

logger = logging.getLogger(__name__)

# One run stops starting new batches after this long and asks to be re-queued: well inside the default soft time
# limit (10 min), and other tasks on the queue get their turn in between.
RUN_BUDGET_S = 240.0


def retention_settings() -> dict[str, Any]:
    """RETENTION as configured over its defaults: a host may set only the keys it changes."""
    return {**DEFAULTS["RETENTION"], **(recommender_settings.RETENTION or {})}


def _cutoff(now: datetime, days: float | None) -> datetime | None:
    return None if days is None else now - timedelta(days=float(days))


def _days_of_running_experiments(*, running: list[str], before: datetime) -> set[date]:
    """Days older than `before` that hold lists of a running experiment: their partitions stay until it ends (its
    analysis reads them), and go with the first retention run after that."""
    if not running:
        return set()
    rows = (
        ServedList.objects.filter(served_at__lt=before, policy__experiment__in=running)
        .annotate(day=TruncDate("served_at", tzinfo=UTC))
        .values_list("day", flat=True)
        .distinct()
    )
    return set(rows)


def retention_apply(*, now: datetime | None = None, budget_s: float = RUN_BUDGET_S) -> DeletionReport:
    """Delete what is older than the RETENTION ages, batch by batch, until done or `budget_s` has passed: through
    the one deletion path (services.deletion), as a shopper's erasure deletes their rows."""
    conf = retention_settings()
    now = now or timezone.now()
    batch_size = max(1, int(conf["batch_size"]))
    running = Experiment.objects.filter(status=Experiment.Status.RUNNING).values_list("name", flat=True)
    targets: list[tuple[str, QuerySet[Any]]] = []
    served_dropped = 0
    if (events_cutoff := _cutoff(now, conf["events_days"])) is not None:
        targets.append(("events", events_before(before=events_cutoff)))
    if (impressions_before := _cutoff(now, conf["impressions_days"])) is not None:
        days, served_dropped = served_partitions_drop_before(
            before=impressions_before.astimezone(UTC).date(),
            keep=_days_of_running_experiments(running=list(running), before=impressions_before),
        )
        if days:
            logger.info("retention: dropped the served lists of %s days (%s..%s)", len(days), days[0], days[-1])
        # a day kept for a running experiment loses its other lists row by row (rare: an experiment older than the
        # retention), through the one deletion path
        rest = ServedList.objects.filter(served_at__lt=impressions_before).exclude(policy__experiment__in=running)
        targets.append(("impressions", rest))
    if (judgments_before := _cutoff(now, conf["judgments_days"])) is not None:
        targets.append(("judgments", TeacherJudgment.objects.filter(created_at__lt=judgments_before)))

    report = recorded_rows_delete(targets, report=DeletionReport(), batch_size=batch_size, budget_s=budget_s)
    report.impressions += served_dropped
    report.redis_keys = shopper_keys_expire(ttl_s=int(conf["redis_key_max_ttl_s"]))
    logger.info("retention: %s", report.as_dict())
    return report
