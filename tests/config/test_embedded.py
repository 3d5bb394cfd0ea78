"""The embedded services module starts, reports and stops real servers (in a scratch folder, so the suite's own
servers are untouched)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def embedded(var: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DRAGONREC_VAR_DIR=str(var), DRAGONREC_REDIS_PORT=str(port))
    return subprocess.run(
        [sys.executable, "-m", "config.embedded", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_start_status_stop(tmp_path: Path) -> None:
    var, port = tmp_path / "var", free_port()
    try:
        started = embedded(var, port, "start")
        assert started.returncode == 0, started.stderr
        state = json.loads((var / "services.json").read_text())
        assert state["redis_url"] == f"redis://127.0.0.1:{port}/0"
        status = embedded(var, port, "status").stdout
        assert "postgres  embedded  running=True" in status and "redis     embedded  running=True" in status
        # a real query, with pgvector, through the URL the settings would use
        import psycopg

        url = state["database_url"].replace("postgres://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            assert conn.execute("SELECT '[1,2]'::vector <-> '[1,3]'::vector").fetchone()[0] == 1.0
        # idempotent
        assert embedded(var, port, "start").returncode == 0
        # Redis keeps its data across a restart (the impression buffer lives there)
        import signal
        import time

        import redis

        client = redis.Redis.from_url(state["redis_url"])
        client.rpush("dragonrec:impressions:buffer", "a served list")
        client.close()
        os.kill(int(state["redis_pid"]), signal.SIGTERM)
        for _ in range(100):
            if embedded(var, port, "status").stdout.count("running=False"):
                break
            time.sleep(0.05)
        assert embedded(var, port, "start").returncode == 0
        client = redis.Redis.from_url(state["redis_url"])
        assert client.lrange("dragonrec:impressions:buffer", 0, -1) == [b"a served list"]
        client.close()
    finally:
        stopped = embedded(var, port, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "running=False" in embedded(var, port, "status").stdout


def test_external_urls_are_used_as_given(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL="postgres://u:p@db.example:5432/shop", REDIS_URL="redis://cache:6379/3")
    code = "from config import embedded; print(embedded.database_url()); print(embedded.redis_url())"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True).stdout
    assert out.split() == ["postgres://u:p@db.example:5432/shop", "redis://cache:6379/3"]
