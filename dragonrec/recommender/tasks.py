"""Celery tasks: thin wrappers that take ids/plain data, call one service, and set their retry policy."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)

EMBED_REQUEUE_COUNTDOWN_S = 1  # next batch right away, but let other queued tasks interleave


@shared_task(bind=True, max_retries=5, acks_late=True)
def embed_products(self: Any, product_ids: list[int] | None = None) -> int:
    """Embed the given products, or the next batch of dirty ones (re-queued until none are left)."""
    from dragonrec.recommender.services.embeddings import product_embeddings_refresh

    try:
        embedded, skipped = product_embeddings_refresh(product_ids=product_ids)
    except Exception as exc:  # DB/embedder hiccups: retry with backoff; the work is idempotent
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc
    if product_ids is None and embedded + skipped > 0:
        embed_products.apply_async(countdown=EMBED_REQUEUE_COUNTDOWN_S)
    return embedded


@shared_task(expires=3600)
def trending_recompute() -> int:
    from dragonrec.recommender.conf import recommender_settings
    from dragonrec.recommender.services.aggregates import trending_recompute as run
    from dragonrec.recommender.services.aggregates_incremental import trending_refresh

    return trending_refresh() if recommender_settings.AGGREGATES_INCREMENTAL else run()


@shared_task(expires=6 * 3600)
def complements_recompute() -> tuple[int, int]:
    from dragonrec.recommender.conf import recommender_settings
    from dragonrec.recommender.services.aggregates import complements_recompute as run
    from dragonrec.recommender.services.aggregates_incremental import copurchase_refresh

    return copurchase_refresh() if recommender_settings.AGGREGATES_INCREMENTAL else run()


@shared_task(bind=True, max_retries=2, acks_late=True, soft_time_limit=120)
def teacher_score(self: Any, request_id: str) -> str:
    """Ask the LLM teacher to judge a served list; stores a TeacherJudgment whatever happens."""
    from dragonrec.recommender.selectors import teacher_payload
    from dragonrec.recommender.services.teacher import teacher_judge

    payload = teacher_payload(request_id=request_id)
    if payload is None:
        return "unknown request"
    result = teacher_judge(payload=payload)
    if result.error == "rate_limited" and result.retry_after_s and self.request.retries < self.max_retries:
        # the server asked for a longer pause than the client waits in-process: come back then
        raise self.retry(countdown=float(result.retry_after_s))
    return str(result.error or "ok")


@shared_task(bind=True, max_retries=2, acks_late=True, soft_time_limit=120)
def teacher_judge_payload(self: Any, payload: dict[str, Any]) -> str:
    """Judge a dataset-building history (recommender_build_teacher_dataset); stored like serving judgments."""
    from dragonrec.recommender.services.teacher import teacher_judge

    result = teacher_judge(payload=payload, source="dataset")
    if result.error == "rate_limited" and result.retry_after_s and self.request.retries < self.max_retries:
        raise self.retry(countdown=float(result.retry_after_s))
    return str(result.error or "ok")


TRAIN_TIME_LIMIT_S = 55 * 60  # hard limit of one training run; a run still "training" after it has no worker


# reject_on_worker_lost stays off here (unlike the short idempotent tasks): a run that kills its worker (out of
# memory) would be redelivered and kill the next one, forever. It is marked failed instead (stuck_trainings_fail).
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=False,
    expires=12 * 3600,
    soft_time_limit=50 * 60,
    time_limit=TRAIN_TIME_LIMIT_S,
)
def student_train(self: Any, *, promote: bool = True, reason: str = "scheduled") -> str:
    """Train a new student version on tracking data (its own 'training' queue); promotion is gated."""
    from dragonrec.recommender.services.registry import student_train_and_register

    stuck_trainings_fail()
    version = student_train_and_register(promote=promote, notes=reason)
    return version.version if version else ""


UPDATE_TIME_LIMIT_S = 15 * 60  # an update is bounded to ONLINE_UPDATE["time_budget_s"] of fine-tuning plus checks


# Same queue and the same reasoning as student_train (no redelivery of a run that killed its worker); `expires`: an
# update that waited an hour is superseded by the next one.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=False,
    expires=3600,
    soft_time_limit=UPDATE_TIME_LIMIT_S - 60,
    time_limit=UPDATE_TIME_LIMIT_S,
)
def student_update() -> str:
    """The hourly online update of the active student (its own 'training' queue); promotion needs the gate and the
    off-policy check."""
    from dragonrec.recommender.services.online import student_update as run

    stuck_trainings_fail()
    version = run()
    return version.version if version else ""


@shared_task(expires=900)
def model_guardrail() -> str:
    """Roll the active version back when it does clearly worse on live traffic than the one it replaced."""
    from dragonrec.recommender.services.guardrail import model_guardrail_check

    rolled_back = model_guardrail_check()
    return rolled_back.version if rolled_back else ""


@shared_task(expires=3600)
def rewards_update() -> int:
    """Attribute later carts/purchases to the impressions that showed those products (clicks are attributed as
    they arrive; recent ones are swept again in case one arrived while its list was still buffered)."""
    from dragonrec.recommender.services.feedback import clicks_attribute_recent, rewards_attribute

    clicks_attribute_recent()
    return rewards_attribute()


@shared_task(bind=True, max_retries=5, acks_late=True, expires=600)
def impressions_flush(self: Any) -> int:
    """Write the buffered served lists to the database (scheduled by the first buffered one; beat as a net)."""
    from dragonrec.recommender.services.impressions import impressions_flush as flush

    try:
        return flush()
    except Exception as exc:  # the records stay buffered until a flush succeeds
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc


@shared_task(expires=900)
def experiment_results_refresh() -> int:
    """The figures of running (and just stopped) experiments, for the admin page and the API."""
    from dragonrec.recommender.services.experiments import experiment_results_refresh as refresh

    return refresh()


def stuck_trainings_fail() -> int:
    """Runs left "training" by a worker that died: called when a worker starts (config/celery.py) and before each
    training run."""
    from datetime import timedelta

    from dragonrec.recommender.services.registry import model_versions_fail_stuck

    return model_versions_fail_stuck(older_than=timedelta(seconds=TRAIN_TIME_LIMIT_S + 60))


def worker_started() -> None:
    """What a worker does once it is ready (config/celery.py): clean up after a predecessor that was killed. Its
    training run is marked failed, and the impression flush it had reserved (invisible on the broker until the
    visibility timeout, an hour) is made up for now rather than at the next push or beat tick."""
    stuck_trainings_fail()
    try:
        impressions_flush.delay()
    except Exception:  # the broker is down: beat's safety net and the next push schedule it
        logger.warning("could not schedule an impression flush at worker start", exc_info=True)


RETENTION_REQUEUE_COUNTDOWN_S = 5  # let the tasks queued meanwhile run before the next round of deletes


@shared_task(acks_late=True, expires=6 * 3600)
def served_partitions_ensure() -> int:
    """Create the day partitions of the served-list tables for today and the next days (the flush creates a missing
    one on demand too: this keeps that off the flush's path)."""
    from dragonrec.recommender.services.partitions import served_partitions_ensure as ensure

    return ensure()


@shared_task(bind=True, max_retries=3, acks_late=True, expires=6 * 3600)
def retention_apply(self: Any) -> dict[str, Any]:
    """Delete events, served lists and judgments past their RETENTION age; re-queued while old rows are left."""
    from dragonrec.recommender.services.retention import retention_apply as apply

    try:
        report = apply()
    except Exception as exc:  # a batch failed (DB restart): what was deleted stays deleted, the rest is retried
        raise self.retry(exc=exc, countdown=min(300, 30 * 2**self.request.retries)) from exc
    if report.more:
        retention_apply.apply_async(countdown=RETENTION_REQUEUE_COUNTDOWN_S)
    return {**report.as_dict(), "more": report.more}
