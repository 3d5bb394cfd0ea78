#!/usr/bin/env python
"""`make demo`: the whole system on embedded services, in the foreground. Ctrl-C stops everything it started.

1. starts embedded PostgreSQL+pgvector and Redis (unless DATABASE_URL / REDIS_URL are set),
2. migrates, loads the demo shop (catalog, users, events), embeds it, computes trending/complements, trains a
   first student (or reuses the active one),
3. builds the React storefront (frontend/) when it is missing or stale,
4. runs a Celery worker, Celery beat and gunicorn at http://127.0.0.1:8000 until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import embedded, frontend  # noqa: E402

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
    children: list[subprocess.Popen[bytes]] = []
    try:
        manage("migrate", "--no-input", "-v", "0")
        manage("collectstatic", "--no-input", "-v", "0")
        manage("dragonrec_demo_data")
        frontend.ensure_built()
        worker = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "default,teacher,training", "-c", "2"]
        children.append(subprocess.Popen([*worker, "-l", "info"], cwd=REPO))
        children.append(
            subprocess.Popen(
                [PY, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(REPO / "var" / "celerybeat")],
                cwd=REPO,
            )
        )
        # workers, threads, bind, warm-up and thread limits: config/gunicorn.py (DRAGONREC_WEB_* variables)
        children.append(
            subprocess.Popen(
                [PY, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"],
                cwd=REPO,
            )
        )
        print(
            f"\nDragonRec demo shop: http://{BIND}/  (sign in as shopper / dragonrec-shopper to see a returning "
            f"shopper's page; admin: http://{BIND}/admin/ as admin / dragonrec-demo, API docs: http://{BIND}/api/docs/)\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a demo process exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(30)  # gunicorn's graceful timeout is 5 s, a Celery warm shutdown finishes its task
            except subprocess.TimeoutExpired:
                child.kill()
        if (before["redis"]["mode"] == "embedded" and not before["redis"]["running"]) or (
            before["postgres"]["mode"] == "embedded" and not before["postgres"]["running"]
        ):
            embedded.stop()


if __name__ == "__main__":
    raise SystemExit(main())
