"""config.postgresql: a reused connection is health-checked without a round trip, and a dropped one is still
replaced before a request uses it (a single event stored, not a 500)."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event
from dragonrec.tracking.services import api_key_create


def last_query_of(pid: int) -> str:
    """What the server says backend `pid` ran last, asked on a connection of its own."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        row = other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_checked_without_a_query() -> None:
    # given a connection whose last statement we know
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'marker', pg_backend_pid()")
        pid = cursor.fetchone()[1]
    # when Django checks it before reusing it in a request
    assert connection.is_usable()
    # then the server saw nothing more (Django's own check sends SELECT 1)
    assert last_query_of(pid) == "SELECT 'marker', pg_backend_pid()"


def post_event(handler: WSGIHandler, key: str, product_id: int) -> tuple[int, dict[str, Any], str]:
    event_id = str(uuid.uuid4())
    body = json.dumps({"id": event_id, "type": "view", "product_id": product_id, "session_id": "s-pg"}).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/events/",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
        "HTTP_ACCEPT": "application/json",
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    status: list[str] = []
    result = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        data = b"".join(result)
    finally:
        result.close()  # request_finished: the per-request connection housekeeping a server process does
    return int(status[0].split()[0]), json.loads(data or b"{}"), event_id


@pytest.mark.django_db(transaction=True)
def test_a_single_event_after_the_server_dropped_the_connection_is_stored() -> None:
    # given a warm process holding a persistent connection
    key = api_key_create(name="pg", scopes=["events:write"])[1]
    handler = WSGIHandler()
    product = ProductFactory().pk
    assert post_event(handler, key, product)[0] == 200
    assert connection.connection is not None
    pid = connection.connection.info.backend_pid
    # when the server drops it (a restart, a failover, an idle timeout), from a second connection
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # the backend is gone once the server no longer lists it
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None:
                break
            time.sleep(0.01)
    # then the next single event is stored, on a new connection
    status, answer, event_id = post_event(handler, key, product)
    assert (status, answer) == (200, {"results": [{"id": event_id, "status": "accepted"}]})
    assert Event.objects.filter(id=event_id).exists()
    assert connection.connection.info.backend_pid != pid
