#!/usr/bin/env python
"""A catalog GET while 8 slow connections trickle a byte a second, and the catalog's throughput, for gunicorn as
config/gunicorn.py runs it and as it ran before (gunicorn's threads = the application threads).

    python bench/slow_clients.py                 # ~2 minutes on 2 cores
    python bench/slow_clients.py --slow 16 --seconds 20

What it does, talking only to the servers it starts:
1. starts the embedded PostgreSQL+pgvector and Redis, creates a scratch database (dropped at the end), migrates it
   and loads the demo shop without training;
2. for each server model: starts gunicorn (config/gunicorn.py, 2 processes x 4 application threads), then
   - `--requests` catalog GETs one after another: the latency of a shopper's page;
   - the same while `--slow` connections hold requests open (half trickle their headers, half a declared body),
     one byte per second each, as slowloris does;
   - `--seconds` of 8 clients back to back on the catalog: requests per second;
3. prints the figures side by side with the load average.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PY = sys.executable
CATALOG = "/api/products/?page=1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([PY, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def get(port: int, timeout: float = 30.0) -> float:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", CATALOG)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"catalog GET answered {response.status}")
    finally:
        conn.close()
    return time.monotonic() - started


def trickle(port: int, head: bytes, stop: threading.Event) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head)
            while not stop.wait(1.0):
                sock.sendall(b"x")
    except OSError:
        return


def latencies(port: int, n: int, timeout: float = 30.0) -> list[float]:
    out = []
    for _ in range(n):
        try:
            out.append(get(port, timeout=timeout))
        except (OSError, RuntimeError):
            out.append(float("inf"))  # no answer within `timeout`: a shopper would have left
    return out


def throughput(port: int, seconds: float, clients: int = 8) -> float:
    done = [0] * clients
    deadline = time.monotonic() + seconds

    def loop(i: int) -> None:
        while time.monotonic() < deadline:
            try:
                get(port)
                done[i] += 1
            except (OSError, RuntimeError):
                pass

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    pick = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], ordered[-1]
    timeouts = sum(v == float("inf") for v in values)
    text = "/".join("timeout" if v == float("inf") else f"{v * 1000:.0f}" for v in pick) + " ms"
    return text + (f" ({timeouts} of {len(values)} no answer)" if timeouts else "")


def measure(env: dict[str, str], io_threads: str, args: argparse.Namespace, log: IO[bytes]) -> dict[str, str]:
    port = free_port()
    run_env = dict(env, DRAGONREC_BIND=f"127.0.0.1:{port}", DRAGONREC_WEB_IO_THREADS=io_threads)
    cmd = [PY, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
    web = subprocess.Popen(cmd, cwd=REPO, env=run_env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                get(port, timeout=5)
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit("gunicorn did not come up; see var/bench-slow-clients.log") from None
                time.sleep(0.5)
        latencies(port, 10)  # warm both processes
        quiet = latencies(port, args.requests)
        stop = threading.Event()
        heads = [b"GET / HTTP/1.1\r\nHost: shop\r\nX-Slow: "] * (args.slow // 2)
        post = b"POST /api/events/ HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n"
        heads += [post + b"\r\n"] * (args.slow - args.slow // 2)
        slow = [threading.Thread(target=trickle, args=(port, h, stop), daemon=True) for h in heads]
        for t in slow:
            t.start()
        time.sleep(2)
        under_attack = latencies(port, args.requests, timeout=args.give_up_s)
        stop.set()
        rate = throughput(port, args.seconds)
        return {
            "catalog GET p50/p95/max": summary(quiet),
            f"... while {args.slow} slow connections trickle": summary(under_attack),
            "catalog GETs/s, 8 clients": f"{rate:.0f}",
        }
    finally:
        web.terminate()
        try:
            web.wait(20)
        except subprocess.TimeoutExpired:
            web.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--slow", type=int, default=8, help="slow connections")
    parser.add_argument("--requests", type=int, default=20, help="catalog GETs per latency figure")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the throughput run")
    parser.add_argument("--models", default="before,now", help="which server models, in this order")
    parser.add_argument("--give-up-s", type=float, default=5.0, help="a GET under attack waits this long at most")
    args = parser.parse_args()

    import signal

    import psycopg

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `kill` cleans up too: gunicorn, the scratch database

    from config import embedded
    from tests.databases import libpq_dsn

    embedded.start()
    database = f"slow_dragonrec_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL=f"{embedded.database_url().rsplit('/', 1)[0]}/{database}",
        DRAGONREC_THROTTLE_RATES="recommendations.address=,events.address=",
    )
    results = {}
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "dragonrec_demo_data", "--skip-train")
        with open(REPO / "var" / "bench-slow-clients.log", "ab") as log:
            models = {"before": ("gthread 2x4 (before)", "4"), "now": ("2x4 app threads, 32 I/O threads", "32")}
            for key in args.models.split(","):
                name, io_threads = models[key]
                results[name] = measure(env, io_threads, args, log)
    finally:
        with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(f"load average {Path('/proc/loadavg').read_text().strip()}")
    names = list(results)
    print(f"{'':44} " + "  ".join(f"{n:>32}" for n in names))
    for row in results[names[0]]:
        print(f"{row:44} " + "  ".join(f"{results[n][row]:>32}" for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
