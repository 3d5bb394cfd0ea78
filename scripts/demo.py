#!/usr/bin/env python
"""`make demo`: the whole system on embedded services, in the foreground. Ctrl-C stops everything it started.

1. starts embedded PostgreSQL+pgvector and Redis (unless DATABASE_URL / REDIS_URL are set),
2. migrates, loads the demo shop (catalog, users, events), embeds it, computes trending/complements, trains a
   first student (or reuses the active one),
3. builds the React storefront (frontend/) when it is missing or stale,
4. runs a Celery worker, Celery beat and gunicorn at http://127.0.0.1:8000 until Ctrl-C, under a supervisor
   (config/supervisor.py): a process that dies is started again (with a backoff while it keeps dying at start), and
   so is the embedded Redis. The demo stops by itself only when a process keeps crashing right after its start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import embedded, frontend, queues  # noqa: E402
from config.supervisor import Child, Supervisor, SupervisorGaveUp  # noqa: E402

PY = sys.executable
BIND = os.environ.get("DRAGONREC_BIND", "127.0.0.1:8000")


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=REPO, check=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and `kill` both mean "stop everything"; set explicitly, since a shell that starts us in the
    # background hands us SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    before = embedded.status()
    print("starting embedded services ...", flush=True)
    embedded.start()
    supervisor: Supervisor | None = None
    try:
        manage("migrate", "--no-input", "-v", "0")
        manage("collectstatic", "--no-input", "-v", "0")
        manage("dragonrec_demo_data")
        frontend.ensure_built()
        worker = [PY, "-m", "celery", "-A", "config", "worker", "-Q", queues.ALL, "-c", "2"]
        # gossip and mingle only coordinate several workers; each broker restart logged a Gossip error and waited a
        # second for mingle's replies before consuming again
        worker += ["--without-gossip", "--without-mingle"]
        beat = [PY, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(REPO / "var" / "celerybeat")]
        # workers, threads, bind, warm-up and thread limits: config/gunicorn.py (DRAGONREC_WEB_* variables)
        web = [PY, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
        supervisor = Supervisor(
            [Child("worker", [*worker, "-l", "info"]), Child("beat", beat), Child("web", web)],
            cwd=REPO,
            watch_redis=before["redis"]["mode"] == "embedded",
            say=lambda message: print(f"demo: {message}", file=sys.stderr, flush=True),
        )
        supervisor.start()
        print(
            f"\nDragonRec demo shop: http://{BIND}/  (sign in as shopper / dragonrec-shopper to see a returning "
            f"shopper's page; admin: http://{BIND}/admin/ as admin / dragonrec-demo, API docs: http://{BIND}/api/docs/)\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        supervisor.run()
        return 0
    except SupervisorGaveUp as exc:
        print(f"demo: {exc}; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        if supervisor is not None:
            supervisor.stop()
        if (before["redis"]["mode"] == "embedded" and not before["redis"]["running"]) or (
            before["postgres"]["mode"] == "embedded" and not before["postgres"]["running"]
        ):
            embedded.stop()


if __name__ == "__main__":
    raise SystemExit(main())
