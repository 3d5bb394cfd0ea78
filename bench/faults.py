#!/usr/bin/env python
"""Nothing acknowledged is lost while the back end fails: events and impressions under worker kills and a Redis
restart.

    python bench/faults.py                # starts its own gunicorn + Celery worker on this checkout's embedded services
    python bench/faults.py --events 20000 --clients 16 --replays 0.1

What it does, bounded in count and time, talking only to the local server it starts:
1. starts the embedded PostgreSQL+pgvector and Redis (`config.embedded`), migrates, loads the demo shop without
   training (`dragonrec_demo_data --skip-train`), then a gunicorn (config/gunicorn.py) and one Celery worker;
2. 16 clients post `--events` events in bursts (1-50 per request), 10% of them replays of ids the same client sent
   before, and ask for recommendations after each burst (every served list is an impression). A client retries
   a request that failed (connection error, 5xx, 429) with the same ids, like the storefront tracker;
3. meanwhile: SIGKILL of the worker (restarted 3 s later), a Redis restart (down ~2 s), a second worker SIGKILL;
4. waits for the worker to drain the impression buffer (then flushes what is left, as beat's one-minute safety net
   would), and compares with the database.

Prints: events stored, duplicates answered, lost (acknowledged as accepted/duplicate but not stored: must be 0),
impressions lost (lists served with a request id but not stored: must be 0), and latency p50/p99 overall and
during the faults.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
PY = sys.executable
MAX_TRIES = 30  # per request; with Retry-After/backoff capped at 2 s this outlasts any fault below


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=REPO, check=True)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)  # answered accepted or duplicate
    sent_unique: set[str] = field(default_factory=set)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    gave_up: int = 0
    retries: int = 0
    throttled: int = 0
    errors_5xx: int = 0
    conn_errors: int = 0
    served: list[str] = field(default_factory=list)  # request ids of recommendation answers
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)
    submitted: int = 0


class Client(threading.Thread):
    def __init__(
        self, index: int, base: tuple[str, int], n_events: int, product_ids: list[int], args: Any, stats: Stats
    ):
        super().__init__(daemon=True)
        self.index, self.base, self.n_events, self.ids, self.args, self.stats = (
            index,
            base,
            n_events,
            product_ids,
            args,
            stats,
        )
        self.rng = random.Random(index)
        self.session = f"faults-{uuid.uuid4().hex[:8]}-{index}"
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        """One request with the tracker's retry policy; (status, json) of the final answer, status 0 = gave up."""
        delay = 0.1
        for attempt in range(MAX_TRIES):
            if attempt:
                with self.stats.lock:
                    self.stats.retries += 1
            started = time.monotonic()
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(*self.base, timeout=30)
                headers = {"Content-Type": "application/json"} if body else {}
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                raw = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                with self.stats.lock:
                    self.stats.conn_errors += 1
                    self.stats.latencies.append((started, time.monotonic() - started))
                self.conn = None
                time.sleep(delay)
                delay = min(2.0, delay * 2)
                continue
            with self.stats.lock:
                self.stats.latencies.append((started, time.monotonic() - started))
            if status == 429:
                with self.stats.lock:
                    self.stats.throttled += 1
                time.sleep(min(2.0, float(response.getheader("Retry-After") or delay)))
                continue
            if status >= 500:
                with self.stats.lock:
                    self.stats.errors_5xx += 1
                self.conn = None
                time.sleep(delay)
                delay = min(2.0, delay * 2)
                continue
            return status, json.loads(raw) if raw else None
        return 0, None

    def run(self) -> None:
        sent: list[str] = []
        remaining = self.n_events
        while remaining > 0:
            size = min(remaining, self.rng.randint(1, 50))
            items = []
            for _ in range(size):
                if sent and self.rng.random() < self.args.replays:
                    event_id = self.rng.choice(sent)  # a replay: the tracker resending an id it sent before
                else:
                    event_id = str(uuid.uuid4())
                    sent.append(event_id)
                items.append(
                    {
                        "id": event_id,
                        "type": "add_to_cart" if self.rng.random() < 0.1 else "view",
                        "product_id": self.rng.choice(self.ids),
                        "session_id": self.session,
                    }
                )
            status, answer = self.request("POST", "/api/events/", json.dumps({"events": items}).encode())
            with self.stats.lock:
                self.stats.submitted += size
                self.stats.sent_unique.update(i["id"] for i in items)
                if status != 200:
                    self.stats.gave_up += size
                else:
                    for result in answer["results"]:
                        if result["status"] == "accepted":
                            self.stats.accepted += 1
                            self.stats.acked.add(result["id"])
                        elif result["status"] == "duplicate":
                            self.stats.duplicates += 1
                            self.stats.acked.add(result["id"])
                        else:
                            self.stats.rejected += 1
            remaining -= size
            status, answer = self.request("GET", f"/api/recommendations/?session_id={self.session}&n=6")
            if status == 200:
                with self.stats.lock:
                    self.stats.served.append(answer["request_id"])


class Stack:
    """gunicorn + one Celery worker on the embedded services, each in its own process group."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.log = open(REPO / "var" / "bench-faults.log", "ab")  # noqa: SIM115

    def start_web(self) -> None:
        env = dict(os.environ, DRAGONREC_BIND=f"127.0.0.1:{self.port}")
        cmd = [PY, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
        self.web = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True, stdout=self.log, stderr=self.log)

    def start_worker(self) -> None:
        cmd = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "default,teacher", "-c", "1", "-l", "warning"]
        self.worker = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=self.log, stderr=self.log)

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)  # the whole group: prefork children die with their parent
        self.worker.wait()

    def stop(self) -> None:
        for proc in (self.web, self.worker):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in (self.web, self.worker):
            if proc is not None:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


def redis_restart(down_s: float) -> None:
    """SIGTERM the embedded Redis (it saves its data, as a managed Redis' restart does), wait, start it again on the
    same port."""
    from config import embedded

    state = json.loads(embedded.STATE_FILE.read_text())
    pid, url = int(state["redis_pid"]), str(state["redis_url"])
    os.kill(pid, signal.SIGTERM)
    while embedded._pid_alive(pid):
        time.sleep(0.05)
    time.sleep(down_s)
    port = url.rsplit(":", 1)[1].split("/")[0]
    env = dict(os.environ, DRAGONREC_REDIS_PORT=port)
    subprocess.run([PY, "-m", "config.embedded", "start"], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def wait_http(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/products/?page=1")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up; see var/bench-faults.log")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--replays", type=float, default=0.1)
    parser.add_argument("--drain-s", type=float, default=90.0, help="how long the worker gets to drain the buffer")
    args = parser.parse_args()

    from config import embedded

    embedded.start()
    manage("migrate", "--no-input", "-v", "0")
    manage("dragonrec_demo_data", "--skip-train")
    import django

    django.setup()
    from dragonrec.recommender.models import Impression
    from dragonrec.recommender.services.impressions import impressions_buffered, impressions_flush
    from dragonrec.tracking.models import Event

    port = free_port()
    stack = Stack(port)
    stats = Stats()
    fault_log: list[tuple[float, str]] = []
    try:
        stack.start_web()
        stack.start_worker()
        wait_http(port, 180)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/products/?page=1")
        product_ids = [p["id"] for p in json.loads(conn.getresponse().read())["results"]]

        share = [
            args.events // args.clients + (1 if i < args.events % args.clients else 0) for i in range(args.clients)
        ]
        clients = [Client(i, ("127.0.0.1", port), share[i], product_ids, args, stats) for i in range(args.clients)]
        started = time.monotonic()
        for client in clients:
            client.start()

        def progress() -> float:
            with stats.lock:
                return stats.submitted / args.events

        def at(fraction: float) -> None:
            while progress() < fraction and any(c.is_alive() for c in clients):
                time.sleep(0.05)

        at(0.2)
        fault_log.append((time.monotonic(), "worker SIGKILL"))
        stack.kill_worker()
        time.sleep(3)
        stack.start_worker()
        at(0.45)
        fault_log.append((time.monotonic(), "redis restart"))
        redis_restart(2.0)
        at(0.7)
        fault_log.append((time.monotonic(), "worker SIGKILL"))
        stack.kill_worker()
        time.sleep(3)
        stack.start_worker()
        fault_end = time.monotonic() + 5  # the recovery after the last fault counts as "during"
        for client in clients:
            client.join()
        elapsed = time.monotonic() - started

        deadline = time.monotonic() + args.drain_s
        while impressions_buffered() and time.monotonic() < deadline:
            time.sleep(0.5)
        left_for_beat = impressions_buffered()
        while impressions_buffered():
            impressions_flush(reschedule=False)  # what beat's one-minute safety net does
    finally:
        stack.stop()

    stored_ids = set()
    acked = sorted(stats.acked)
    for i in range(0, len(acked), 5000):
        stored_ids.update(str(x) for x in Event.objects.filter(id__in=acked[i : i + 5000]).values_list("id", flat=True))
    lost = len(stats.acked - stored_ids)
    stored_impressions = 0
    for i in range(0, len(stats.served), 5000):
        stored_impressions += Impression.objects.filter(request_id__in=stats.served[i : i + 5000]).count()
    first_fault = fault_log[0][0]
    during = [s for start, s in stats.latencies if first_fault <= start <= fault_end]
    overall = [s for _, s in stats.latencies]

    print(
        f"events submitted: {stats.submitted} ({len(stats.sent_unique)} unique ids) "
        f"by {args.clients} clients in {elapsed:.1f} s"
    )
    print(f"events stored: {len(stored_ids)}  accepted answers: {stats.accepted}  duplicates: {stats.duplicates}")
    print(f"events rejected: {stats.rejected}  gave up (never acknowledged): {stats.gave_up}")
    print(f"lost (acknowledged, not stored): {lost}")
    print(
        f"impressions served: {len(stats.served)}  stored: {stored_impressions}  "
        f"lost: {len(stats.served) - stored_impressions}"
    )
    print(f"impressions left after {args.drain_s:.0f} s for the beat safety net: {left_for_beat}")
    print(
        f"client retries: {stats.retries} (connection errors {stats.conn_errors}, 5xx {stats.errors_5xx}, "
        f"429 {stats.throttled})"
    )
    print(f"faults: {', '.join(name for _, name in fault_log)}")
    print(
        f"latency p50/p99: overall {percentile(overall, 0.5) * 1000:.0f}/{percentile(overall, 0.99) * 1000:.0f} ms, "
        f"during the faults {percentile(during, 0.5) * 1000:.0f}/{percentile(during, 0.99) * 1000:.0f} ms "
        f"({len(during)} requests)"
    )
    return 0 if lost == 0 and len(stats.served) == stored_impressions else 1


if __name__ == "__main__":
    raise SystemExit(main())
