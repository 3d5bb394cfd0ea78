"""The real stack for browser tests: the built storefront, gunicorn (config/gunicorn.py) and a Celery worker, on a
database and Redis databases of their own on the embedded servers, with the demo shop loaded (no student: the
lists are ranked by embeddings and trending, so the run stays fast and deterministic enough)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import embedded, queues
from tests.databases import libpq_dsn

REPO = Path(__file__).resolve().parents[2]
SHOPPER, SHOPPER_PASSWORD = "e2e-shopper", "e2e-password-9!"
E2E_REDIS_DB = "12"  # cache 12, broker 13: the suite uses 8-10, the host-project test 11, the demo 0-1


@dataclass
class Stack:
    url: str
    database: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read what the shop wrote, as an operator would: straight from PostgreSQL."""
        import psycopg

        with psycopg.connect(libpq_dsn(self.database)) as conn:
            return conn.execute(query, params).fetchall()

    def wait_for(self, query: str, params: tuple[Any, ...] = (), *, timeout: float = 30.0) -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.sql(query, params)
            if rows or time.monotonic() > deadline:
                return rows
            time.sleep(0.25)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def start() -> Iterator[Stack]:
    import psycopg

    from config import frontend

    embedded.start()
    frontend.ensure_built(quiet=True)
    database = f"e2e_dragonrec_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    port = _free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DRAGONREC_WORKER_USE_TEST_DB=database,  # the test settings' switch to a named database
        DRAGONREC_TEST_REDIS_DB=E2E_REDIS_DB,
        DRAGONREC_BIND=f"127.0.0.1:{port}",
        DRAGONREC_WEB_WORKERS="1",
        DRAGONREC_WEB_THREADS="8",
        OMP_NUM_THREADS="1",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    stack = Stack(url=f"http://127.0.0.1:{port}", database=database, env=env)
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "dragonrec_demo_data", "--skip-train")
        user = f"get_user_model().objects.create_user({SHOPPER!r}, password={SHOPPER_PASSWORD!r})"
        _manage(env, "shell", "-c", f"from django.contrib.auth import get_user_model; {user}")
        import redis

        base = embedded.redis_url().rsplit("/", 1)[0]
        for db in (int(E2E_REDIS_DB), int(E2E_REDIS_DB) + 1):
            redis.Redis.from_url(f"{base}/{db}").flushdb()
        worker = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues.ALL, "-c", "1"]
        worker += ["--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]
        stack.procs.append(subprocess.Popen(worker, cwd=REPO, env=env))
        web = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
        stack.procs.append(subprocess.Popen(web, cwd=REPO, env=env))
        _wait_http(f"{stack.url}/api/categories/", stack.procs)
        yield stack
    finally:
        for proc in stack.procs:
            proc.terminate()
        for proc in stack.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _wait_http(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a stack process exited at start")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
