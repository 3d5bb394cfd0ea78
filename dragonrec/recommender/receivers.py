"""Signal receivers: each is one call into a service or one task fired on commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def product_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A created/changed product gets (re-)embedded after the commit, off the request path."""
    from dragonrec.recommender.tasks import embed_products

    pk = instance.pk
    transaction.on_commit(lambda: embed_products.delay([pk]))


def events_recorded(sender: Any, events: list[Any], source: str, **kwargs: Any) -> None:
    """Clicks that carry a recommendation request id are attributed to that impression (and lift its product's
    impression fatigue for that shopper)."""
    if source != "api":
        return
    from dragonrec.recommender.services.feedback import clicks_attribute
    from dragonrec.recommender.services.impressions import fatigue_clicks_record

    clicks_attribute(events=events)
    fatigue_clicks_record(events=events)


def schedule_install(sender: Any, **kwargs: Any) -> None:
    """After `migrate`: create/update our beat schedule entries by name."""
    from dragonrec.recommender.services.schedule import periodic_tasks_install

    periodic_tasks_install()


def job_started(sender: Any = None, task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    """Celery's task_prerun: a scheduled job's run begins (services.jobs records our beat jobs only)."""
    from dragonrec.recommender.services.jobs import job_run_started

    job_run_started(task=getattr(task or sender, "name", ""), task_id=task_id)


def job_succeeded(sender: Any = None, **kwargs: Any) -> None:
    """Celery's task_success (sent by the task itself: `sender` is the task, its id on its request)."""
    from dragonrec.recommender.services.jobs import job_run_finished

    job_run_finished(task=getattr(sender, "name", ""), task_id=_task_id(sender), outcome="success")


def job_failed(sender: Any = None, task_id: str = "", exception: Any = None, **kwargs: Any) -> None:
    """Celery's task_failure: the run raised (or hit its time limit); its error is kept for the job-health page."""
    from dragonrec.recommender.services.jobs import job_run_finished

    error = f"{type(exception).__name__}: {exception}" if exception is not None else "failed"
    job_run_finished(task=getattr(sender, "name", ""), task_id=task_id, outcome="failure", error=error)


def job_retried(sender: Any = None, request: Any = None, reason: Any = None, **kwargs: Any) -> None:
    """Celery's task_retry: an attempt failed and the task will try again; the error is kept as a failure."""
    from dragonrec.recommender.services.jobs import job_run_finished

    error = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason or "retry")
    job_run_finished(
        task=getattr(sender, "name", ""), task_id=getattr(request, "id", "") or "", outcome="retry", error=error
    )


def _task_id(task: Any) -> str:
    return str(getattr(getattr(task, "request", None), "id", "") or "")
