"""Fixtures shared by the whole suite. Everything runs against the real embedded PostgreSQL+pgvector and Redis
(started here if `make test` has not already), the real offline embedder and real Celery processes; the only
stand-in is the LLM, a real HTTP server on 127.0.0.1 (tests/llm_server.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import embedded, queues
from tests.llm_server import llm_server  # noqa: F401  (fixture: the fake OpenAI-compatible server)

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    embedded.start()  # idempotent; a no-op for servers named by DATABASE_URL / REDIS_URL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that drives the browser is a browser test whether or not its module says so: `make test-fast`
    (`-m "not browser and not fuzz"`) must not start Chromium because someone forgot a marker."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def fresh_process_caches() -> None:
    """Every test starts like a fresh serving process: no snapshot, student, rules, experiments or teacher client
    left over from another test's (rolled back) data. The one function that empties them all."""
    from dragonrec.recommender.core.caching import process_caches_reset

    process_caches_reset()


@pytest.fixture(autouse=True)
def fresh_serving_caches() -> None:
    """A shopper's cached state (tracking/state.py) is invalidated by writes, and a test's database rolls back
    without one: drop what an earlier test cached. Likewise the API keys and cookie ids a process keeps."""
    from django.conf import settings

    if not settings.configured:
        return  # the Django-free suites (-p no:django) have no cache to clear
    from dragonrec.tracking import authentication, identity
    from dragonrec.tracking.state import shopper_states_clear

    authentication._verified.clear()
    identity._live.clear()
    with contextlib.suppress(Exception):  # Redis stopped by an earlier test on purpose: nothing is cached then
        shopper_states_clear()
        # an earlier test's failed keys marked this address (the axes rows behind the mark rolled back with it)
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        for key in redis.scan_iter(authentication.FAILED_KEY.format("*")):
            redis.delete(key)
        # lists an earlier test served and left in the impression buffer: a flush in this test (an erasure flushes
        # first) would write them into this test's database
        from dragonrec.recommender.services import impressions

        redis.delete(impressions.BUFFER_KEY, impressions.SCHEDULED_KEY)


@pytest.fixture
def redis_client() -> Iterator[object]:
    """A redis.Redis on the real server, in a logical database of its own, emptied before and after."""
    import redis

    # the test settings use logical dbs 8 (cache) and 9 (broker); this fixture takes the next one. Read without
    # Django so the Django-free suites can use it under `-p no:django` too.
    db = int(os.environ.get("DRAGONREC_TEST_REDIS_DB", "8")) + 2
    client = redis.Redis.from_url(embedded.redis_url().rsplit("/", 1)[0] + f"/{db}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def api_client():  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def shopper_cookie():  # type: ignore[no-untyped-def]
    """Makes a test client the browser of anonymous shopper `session_id` (a validly signed shopper cookie), for
    tests whose history was made with factories under a known session id."""
    from django.core.signing import get_cookie_signer

    from dragonrec.tracking.identity import SALT, cookie_settings

    def carry(client, session_id: str):  # type: ignore[no-untyped-def]
        name = cookie_settings()["NAME"]
        client.cookies[name] = get_cookie_signer(salt=name + SALT).sign(session_id)
        return client

    return carry


@pytest.fixture
def api_key(db: None):  # type: ignore[no-untyped-def]
    """Creates an integration's API key with the given scopes and returns the full key (as the shop stores it)."""
    from dragonrec.tracking.services import api_key_create

    def make(scopes: list[str], name: str = "shop backend") -> str:
        return api_key_create(name=name, scopes=scopes)[1]

    return make


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a clean skip where it is absent."""
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process (settings overrides don't cross process boundaries)."""
    return {}


def celery_workers_start(env: dict[str, str], workers: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """Start real `celery worker` processes on the test broker (and the database `env` names), one per
    `hostname: queues` entry, side by side; returns once each answers a ping."""
    from config.celery import app

    procs = []
    for hostname, consumed in workers.items():
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", consumed, "-c", "1", "--pool", "solo"]
        cmd += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning", "-n", hostname]
        procs.append(subprocess.Popen(cmd, cwd=REPO, env=env))
    waiting = set(workers)
    deadline = time.monotonic() + 60
    while waiting and time.monotonic() < deadline:
        waiting -= {host for reply in app.control.ping(timeout=0.5, destination=list(waiting)) for host in reply}
        if any(proc.poll() is not None for proc in procs):
            break
    if waiting:
        for proc in procs:
            celery_worker_stop(proc)
        raise RuntimeError(f"celery workers {sorted(waiting)} did not start within 60 s")
    return procs


def celery_worker_stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def celery_worker_env(transactional_db: None, worker_env: dict[str, str]) -> dict[str, str]:
    """The environment of a worker process on the test database, with the broker emptied of earlier tests'
    messages (queued by their on_commit hooks: they would only slow the worker down) and the cache of the state
    that promises them (e.g. "an impression flush is scheduled")."""
    from django.conf import settings
    from django_redis import get_redis_connection

    from config.celery import app

    env = dict(os.environ, **worker_env)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["DRAGONREC_WORKER_USE_TEST_DB"] = settings.DATABASES["default"]["NAME"]
    app.control.purge()
    get_redis_connection("default").flushdb()
    return env


@pytest.fixture
def celery_worker_process(celery_worker_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` process on the test database and the test broker (not eager mode), consuming every
    queue.

    Tests using it must use `transactional_db` data: the worker sees only committed rows.
    """
    (proc,) = celery_workers_start(celery_worker_env, {"worker@dragonrec-test": queues.ALL})
    yield proc
    celery_worker_stop(proc)
