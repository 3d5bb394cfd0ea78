"""A PostgreSQL restart (every server-side connection dropped) costs no failed request: persistent connections are
health-checked before reuse. Driven through Django's real WSGI handler, which (unlike the test client) runs the
per-request connection housekeeping a server process does."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from dragonrec.tracking.factories import EventFactory


def shopper_cookie_header(session_id: str) -> str:
    """The Cookie header of the browser whose signed shopper cookie names `session_id`."""
    from django.core.signing import get_cookie_signer

    from dragonrec.tracking.identity import SALT, cookie_settings

    name = cookie_settings()["NAME"]
    return f"{name}={get_cookie_signer(salt=name + SALT).sign(session_id)}"


def wsgi_get(handler: WSGIHandler, path: str, query: str) -> int:
    environ: dict[str, Any] = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(),
        "HTTP_COOKIE": shopper_cookie_header("s-db"),
    }
    setup_testing_defaults(environ)
    status: list[str] = []
    result = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        b"".join(result)
    finally:
        result.close()  # request_finished: the same housekeeping a server does after each response
    return int(status[0].split()[0])


@pytest.mark.django_db(transaction=True)
def test_requests_after_the_database_dropped_every_connection_succeed(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given a warm process holding a persistent connection
    EventFactory(session_id="s-db", product=tiny_shop["monitor"], type="view")
    handler = WSGIHandler()
    assert wsgi_get(handler, "/api/recommendations/", "n=3") == 200
    assert connection.connection is not None
    # when the server drops every other connection (what a restart or failover does), from a second connection
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    # then none of the next requests fails
    codes = [wsgi_get(handler, "/api/recommendations/", f"n=3&i={i}") for i in range(16)]
    assert codes == [200] * 16
