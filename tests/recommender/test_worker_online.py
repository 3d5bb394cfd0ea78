"""The online update through a real Celery worker process on the 'training' queue, with the beat entries that run
it and the guardrail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.test import override_settings
from django_celery_beat.models import PeriodicTask

from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.registry import student_train_and_register
from dragonrec.recommender.services.schedule import periodic_tasks_install
from dragonrec.tracking.factories import EventFactory
from tests.recommender.services.conftest import SETTINGS
from tests.recommender.services.test_registry import shop_events, small_config
from tests.recommender.test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_the_worker_runs_the_hourly_update_on_the_training_queue(celery_worker_process, tiny_shop, settings) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.tasks import student_update

    # the worker reads the test settings' MEDIA_ROOT (an override would not cross the process boundary): start it
    # without artifacts of earlier runs, whose names the storage would otherwise dodge
    models = Path(settings.MEDIA_ROOT) / "dragonrec" / "models"
    shutil.rmtree(models, ignore_errors=True)
    try:
        # given: an active v1, then shoppers browse
        shop_events(tiny_shop)
        with override_settings(RECOMMENDER=SETTINGS):
            active = student_train_and_register(config=small_config(), seed=1)
        assert active is not None and active.status == ModelVersion.Status.ACTIVE
        for s in range(6):
            for key in ("shoe_road", "socks_run", "bottle"):
                EventFactory(session_id=f"s-worker-hour-{s}", product=tiny_shop[key], type="view")
        # when: beat fires the task (routed to the 'training' queue by CELERY_TASK_ROUTES)
        student_update.delay()
        # then: the worker registered an online update of v1 and decided on it
        decided = ModelVersion.objects.filter(kind=ModelVersion.Kind.ONLINE).exclude(decision="")
        assert wait_for(decided.exists, timeout=180), "the worker did not run the online update"
        candidate = decided.get()
        assert candidate.parent_id == active.pk and candidate.data_snapshot["events"] == 18
        assert candidate.status in (ModelVersion.Status.CANDIDATE, ModelVersion.Status.ACTIVE)
    finally:
        shutil.rmtree(models, ignore_errors=True)


def test_beat_runs_the_update_and_the_guardrail_at_their_configured_intervals(db) -> None:  # type: ignore[no-untyped-def]
    with override_settings(RECOMMENDER={"ONLINE_UPDATE": {"every_minutes": 30}}):
        periodic_tasks_install()
    update = PeriodicTask.objects.get(name="dragonrec: online student update")
    guardrail = PeriodicTask.objects.get(name="dragonrec: model guardrail")
    assert update.task == "dragonrec.recommender.tasks.student_update" and update.queue == "training"
    assert (update.interval.every, update.interval.period) == (30, "minutes")
    assert guardrail.task == "dragonrec.recommender.tasks.model_guardrail"
    assert (guardrail.interval.every, guardrail.interval.period) == (15, "minutes") and not guardrail.queue
