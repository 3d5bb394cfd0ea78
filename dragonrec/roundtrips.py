"""Counting what a request costs in round trips: SQL statements and Redis round trips, for the per-request budget
test (tests/recommender/api/test_request_budget.py) and the serving profile (bench/serving_profile.py).

    with RoundTrips() as trips:
        client.get("/api/recommendations/")
    trips.sql, trips.redis  # lists of what was sent, in order

SQL through Django's `connection.execute_wrapper` (every statement of the default connection, raw ones included).
Redis at the socket: each `send_packed_command` of a redis-py connection is one request to the server, so a pipeline
or a Lua script counts once and a single command once, whichever client (the cache, django-redis' raw connection,
the Celery broker) sends it. Nothing is faked: the real servers answer every statement counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from django.db import connection


class RoundTrips:
    """Records the SQL statements and Redis round trips made on this thread while the block runs."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.redis: list[str] = []
        self._thread = threading.get_ident()
        self._wrapper: Any = None
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> RoundTrips:
        from redis.connection import AbstractConnection

        self._original = AbstractConnection.send_packed_command
        original: Any = self._original
        counter = self

        def counted(conn: Any, command: Any, check_health: bool = True) -> Any:
            if threading.get_ident() == counter._thread:
                counter.redis.append(_describe(command))
            return original(conn, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        self._wrapper = connection.execute_wrapper(self._sql)
        self._wrapper.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        from redis.connection import AbstractConnection

        self._wrapper.__exit__(kind, exc, tb)
        AbstractConnection.send_packed_command = self._original  # type: ignore[method-assign,assignment]

    def _sql(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.sql.append(sql)
        return execute(sql, params, many, context)


def _describe(command: Any) -> str:
    """The command names of one round trip ("EVAL, LRANGE, ..."), for a readable assertion message."""
    parts = command if isinstance(command, list | tuple) else [command]
    raw = b"".join(bytes(p) if isinstance(p, bytes | bytearray | memoryview) else str(p).encode() for p in parts)
    names, pos = [], 0
    while pos < len(raw) and raw[pos : pos + 1] == b"*":  # RESP: *<argc>, then $<len> + bytes for each argument
        end = raw.index(b"\r\n", pos)
        argc = int(raw[pos + 1 : end])
        pos = end + 2
        for arg in range(argc):
            end = raw.index(b"\r\n", pos)
            size = int(raw[pos + 1 : end])
            if arg == 0:
                names.append(raw[end + 2 : end + 2 + size].decode(errors="replace").upper())
            pos = end + 2 + size + 2
    return ", ".join(names)
