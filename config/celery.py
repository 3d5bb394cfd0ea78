"""The Celery app. Workers: `celery -A config worker -Q default,training`; beat: `celery -A config beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("dragonrec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
