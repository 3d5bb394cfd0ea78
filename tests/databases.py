"""Scratch databases on the test server (the embedded PostgreSQL, or DATABASE_URL's) for tests that run a whole
process against a database of their own: the browser tests' stack and the host-project test."""

from __future__ import annotations

from config import embedded


def libpq_dsn(dbname: str, url: str | None = None) -> str:
    """A libpq connection string for `dbname` on the server of `url` (default: the test server)."""
    import dj_database_url

    cfg = dj_database_url.parse(url or embedded.database_url())
    parts = [f"dbname={dbname}", f"user={cfg['USER']}"]
    parts += [f"host={cfg['HOST']}"] if cfg.get("HOST") else []
    parts += [f"port={cfg['PORT']}"] if cfg.get("PORT") else []
    return " ".join(parts)
