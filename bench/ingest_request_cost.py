"""What one API request costs in CPU, in this process (issue #24's single events): the WSGI application called
directly (no HTTP server, no client threads), so the figure is the request's own work, per request, for

    floor    GET /bench/floor/drf/  (a bare DRF view: the middleware stack and DRF, nothing done)
    catalog  GET /api/products/<id>/ (one query)
    events   POST /api/events/ with one event and the API key (the fast lane: request checks, COPY, state bump)

    DRAGONREC_REDIS_PORT=6411 .venv/bin/python bench/ingest_request_cost.py --requests 2000

CPU is read from /proc as in bench/ingest.py (this process, its PostgreSQL backend, redis-server); the load average
is printed beside it. `--trace` prints the PostgreSQL messages and Redis commands of one single-event request.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ingest_floor_settings")
os.environ["DRAGONREC_THROTTLE_RATES"] = ",".join(
    f"{scope}=100000000/min"
    for scope in ("events.shopper", "events.address", "event_requests.shopper", "event_requests.address")
)

import argparse
import gc
import io
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _scratch import drop_database, load, scratch_database  # noqa: E402
from ingest import CpuMeter, bench_shop, event_items, redis_forget  # noqa: E402

DB_NAME = "dragonrec_bench_request_cost"


def call(app: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        **headers,
    }
    status: list[str] = []
    answer = app(environ, lambda s, h, *a: status.append(s))
    data = b"".join(answer)
    answer.close()
    return status[0], data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default="floor,catalog,events", help="which requests to time (comma list)")
    parser.add_argument(
        "--trace", action="store_true", help="print one single-event request's PostgreSQL messages and Redis commands"
    )
    args = parser.parse_args()

    scratch_database(DB_NAME)
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    try:
        products, key = bench_shop()
        app = WSGIHandler()
        headers = {
            "HTTP_AUTHORIZATION": f"Api-Key {key}",
            "CONTENT_TYPE": "application/json",
            "HTTP_ACCEPT": "application/json",
        }
        now = datetime.now(UTC)

        def requests(kind: str, n: int) -> list[tuple[str, str, bytes]]:
            if kind == "floor":
                return [("GET", "/bench/floor/drf/", b"")] * n
            if kind == "catalog":
                return [("GET", f"/api/products/{products[i % len(products)][0]}/", b"") for i in range(n)]
            return [("POST", "/api/events/", json.dumps(item).encode()) for item in event_items(n, products, now=now)]

        for kind in ("floor", "catalog", "events"):  # warm-up: imports, caches, the kept key
            for method, path, body in requests(kind, 50):
                status, data = call(app, method, path, body, headers)
                assert status.startswith("200"), (status, data[:300])
        gc.collect()
        gc.freeze()  # as gunicorn does after its warm-up (config/gunicorn.py)
        if args.trace:
            trace(app, requests("events", 1)[0], headers)
        meter = CpuMeter()
        print(f"load average at start {load()}", flush=True)
        for round_ in range(args.rounds):
            figures = []
            for kind in args.kinds.split(","):
                batch = requests(kind, args.requests)
                before = meter.now()
                for method, path, body in batch:
                    status, data = call(app, method, path, body, headers)
                    if not status.startswith("200") or b'"rejected"' in data:
                        raise SystemExit(f"{kind}: {status} {data[:300]!r}")
                after = meter.now()
                parts = [(b - a) / len(batch) * 1e6 for a, b in zip(before, after, strict=True)]
                figures.append(f"{kind} {sum(parts):6.0f} = " + " + ".join(f"{p:.0f}" for p in parts))
            print(
                f"round {round_ + 1}, CPU us a request (python + postgres + redis): "
                + "; ".join(figures)
                + f"  (load {load()})",
                flush=True,
            )
    finally:
        redis_forget()
        drop_database(DB_NAME)


def trace(app: Any, request: tuple[str, str, bytes], headers: dict[str, str]) -> None:
    """One single-event request's PostgreSQL messages (libpq's protocol trace of the connection the request uses)
    and Redis commands (MONITOR on a second connection)."""
    import tempfile
    import threading

    from django.db import connection
    from django_redis import get_redis_connection

    seen: list[str] = []
    monitor = get_redis_connection("default").monitor()
    started = threading.Event()

    def listen() -> None:
        with monitor as m:
            started.set()
            for command in m.listen():
                if "PING" in command["command"]:
                    break
                seen.append(command["command"][:160])

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    started.wait(5)
    time.sleep(0.2)
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as log:
        pgconn.trace(log.fileno())
        status, _ = call(app, *request, headers)
        connection.ensure_connection()
        if connection.connection.pgconn is pgconn:
            pgconn.untrace()
        log.seek(0)
        sent = [line.split("\t", 3)[2:] for line in log.read().splitlines() if "\tF\t" in line]
    time.sleep(0.2)
    get_redis_connection("default").ping()  # ends the listener
    thread.join(2)
    print(f"one single event ({status}): {len(seen)} Redis commands:")
    for command in seen:
        print("   ", command)
    print(f"{len(sent)} PostgreSQL protocol messages sent (libpq trace, message and size):")
    for message in sent:
        print("   ", " ".join(message)[:160])


if __name__ == "__main__":
    main()
