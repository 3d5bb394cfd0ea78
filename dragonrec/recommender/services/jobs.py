"""Job health: each scheduled job's last start, success and failure (with its error), duration and next run.

    >>> job_run_started(task="dragonrec.recommender.tasks.trending_recompute", task_id="…")   # Celery's task_prerun
    >>> job_run_finished(task="…", task_id="…", outcome="failure", error="ValueError: …")   # task_success / _failure
    >>> job_health()          # one row per beat job: last success/failure, error, duration, next run, overdue
    >>> jobs_overdue()        # the overdue ones, for the admin index's warning

Runs are recorded by Celery's task signals in one place (receivers.job_*), for the tasks of our beat schedule only
(services.schedule), whether beat, a command or an admin action started them. Duration is measured in the worker
process that ran the task (prerun and postrun fire there), so nothing is shared between processes but the row.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import JobRun

logger = logging.getLogger(__name__)

ERROR_CHARS = 2000  # a traceback's last lines say what failed; the full one is in the worker's log
_started: dict[str, float] = {}  # task id -> perf_counter at prerun, in the worker process running it


def scheduled_tasks() -> dict[str, str]:
    """Celery task name -> beat job name, for the jobs of our schedule (with the optional ones when on)."""
    from dragonrec.recommender.services.schedule import schedule

    return {task: name for name, (task, _, _) in schedule().items()}


def job_run_started(*, task: str, task_id: str) -> None:
    if task not in scheduled_tasks():
        return
    _started[task_id] = time.perf_counter()
    now = timezone.now()
    row, created = JobRun.objects.get_or_create(task=task, defaults={"last_started_at": now, "first_seen_at": now})
    if not created:
        JobRun.objects.filter(pk=row.pk).update(last_started_at=now)


def job_run_finished(*, task: str, task_id: str, outcome: str, error: str = "") -> None:
    """Record a run's end: `outcome` is success, failure, or retry (an attempt failed; Celery tries again)."""
    if task not in scheduled_tasks():
        return
    started = _started.pop(task_id, None) if outcome != "retry" else _started.get(task_id)
    duration = time.perf_counter() - started if started is not None else None
    now = timezone.now()
    JobRun.objects.get_or_create(task=task, defaults={"first_seen_at": now})
    fields: dict[str, Any] = {"last_outcome": outcome, "last_duration_s": duration, "runs": F("runs") + 1}
    if outcome == "success":
        fields["last_success_at"] = now
    else:
        fields.update(last_failure_at=now, last_error=error[-ERROR_CHARS:], failures=F("failures") + 1)
    JobRun.objects.filter(task=task).update(**fields)


# ------------------------------------------------------------------------------------------------ reads
@dataclass
class JobHealth:
    name: str  # the beat job's name ("dragonrec: trending")
    task: str
    every: str  # the schedule in words
    enabled: bool
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str
    last_duration_s: float | None
    last_outcome: str
    runs: int
    failures: int
    next_run_at: datetime | None
    due_by: datetime | None  # a success is expected by then (next due after the last success + grace)
    overdue: bool

    @property
    def failing(self) -> bool:
        return self.last_outcome in ("failure", "retry")


def _grace() -> timedelta:
    return timedelta(minutes=float(recommender_settings.JOB_OVERDUE_GRACE_MINUTES))


def _every(task: Any) -> str:
    if task is None:
        return "not installed (run migrate)"
    if task.interval_id:
        return f"every {task.interval.every} {task.interval.period}"
    if task.crontab_id:
        cron = task.crontab
        if str(cron.hour).isdigit() and str(cron.minute).isdigit() and cron.day_of_week == "*":
            return f"daily at {int(cron.hour):02d}:{int(cron.minute):02d} ({cron.timezone})"
        # an owner's own crontab ("*/2", "3,15"): shown as written
        return f"cron {cron.minute} {cron.hour} {cron.day_of_month} {cron.month_of_year} {cron.day_of_week}"
    return str(task.schedule)


def _due(task: Any, after: datetime, now: datetime) -> datetime | None:
    """When `task` is next due after a run at `after` (a celery schedule's remaining time, counted from now)."""
    try:
        schedule = task.schedule
        if getattr(schedule, "nowfun", None) is not None:  # django-celery-beat's: "now" must be ours
            schedule.nowfun = lambda: now
        remaining: timedelta = schedule.remaining_estimate(after)  # the task row (and so its schedule) is Any
        return now + remaining
    except Exception:  # an odd schedule (solar, clocked) must not break the page
        logger.debug("no next run for %s", task.name, exc_info=True)
        return None


def job_health(*, now: datetime | None = None) -> list[JobHealth]:
    """Every job of our beat schedule, in schedule order, with its runs; overdue when no success came by the time
    one was due after the last success (or after the job was installed, when it never succeeded) plus
    JOB_OVERDUE_GRACE_MINUTES."""
    from django_celery_beat.models import PeriodicTask

    from dragonrec.recommender.services.schedule import schedule

    now = now or timezone.now()
    entries = schedule()
    tasks = {t.name: t for t in PeriodicTask.objects.filter(name__in=entries).select_related("interval", "crontab")}
    runs = {r.task: r for r in JobRun.objects.filter(task__in=[task for task, _, _ in entries.values()])}
    out = []
    for name, (task_name, _, _) in entries.items():
        beat = tasks.get(name)
        run = runs.get(task_name)
        # a success is expected one period after the last one, or after the job was installed (first_seen_at,
        # set by migrate: a fresh install's nightly job is not overdue before its first night)
        reference = (run.last_success_at or run.first_seen_at) if run else None
        last_beat = beat.last_run_at if beat is not None else None
        next_run = _due(beat, last_beat or reference or now, now) if beat is not None else None
        due_by = _due(beat, reference, now) if beat is not None and reference is not None else None
        out.append(
            JobHealth(
                name=name,
                task=task_name,
                every=_every(beat),
                enabled=bool(beat and beat.enabled),
                last_started_at=run.last_started_at if run else None,
                last_success_at=run.last_success_at if run else None,
                last_failure_at=run.last_failure_at if run else None,
                last_error=run.last_error if run else "",
                last_duration_s=run.last_duration_s if run else None,
                last_outcome=run.last_outcome if run else "",
                runs=run.runs if run else 0,
                failures=run.failures if run else 0,
                next_run_at=max(next_run, now) if next_run else None,
                due_by=due_by + _grace() if due_by else None,
                overdue=bool(beat and beat.enabled and due_by is not None and now > due_by + _grace()),
            )
        )
    return out


def jobs_overdue(*, now: datetime | None = None) -> list[JobHealth]:
    return [job for job in job_health(now=now) if job.overdue]
