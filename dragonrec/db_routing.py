"""Read replicas: a shopper's reads go to a streaming replica, writes to the primary, and a shopper who just wrote
reads the primary for a while (reads their own writes). Switched on by DATABASE_REPLICA_URLS (config/settings);
without it no router is installed and every query goes to `default`, as before.

Built on django-multidb-router (`multidb`, maintained by Mozilla): its `PinningReplicaRouter` sends reads to
`REPLICA_DATABASES` round-robin unless the thread is pinned, and its `PinningRouterMiddleware` pins a request that
is a write (not GET/HEAD/OPTIONS/TRACE) or carries its cookie, and sets that cookie (`MULTIDB_PINNING_SECONDS`) on
the response to a write, so the same browser's next requests read the primary until the replica has caught up.

What this module adds, and why:
- **Replicas are for requests only.** Outside a request (Celery tasks, management commands, migrations, the
  shell) every read goes to the primary. Those jobs read and then write on what they read (the impression flush,
  attribution, rewards, aggregates, training, retention); a replica a few hundred milliseconds behind would make
  them write stale results or miss rows. multidb's default (replica unless pinned) would send them to the replica.
- **A write pins the rest of its request.** A GET that writes (a buffered impression written inline when Redis is
  down, say) reads what it wrote from the primary, and its response sets the pin cookie too.
- **A transaction reads where it writes.** Inside `transaction.atomic()` on the primary, reads stay on the
  primary: a read-then-write in one transaction must see one database.

API-key clients (a shop's backend) that keep no cookies are not pinned between requests: their reads may lag the
replica's replay (usually milliseconds; docs/scaling.md).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponseBase
from multidb import PinningReplicaRouter
from multidb.middleware import PinningRouterMiddleware
from multidb.pinning import mark_as_write, pin_this_thread, this_thread_is_pinned, unpin_this_thread

__all__ = ["ReplicaPinningMiddleware", "ReplicaRouter", "primary_reads", "replica_reads_allowed"]

_state = threading.local()
P = ParamSpec("P")
R = TypeVar("R")


def primary_reads(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: `func` reads the primary even when a request calls it, for code that reads and then writes on
    what it read (the impression write: which products and users exist, which clicks arrived). A no-op without
    replicas. multidb's `use_primary_db` does the same but unpins on leaving a nested use; this restores the pin
    as it found it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        pinned = this_thread_is_pinned()
        pin_this_thread()
        try:
            return func(*args, **kwargs)
        finally:
            if not pinned:
                unpin_this_thread()

    return wrapper


def replica_reads_allowed() -> bool:
    """Whether a read on this thread may go to a replica now: inside a request that has not written and carries
    no pin cookie, outside any transaction on the primary."""
    if not getattr(_state, "in_request", False) or this_thread_is_pinned():
        return False
    return not connections[DEFAULT_DB_ALIAS].in_atomic_block


class ReplicaRouter(PinningReplicaRouter):  # type: ignore[misc]
    """DATABASE_ROUTERS entry: reads to a replica only where `replica_reads_allowed()`, writes to the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        if not replica_reads_allowed():
            return DEFAULT_DB_ALIAS
        alias: str = super().db_for_read(model, **hints)
        return alias

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        if getattr(_state, "in_request", False):
            # the rest of this request, and this browser's next requests (the cookie), read the primary
            _state.wrote = True
            pin_this_thread()
        return DEFAULT_DB_ALIAS


class ReplicaPinningMiddleware(PinningRouterMiddleware):  # type: ignore[misc]
    """MIDDLEWARE entry (with the router): marks the thread as serving a request, so its reads may use a replica,
    and sets the pin cookie on the response of any request that wrote, GETs included."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        _state.in_request = True
        _state.wrote = False

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(_state, "wrote", False):
            mark_as_write(response)
        _state.in_request = False
        _state.wrote = False
        response = super().process_response(request, response)
        unpin_this_thread()  # a worker thread's next request starts from its own cookie, not this one's pin
        return response
