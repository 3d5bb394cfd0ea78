"""One Celery queue per kind of job (config/queues.py), each consumed by workers of its own: two real worker
processes on separate queues, and each kind of job run by the worker of its queue only."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from config import queues
from config.celery import app
from dragonrec.recommender import tasks
from tests.conftest import celery_worker_stop, celery_workers_start

TASKS = "dragonrec.recommender.tasks."
# A real task of each kind that finds nothing to do in an empty shop (a second or less), queued by name as the
# services and beat queue them: the route is the only thing that decides where it goes.
JOBS: dict[str, tuple[object, ...]] = {
    TASKS + "impressions_flush": (),
    TASKS + "trending_recompute": (),
    TASKS + "teacher_score": (str(uuid.uuid4()),),
    TASKS + "student_update": (),
}


def test_every_routed_task_goes_to_a_queue_the_one_worker_command_consumes() -> None:
    registered = {name for name in app.tasks if name.startswith(tasks.__name__)}

    assert set(settings.CELERY_TASK_ROUTES) <= registered  # a misspelt route would silently send it to default
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {queues.DEFAULT} == set(queues.QUEUES)
    # the four kinds of job the issue names each have a queue that is not `default`
    kinds = {name: app.amqp.router.route({}, name)["queue"].name for name in JOBS}
    assert kinds == {
        TASKS + "impressions_flush": "impressions",
        TASKS + "trending_recompute": "maintenance",
        TASKS + "teacher_score": "teacher",
        TASKS + "student_update": "training",
    }


def _runs_by_worker(hostnames: list[str]) -> dict[str, set[str]]:
    """The task names each worker has run since it started (its own count, from `celery inspect stats`)."""
    stats = app.control.inspect(destination=hostnames, timeout=1.0).stats() or {}
    return {host: set(stats.get(host, {}).get("total", {})) for host in hostnames}


@pytest.mark.worker
@pytest.mark.slow
def test_each_kind_of_job_is_run_only_by_the_worker_of_its_queue(celery_worker_env: dict[str, str]) -> None:
    # given: a worker for the light, frequent jobs and one for the slow, expensive ones (prefetch 1: settings)
    light, heavy = "light@dragonrec-test", "heavy@dragonrec-test"
    workers = celery_workers_start(celery_worker_env, {light: "impressions,maintenance", heavy: "teacher,training"})
    try:
        # when: one job of each kind is queued
        for name, args in JOBS.items():
            app.send_task(name, args=args)
        # then: each ran, on the worker of its queue and nowhere else
        expected = {
            light: {TASKS + "impressions_flush", TASKS + "trending_recompute"},
            heavy: {TASKS + "teacher_score", TASKS + "student_update"},
        }
        deadline = time.monotonic() + 60
        runs = _runs_by_worker([light, heavy])
        while any(not expected[host] <= runs[host] for host in expected) and time.monotonic() < deadline:
            time.sleep(0.5)
            runs = _runs_by_worker([light, heavy])
        assert runs == expected
    finally:
        for proc in workers:
            celery_worker_stop(proc)
