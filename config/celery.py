"""The Celery app. Workers: `celery -A config worker -Q default,teacher,training`; beat: `celery -A config beat`."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("dragonrec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _recover_after_dead_workers(**kwargs: Any) -> None:
    from dragonrec.recommender.tasks import worker_started

    worker_started()
