"""The Celery app. Workers: `celery -A config worker -Q default,impressions,teacher,maintenance,training` (one worker
for every queue of config/queues.py, or one per queue); beat: `celery -A config beat`."""

from __future__ import annotations

import os
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_ready
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


class _BrokerChannel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            # celery 5.7.0 + kombu 5.7.0 (the newest of both): when the broker connection is lost, the worker
            # first collects the connection (the transport's `client` becomes None), then closes it. Closing a
            # channel that still holds unacknowledged messages (a running acks_late task, a prefetched one) makes
            # kombu restore them through a new pool built from that detached transport, and the AttributeError
            # ("'NoneType' object has no attribute 'hostname'") escapes as an "Unrecoverable error": the worker
            # exits (reproduced: killing redis-server under a stream of tasks, 1 in 3 kills). A connection error
            # is what it is, and close()/ack() already tolerate those: the messages stay in Redis' unacked set
            # and come back after the visibility timeout; the worker reconnects.
            raise redis.exceptions.ConnectionError("the broker connection was closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
        return params


class BrokerTransport(kombu_redis.Transport):
    """kombu's Redis transport whose channels survive the broker restart above (settings: CELERY_BROKER_TRANSPORT)."""

    Channel = _BrokerChannel


app = Celery("dragonrec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _recover_after_dead_workers(**kwargs: Any) -> None:
    from dragonrec.recommender.tasks import worker_started

    worker_started()
