"""A Celery worker survives a broker restart while it holds unacknowledged tasks (config/celery.py).

When the connection to Redis is lost, celery 5.7.0's consumer collects the connection and then closes it; closing a
channel that holds a delivered, unacknowledged message (a running acks_late task) made kombu 5.7.0 raise
AttributeError("'NoneType' object has no attribute 'hostname'"), and the worker stopped with "Unrecoverable error".
These tests replay exactly those two calls on the real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from config import embedded

DB = 14  # a logical database of its own: the suite uses 8-12, the demo 0-1


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = embedded.redis_url().rsplit("/", 1)[0] + f"/{DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


def lose_connection_holding_an_unacked_message(url: str, transport: str) -> None:
    """The worker's state and calls, in the traceback's order: its channel holds a delivered, unacknowledged task;
    the lost connection is collected (the transport is detached: `client` None); then the channel is closed."""
    conn = Connection(url, transport=transport)
    channel = conn.default_channel
    queue = Queue("broker-restart", Exchange("broker-restart"), "k")
    Producer(channel).publish({"task": 1}, exchange=queue.exchange, routing_key="k", declare=[queue])
    received: list[object] = []
    with Consumer(channel, [queue], callbacks=[lambda body, message: received.append(message)], no_ack=False):
        conn.drain_events(timeout=5)
    assert received, "the task was delivered"
    channel.connection.client = None  # what Connection.collect() leaves when the channel could not be closed
    conn.maybe_close_channel(channel)  # what Connection.close() then does


def test_the_project_transport_closes_a_lost_connection_that_holds_unacked_messages(broker_url: str) -> None:
    lose_connection_holding_an_unacked_message(broker_url, "config.celery:BrokerTransport")
    # the task was not lost: it waits in the unacked set, restored to its queue after the visibility timeout
    assert redis.Redis.from_url(broker_url).hlen("unacked") == 1


def test_the_settings_use_it_for_a_redis_broker() -> None:
    from config.celery import BrokerTransport, app

    assert isinstance(app.connection_for_write().transport, BrokerTransport)


def test_kombus_own_transport_still_has_the_bug(broker_url: str) -> None:
    """When this fails, kombu is fixed: drop BrokerTransport and CELERY_BROKER_TRANSPORT."""
    with pytest.raises(AttributeError, match="hostname"):
        lose_connection_holding_an_unacked_message(broker_url, "redis")
