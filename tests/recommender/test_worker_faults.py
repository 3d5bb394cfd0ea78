"""Training runs whose worker died are marked failed (at the next worker start, and before the next training);
the task settings that make a killed worker hand its tasks back."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dragonrec.recommender.models import ModelVersion


def training_run(version: str, age: timedelta) -> ModelVersion:
    run = ModelVersion.objects.create(version=version, status=ModelVersion.Status.TRAINING)
    ModelVersion.objects.filter(pk=run.pk).update(created_at=timezone.now() - age)  # auto_now_add on create
    return run


@pytest.fixture
def runs(transactional_db: None) -> dict[str, ModelVersion]:
    return {
        "dead": training_run("v-dead", timedelta(hours=2)),  # its worker was killed an hour before the time limit
        "live": training_run("v-live", timedelta(minutes=5)),  # a run in progress elsewhere
    }


def status(run: ModelVersion) -> str:
    return ModelVersion.objects.get(pk=run.pk).status


@pytest.mark.worker
@pytest.mark.slow
def test_a_starting_worker_fails_runs_left_training_by_a_dead_worker(runs, celery_worker_process) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while status(runs["dead"]) == "training" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status(runs["dead"]) == "failed"
    assert "worker lost" in ModelVersion.objects.get(pk=runs["dead"].pk).notes
    assert status(runs["live"]) == "training"


def test_the_next_training_task_fails_stuck_runs_first(runs) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.tasks import student_train

    assert student_train.apply(kwargs={"promote": False}).get() == ""  # too little data to train: skipped
    assert status(runs["dead"]) == "failed"
    assert status(runs["live"]) == "training"


def test_killed_workers_hand_idempotent_tasks_back_but_not_training() -> None:
    from config.celery import app
    from dragonrec.recommender import tasks

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert tasks.impressions_flush.reject_on_worker_lost is True  # from the app setting
    assert tasks.student_train.reject_on_worker_lost is False
