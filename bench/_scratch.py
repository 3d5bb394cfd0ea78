"""A scratch database of a benchmark's own on this checkout's embedded PostgreSQL: created before django.setup(),
dropped at the end (Redis is the embedded one)."""

from __future__ import annotations

import os
from pathlib import Path


def scratch_database(name: str) -> None:
    """Point Django at a fresh database `name` on the embedded server (call before django.setup())."""
    import dj_database_url
    import psycopg

    from config import embedded

    embedded.start()
    url = embedded.database_url()
    cfg = dj_database_url.parse(url)
    admin = " ".join(
        [f"dbname=postgres user={cfg['USER']}"]
        + ([f"host={cfg['HOST']}"] if cfg.get("HOST") else [])
        + ([f"port={cfg['PORT']}"] if cfg.get("PORT") else [])
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    os.environ["DRAGONREC_BENCH_ADMIN_DSN"] = admin


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(os.environ["DRAGONREC_BENCH_ADMIN_DSN"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
