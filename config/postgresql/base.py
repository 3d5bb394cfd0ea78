"""Django's PostgreSQL backend, with a health check of a reused connection that sends nothing (issue #24).

Django's check (`CONN_HEALTH_CHECKS`) runs `SELECT 1` at the first query of every request on a persistent
connection: one more round trip for every request that touches the database, a fifth of a single event's. A
connection the server dropped (a restart, a failover, `pg_terminate_backend`, a pooler's or `idle_session_timeout`'s
close) tells its client: the server sends its FATAL error and closes the socket, so the socket of an idle
connection becomes readable, with nothing to read on a healthy one. So: a connection whose socket has nothing
pending and whose libpq status is fine is usable without asking; anything else (data pending, a failed or
unknown transaction state, no socket) gets Django's own `SELECT 1` and its verdict.

What neither check sees alike: a server that vanished without closing (a dead host, a cut network) — `SELECT 1`
waits for TCP to give up, as the request's own query then does.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError, psycopg.Error):  # no socket (closed): Django's own check decides
            return bool(super().is_usable())
        # pending input on an idle connection: the server's goodbye (or a notice): ask as Django does
        return bool(super().is_usable()) if readable else True
