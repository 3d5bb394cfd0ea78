"""Read replicas (dragonrec/db_routing.py) against a real streaming replica of the test database: a second
PostgreSQL started from `pg_basebackup -R` of the embedded primary (config/embedded_replica.py), replaying its WAL.

Replay is paused on the replica while the test writes, so "read from the replica" and "read from the primary" give
different answers (a row missing on one of them) instead of racing the replication lag."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import multidb
import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from rest_framework.test import APIClient

from config import embedded
from dragonrec.catalog.factories import ProductFactory
from dragonrec.db_routing import ReplicaRouter, primary_reads

ALIAS = "replica_1"
PIN_COOKIE = "dragonrec_pin"


# Committed data only (transaction=True): the replica sees nothing of a transaction that is rolled back. The
# replica's alias is a test mirror of `default`: the test case neither sets it up nor flushes it (a standby is
# read-only); Django's test case lets a test use it because it is named here.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", ALIAS])


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup: None) -> Iterator[str]:
    """A streaming replica of the test server, started after pytest-django created the test database, and the
    alias for it (before the test case starts: the test case checks the aliases it may use against DATABASES)."""
    if not embedded.replica_available():
        pytest.skip("no embedded PostgreSQL with pg_basebackup here (an external DATABASE_URL, say)")
    directory = embedded.VAR_DIR / "pg-replica-test"
    embedded.replica_start(directory)
    primary = connections["default"].settings_dict
    settings_dict = {**copy.deepcopy(primary), "HOST": str(directory)}
    settings_dict["TEST"]["MIRROR"] = "default"
    connections.settings[ALIAS] = settings_dict
    try:
        yield ALIAS
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        del connections.settings[ALIAS]
        embedded.replica_stop(directory)


@pytest.fixture
def replica(settings) -> Iterator[BaseDatabaseWrapper]:  # type: ignore[no-untyped-def]
    """What DATABASE_REPLICA_URLS sets up (config/settings/base.py), pointed at the replica of the test database:
    the replica alias, the router, the pinning middleware."""
    settings.REPLICA_DATABASES = [ALIAS]
    settings.DATABASE_ROUTERS = ["dragonrec.db_routing.ReplicaRouter"]
    settings.MIDDLEWARE = ["dragonrec.db_routing.ReplicaPinningMiddleware", *settings.MIDDLEWARE]
    multidb.replicas = None  # multidb reads REPLICA_DATABASES once per process
    wrapper = connections[ALIAS]
    try:
        yield wrapper
    finally:
        _scalar(wrapper, "SELECT pg_wal_replay_resume()")
        wrapper.close()
        multidb.replicas = None


def _scalar(wrapper: BaseDatabaseWrapper, sql: str, params: tuple[object, ...] = ()) -> object:
    with wrapper.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _wait(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 15
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not {what} within 15 s")
        time.sleep(0.05)


def replayed(replica: BaseDatabaseWrapper) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    # the insert position, not the write position: with synchronous_commit off (config/embedded.py) a commit
    # record can sit in the WAL buffers, past what has been written out, for a few hundred milliseconds
    lsn = _scalar(connections["default"], "SELECT pg_current_wal_insert_lsn()::text")
    _wait(lambda: _scalar(replica, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)), "catch up")


@contextmanager
def replay_paused(replica: BaseDatabaseWrapper) -> Iterator[None]:
    """The replica keeps receiving WAL but applies none of it: whatever the primary commits now is missing there."""
    _scalar(replica, "SELECT pg_wal_replay_pause()")
    _wait(lambda: _scalar(replica, "SELECT pg_get_wal_replay_pause_state()") == "paused", "pause")
    try:
        yield
    finally:
        _scalar(replica, "SELECT pg_wal_replay_resume()")


def view(product_id: int) -> dict[str, object]:
    return {"events": [{"id": str(uuid.uuid4()), "type": "view", "product_id": product_id}]}


@pytest.mark.slow
def test_a_shopper_reads_their_own_writes_from_the_primary_and_others_read_the_replica(replica) -> None:  # type: ignore[no-untyped-def]
    # given: a shop whose product the replica has replayed, and a replica that then stops replaying
    assert _scalar(replica, "SELECT pg_is_in_recovery()") is True  # a standby, not another name for the primary
    shown = ProductFactory(title="Shown monitor")
    replayed(replica)
    writer, other = APIClient(), APIClient()
    assert writer.get(f"/api/products/{shown.id}/").status_code == 200
    with replay_paused(replica):
        # when: a product is added (on the primary only, for now) and a shopper writes: views it
        added = ProductFactory(title="Added while the replica lags")
        answer = writer.post("/api/events/", view(added.id), format="json")
        assert answer.status_code < 300, answer.content
        assert PIN_COOKIE in writer.cookies  # their browser is pinned to the primary for a while
        # then: the writer reads their own write (their event) and the new product: from the primary
        events = writer.get("/api/me/data/").json()["events"]
        assert [e["product_id"] for e in events] == [added.id]
        assert writer.get(f"/api/products/{added.id}/").status_code == 200
        # ...while another shopper's reads are served by the replica, which has not replayed the new product yet
        assert other.get(f"/api/products/{shown.id}/").status_code == 200
        assert other.get(f"/api/products/{added.id}/").status_code == 404
        # a recommendation request reads and writes nothing in the database (its served list is buffered in Redis):
        # it leaves the shopper on the replica
        assert other.get("/api/recommendations/", {"n": 3}).status_code == 200
        assert PIN_COOKIE not in other.cookies
    # and: once the replica has replayed, every shopper sees the product
    replayed(replica)
    assert other.get(f"/api/products/{added.id}/").status_code == 200


def test_work_outside_a_request_reads_the_primary(replica) -> None:  # type: ignore[no-untyped-def]
    """Celery tasks, commands and migrations read and then write on what they read: never from a lagging replica."""
    router = ReplicaRouter()
    product = ProductFactory()
    assert router.db_for_read(type(product)) == "default"
    assert primary_reads(router.db_for_read)(type(product)) == "default"
    assert router.allow_migrate(ALIAS, "dragonrec_catalog") is False  # migrations never run on a replica


def test_a_get_that_writes_reads_the_primary_for_the_rest_of_the_request_and_pins_the_browser(replica) -> None:  # type: ignore[no-untyped-def]
    from django.http import HttpResponse
    from django.test import RequestFactory

    from dragonrec.db_routing import ReplicaPinningMiddleware

    router, product = ReplicaRouter(), type(ProductFactory())
    middleware = ReplicaPinningMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/api/recommendations/")
    # given: a GET, which reads the replica
    middleware.process_request(request)
    assert router.db_for_read(product) == ALIAS
    # when: it writes
    assert router.db_for_write(product) == "default"
    # then: its later reads go to the primary, and the browser is pinned by the response's cookie
    assert router.db_for_read(product) == "default"
    response = middleware.process_response(request, HttpResponse())
    assert PIN_COOKIE in response.cookies
    # ...and the thread's next request starts from its own cookies
    middleware.process_request(RequestFactory().get("/api/products/"))
    assert router.db_for_read(product) == ALIAS
    middleware.process_response(request, HttpResponse())
