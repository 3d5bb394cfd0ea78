"""Services queue Celery tasks by name (recommender/task_names.py), not by importing tasks.py: a name that no task
carries would be queued and never run, so every name must be one tasks.py registers, routed as configured."""

from __future__ import annotations

from django.conf import settings

from config.celery import app
from dragonrec.recommender import task_names, tasks


def test_every_queued_name_is_a_registered_task() -> None:
    registered = {name for name in app.tasks if name.startswith("dragonrec.")}

    assert tasks.impressions_flush.name == task_names.IMPRESSIONS_FLUSH
    assert tasks.teacher_score.name == task_names.TEACHER_SCORE
    assert set(task_names.NAMES) <= registered


def test_a_teacher_judgment_queued_by_name_goes_to_the_teacher_queue() -> None:
    route = app.amqp.router.route({}, task_names.TEACHER_SCORE)

    assert route["queue"].name == settings.CELERY_TASK_ROUTES[task_names.TEACHER_SCORE]["queue"] == "teacher"
