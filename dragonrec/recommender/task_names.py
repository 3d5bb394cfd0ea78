"""The Celery tasks that services queue, by name.

tasks.py runs the services (each task imports its service), so a service that imported tasks.py to queue a task
would close an import cycle, deferred or not. Services queue by the registered name instead, through the same
app, routes (CELERY_TASK_ROUTES are keyed by these names) and publish retry policy as `task.apply_async`;
tests/recommender/test_task_names.py checks every name here is a task tasks.py registers.
"""

from __future__ import annotations

from typing import Any

from celery import current_app

IMPRESSIONS_FLUSH = "dragonrec.recommender.tasks.impressions_flush"
TEACHER_SCORE = "dragonrec.recommender.tasks.teacher_score"
NAMES = (IMPRESSIONS_FLUSH, TEACHER_SCORE)


def task_send(name: str, *args: Any, countdown: float | None = None) -> None:
    """Queue the task registered as `name` (one of NAMES) with positional `args`."""
    current_app.send_task(name, args=args, countdown=countdown)
