#!/usr/bin/env python
"""Nothing acknowledged is lost or doubled, and no request is refused, while the back end fails under real traffic.

    python bench/faults.py                          # ~2 minutes on 2 cores; exits 1 on any loss, duplicate or refusal
    python bench/faults.py --events 4000 --shoppers 12 --integrations 4
    python bench/faults.py --inject-loss event      # deletes one acknowledged event before the check: must exit 1

What it does, bounded in count and time, talking only to the servers it starts:
1. starts the embedded PostgreSQL+pgvector and Redis (`config.embedded`), creates a scratch database (dropped at the
   end), migrates it, loads the demo shop without training and creates an API key (`manage.py tracking_apikey
   create`); then gunicorn (config/gunicorn.py, workers recycled every `--max-requests`) and a Celery worker under
   the demo's supervisor (config/supervisor.py), which also restarts the embedded Redis when it dies;
2. real shoppers, as a browser is: the first request (`GET /api/auth/session/`) gets the signed shopper cookie, every
   later one sends it back; and a shop's backend with the API key, naming its own shoppers' `session_id`s. Each
   posts events in bursts (10% replays of ids it sent before, clicks crediting the list it was served) and asks for
   recommendations after each burst. A client retries as the storefront's tracker does: the same ids again after a
   connection error, a 5xx or a 429 (after its Retry-After); a request on a kept-alive connection that the server
   closed before answering is sent again once, as browsers do;
3. meanwhile, each at a point of the traffic: gunicorn's workers recycled (SIGHUP), the Celery worker killed with
   SIGKILL while it works, the embedded redis-server killed with SIGKILL (no manual restart: the supervisor brings
   it back, the worker reconnects), every PostgreSQL connection of the database terminated (pg_terminate_backend),
   a gunicorn worker added and removed (TTIN/TTOU), the worker killed again;
4. waits for the worker to drain the impression buffer (then flushes what is left, as beat's one-minute safety net
   would), and checks the database against what the clients were told.

Every answer is counted by status. The run fails (exit 1) when
- any request was refused: a 4xx other than a 429, a 5xx other than a 503 (both documented: retry after
  Retry-After), or a request given up after all retries;
- an event answered `rejected` (the bench only sends valid events);
- an acknowledged event (`accepted` or `duplicate`) is not in the database exactly once;
- a served list (its `request_id`) is not in the database exactly once, or two answers carried the same request id;
- after the Redis kill, Redis and the Celery worker were not both serving again within `--recovery-s` (10 s).

`--inject-loss event|impression` deletes one acknowledged event or one served list right before the check (the
documented hook that proves the check can fail; tests/bench/test_faults.py runs it).
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
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PY = sys.executable
RETRY_FOR_S = 60.0  # a request is given up (a failure) after this long without an answer the client can use
BACKOFF_MAX_S = 2.0
# Answers the API documents as "come back": 429 (a rate limit) and 503 (the database connection broke under the
# request). A client waits Retry-After and sends the same ids again; they are counted, not refusals.
COME_BACK = {429, 503}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------------------------- the ledger
@dataclass
class Ledger:
    """What the clients were told, to hold the database to."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # (client kind, endpoint, status)
    refused: list[str] = field(default_factory=list)  # "<status> <method> <path>: <answer>"
    gave_up: int = 0
    conn_errors: Counter[str] = field(default_factory=Counter)  # by exception: no answer came, the client retried
    resent_stale: int = 0
    acked: set[str] = field(default_factory=set)  # event ids answered accepted or duplicate
    rejected: list[str] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    submitted: int = 0
    served: list[str] = field(default_factory=list)  # request ids of the lists answered
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds) of answered requests

    def count(self, kind: str, endpoint: str, status: int) -> None:
        with self.lock:
            self.statuses[(kind, endpoint, status)] += 1


# --------------------------------------------------------------------------------------------- clients
class Client(threading.Thread):
    """A browser shopper (`api_key=None`: the cookie is its identity) or a shop backend's integration (an API key,
    `session_id`s of its own)."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        n_events: int,
        product_ids: list[int],
        ledger: Ledger,
        *,
        api_key: str | None = None,
        replays: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__(daemon=True, name=name)
        self.host, self.port, self.n_events, self.ids, self.ledger = host, port, n_events, product_ids, ledger
        self.api_key, self.replays = api_key, replays
        self.kind = "integration" if api_key else "shopper"
        self.rng = random.Random(seed)
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.requests_on_conn = 0
        self.shoppers = [f"faults-{uuid.uuid4().hex[:10]}" for _ in range(4)]  # an integration's own shoppers

    # one request, with the tracker's retry policy
    def request(self, method: str, path: str, endpoint: str, body: Any = None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Api-Key {self.api_key}"
        else:
            headers["Sec-Fetch-Site"] = "same-origin"  # what a browser says of the storefront's own calls
        deadline = time.monotonic() + RETRY_FOR_S
        delay = 0.1
        while True:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            started = time.monotonic()
            reused = self.conn is not None and self.requests_on_conn > 0
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                    self.requests_on_conn = 0
                self.conn.request(method, path, payload, headers)
                response = self.conn.getresponse()
                raw = response.read()
                self.requests_on_conn += 1
            except (OSError, http.client.HTTPException) as exc:
                self._close()
                if reused and isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)):
                    with self.ledger.lock:  # the server closed a kept-alive connection: resend at once
                        self.ledger.resent_stale += 1
                    continue
                with self.ledger.lock:
                    self.ledger.conn_errors[type(exc).__name__] += 1
                if time.monotonic() > deadline:
                    return self._give_up(method, path, f"connection error: {exc!r}")
                time.sleep(delay)
                delay = min(BACKOFF_MAX_S, delay * 2)
                continue
            status = response.status
            self.ledger.count(self.kind, endpoint, status)
            with self.ledger.lock:
                self.ledger.latencies.append((started, time.monotonic() - started))
            for header in response.headers.get_all("Set-Cookie") or []:
                for key, morsel in SimpleCookie(header).items():
                    self.cookies[key] = morsel.value
            if response.getheader("Connection", "").lower() == "close":
                self._close()
            if status == 200:
                return status, json.loads(raw) if raw else None
            if status in COME_BACK:
                if time.monotonic() > deadline:
                    return self._give_up(method, path, f"still {status}")
                time.sleep(min(5.0, float(response.getheader("Retry-After") or delay)))
                continue
            with self.ledger.lock:
                self.ledger.refused.append(f"{status} {method} {path}: {raw[:200]!r}")
            if status >= 500 and time.monotonic() < deadline:  # the tracker retries a 5xx with the same ids
                time.sleep(delay)
                delay = min(BACKOFF_MAX_S, delay * 2)
                continue
            return status, None

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def _give_up(self, method: str, path: str, why: str) -> tuple[int, Any]:
        with self.ledger.lock:
            self.ledger.gave_up += 1
            self.ledger.refused.append(f"gave up {method} {path}: {why}")
        return 0, None

    # the shopper's story
    def run(self) -> None:
        try:
            self._run()
        finally:
            self._close()

    def _run(self) -> None:
        if not self.api_key:
            self.request("GET", "/api/auth/session/", "auth/session")  # page load: the shopper cookie
        sent: list[dict[str, Any]] = []
        last_list: tuple[str, list[int]] | None = None
        remaining = self.n_events
        while remaining > 0:
            session = self.rng.choice(self.shoppers)
            size = min(remaining, self.rng.randint(1, 20))
            items = []
            for _ in range(size):
                if sent and self.rng.random() < self.replays:
                    items.append(self.rng.choice(sent))  # the tracker resending an event it sent before
                    continue
                event: dict[str, Any] = {
                    "id": str(uuid.uuid4()),
                    "type": "view",
                    "product_id": self.rng.choice(self.ids),
                }
                if last_list and self.rng.random() < 0.2:  # a click on the list it was served, credited to it
                    request_id, products = last_list
                    position = self.rng.randrange(len(products))
                    event.update(
                        type="click",
                        product_id=products[position],
                        context={"request_id": request_id, "position": position},
                    )
                elif self.rng.random() < 0.1:
                    event["type"] = "add_to_cart"
                if self.api_key:
                    event["session_id"] = session
                items.append(event)
                sent.append(event)
            status, answer = self.request("POST", "/api/events/", "events", {"events": items})
            with self.ledger.lock:
                self.ledger.submitted += size
                if status == 200:
                    for result in answer["results"]:
                        if result["status"] == "accepted":
                            self.ledger.accepted += 1
                            self.ledger.acked.add(result["id"])
                        elif result["status"] == "duplicate":
                            self.ledger.duplicates += 1
                            self.ledger.acked.add(result["id"])
                        else:
                            self.ledger.rejected.append(f"{result['id']}: {result.get('error')}")
            remaining -= size
            query = f"scenario=home&n=6&session_id={session}" if self.api_key else "scenario=home&n=6"
            status, answer = self.request("GET", f"/api/recommendations/?{query}", "recommendations")
            if status == 200:
                with self.ledger.lock:
                    self.ledger.served.append(answer["request_id"])
                products = [item["product"]["id"] for item in answer["items"]]
                last_list = (answer["request_id"], products) if products else None


# --------------------------------------------------------------------------------------------- the check
@dataclass
class Verdict:
    lines: list[str]
    failed: bool


def inject_loss(ledger: Ledger, what: str) -> str:
    """The documented hook: delete one acknowledged row, as a bug that loses data would."""
    from dragonrec.recommender.models import ServedList
    from dragonrec.tracking.models import Event

    if what == "event":
        victim = sorted(ledger.acked)[0]
        Event.objects.filter(id=victim).delete()
    else:
        victim = sorted(ledger.served)[0]
        ServedList.objects.filter(request_id=victim).delete()
    return f"injected: deleted {what} {victim}"


def stored_counts(model: Any, column: str, ids: list[str]) -> Counter[str]:
    """How many rows hold each id (more than one would be a duplicate, e.g. across time partitions)."""
    from django.db.models import Count

    counts: Counter[str] = Counter()
    for i in range(0, len(ids), 5000):
        rows = model.objects.filter(**{f"{column}__in": ids[i : i + 5000]}).values(column).annotate(n=Count("pk"))
        counts.update({str(row[column]): int(row["n"]) for row in rows})
    return counts


def verify(ledger: Ledger, *, inject: str | None = None) -> Verdict:
    """Hold the database to what the clients were told."""
    from dragonrec.recommender.models import ServedList
    from dragonrec.tracking.models import Event

    lines = []
    if inject:
        lines.append(inject_loss(ledger, inject))
    acked = sorted(ledger.acked)
    events = stored_counts(Event, "id", acked)
    lost_events = [i for i in acked if events[i] == 0]
    doubled_events = [i for i in acked if events[i] > 1]
    served_twice = [i for i, n in Counter(ledger.served).items() if n > 1]
    unique_served = sorted(set(ledger.served))
    lists = stored_counts(ServedList, "request_id", unique_served)
    lost_lists = [i for i in unique_served if lists[i] == 0]
    doubled_lists = [i for i in unique_served if lists[i] > 1]

    by_status = Counter[int]()
    for (_, _, status), n in ledger.statuses.items():
        by_status[status] += n
    lines.append("answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    for (kind, endpoint, status), n in sorted(ledger.statuses.items()):
        lines.append(f"  {kind:<11} {endpoint:<15} {status}: {n}")
    lines.append(
        f"refused: {len(ledger.refused)} (given up: {ledger.gave_up})  connection errors retried: "
        f"{dict(ledger.conn_errors) or 0}  kept-alive connections closed by the server, resent: {ledger.resent_stale}"
    )
    lines.extend(f"  {r}" for r in ledger.refused[:10])
    lines.append(
        f"events: {ledger.submitted} sent, {ledger.accepted} accepted, {ledger.duplicates} duplicate, "
        f"{len(ledger.rejected)} rejected; acknowledged ids {len(acked)}: {len(lost_events)} lost, "
        f"{len(doubled_events)} stored twice"
    )
    lines.extend(f"  rejected {r}" for r in ledger.rejected[:5])
    lines.append(
        f"served lists: {len(ledger.served)} answered ({len(served_twice)} request ids answered twice): "
        f"{len(lost_lists)} lost, {len(doubled_lists)} stored twice"
    )
    lines.extend(f"  lost event {i}" for i in lost_events[:5])
    lines.extend(f"  lost list {i}" for i in lost_lists[:5])
    failed = bool(
        ledger.refused
        or ledger.rejected
        or lost_events
        or doubled_events
        or lost_lists
        or doubled_lists
        or served_twice
    )
    return Verdict(lines, failed)


# --------------------------------------------------------------------------------------------- faults
class Faults:
    def __init__(self, supervisor: Any, database: str) -> None:
        self.supervisor, self.database = supervisor, database
        self.log: list[tuple[float, str]] = []
        self.recovery_s: float | None = None

    def note(self, what: str) -> None:
        self.log.append((time.monotonic(), what))
        print(f"  {time.strftime('%H:%M:%S')} {what}", flush=True)

    def web_signal(self, signum: int, what: str) -> None:
        pid = self.supervisor.child("web").pid
        os.kill(pid, signum)
        self.note(what)

    def worker_back(self, app: Any, since: float, timeout: float = 180.0) -> float:
        """Seconds from `since` until a Celery worker answers a broadcast ping (through Redis: both are back)."""
        while time.monotonic() - since < timeout:
            try:
                if app.control.ping(timeout=0.5):
                    break
            except Exception:  # the broker is down: that is what we wait out
                time.sleep(0.2)
        return time.monotonic() - since

    def kill_worker(self, app: Any) -> None:
        child = self.supervisor.child("worker")
        killed = time.monotonic()
        os.killpg(child.pid, signal.SIGKILL)  # the whole group: its pool processes die mid-task with it
        self.note("Celery worker SIGKILL (the supervisor starts a new one)")
        self.note(f"a Celery worker serving again {self.worker_back(app, killed):.1f} s after the kill")

    def kill_redis(self, app: Any) -> None:
        from config import embedded

        state = json.loads(embedded.STATE_FILE.read_text())
        killed = time.monotonic()
        os.kill(int(state["redis_pid"]), signal.SIGKILL)
        self.note("redis-server SIGKILL (no manual restart)")
        self.recovery_s = self.worker_back(app, killed)
        self.note(f"Redis and the Celery worker serving again {self.recovery_s:.1f} s after the kill")

    def terminate_postgres_connections(self) -> None:
        import psycopg

        from tests.databases import libpq_dsn

        with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
            n = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                (self.database,),
            ).fetchone()
        self.note(f"pg_terminate_backend: {n[0] if n else 0} connections of the database terminated")


# --------------------------------------------------------------------------------------------- main
def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PY, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def wait_http(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/categories/")
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--shoppers", type=int, default=12, help="browser shoppers (cookies)")
    parser.add_argument("--integrations", type=int, default=4, help="backend clients with the API key")
    parser.add_argument("--replays", type=float, default=0.1)
    parser.add_argument("--max-requests", type=int, default=400, help="gunicorn recycles a worker after this many")
    parser.add_argument("--recovery-s", type=float, default=10.0, help="the bar for serving again after Redis dies")
    parser.add_argument("--drain-s", type=float, default=90.0, help="how long the worker gets to drain the buffer")
    parser.add_argument("--no-faults", action="store_true", help="the same traffic and check, nothing broken")
    parser.add_argument("--inject-loss", choices=["event", "impression"], help="delete one acknowledged row")
    args = parser.parse_args()

    import psycopg

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `kill` cleans up too: the stack, the scratch database

    from config import embedded, queues
    from config.supervisor import Child, Supervisor, SupervisorGaveUp
    from tests.databases import libpq_dsn

    embedded.start()
    database = f"faults_dragonrec_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    server_url = embedded.database_url().rsplit("/", 1)[0]
    port = free_port()
    no_limit = ",".join(f"{scope}.address=" for scope in ("events", "event_requests", "recommendations", "preferences"))
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL=f"{server_url}/{database}",
        DRAGONREC_BIND=f"127.0.0.1:{port}",
        DRAGONREC_WEB_MAX_REQUESTS=str(args.max_requests),
        # every client comes from 127.0.0.1 here: the per-address limits are off, the per-shopper ones stay on
        DRAGONREC_THROTTLE_RATES=no_limit,
    )
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=env["DATABASE_URL"])
    log = open(REPO / "var" / "bench-faults.log", "ab")  # noqa: SIM115
    web = [PY, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
    worker = [PY, "-m", "celery", "-A", "config", "worker", "-Q", queues.ALL, "-c", "2", "-l", "warning"]
    worker += ["--without-gossip", "--without-mingle"]  # as scripts/demo.py runs it
    supervisor = Supervisor(
        [Child("web", web, env), Child("worker", worker, env)],
        cwd=REPO,
        watch_redis=True,
        output=log,
        say=lambda message: print(f"  supervisor: {message}", flush=True),
    )
    ledger = Ledger()
    faults = Faults(supervisor, database)
    stop = threading.Event()
    gave_up: list[str] = []
    verdict: Verdict | None = None
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "dragonrec_demo_data", "--skip-train")
        key = manage(env, "tracking_apikey", "create", "faults", "--scopes", "events:write,recommendations:read")
        key = key.strip().splitlines()[-1]
        import django

        django.setup()
        from config.celery import app
        from dragonrec.recommender.services.impressions import impressions_buffered, impressions_flush

        supervisor.start()

        def supervise() -> None:
            try:
                supervisor.run(stop.is_set)
            except SupervisorGaveUp as exc:
                gave_up.append(str(exc))

        threading.Thread(target=supervise, daemon=True).start()
        wait_http(port, 180)
        catalog = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        catalog.request("GET", "/api/products/?page=1")
        product_ids = [p["id"] for p in json.loads(catalog.getresponse().read())["results"]]

        n_clients = args.shoppers + args.integrations
        share = [args.events // n_clients + (1 if i < args.events % n_clients else 0) for i in range(n_clients)]
        clients = [
            Client(
                f"client-{i}",
                "127.0.0.1",
                port,
                share[i],
                product_ids,
                ledger,
                api_key=key if i >= args.shoppers else None,
                replays=args.replays,
                seed=i,
            )
            for i in range(n_clients)
        ]
        print(
            f"{args.shoppers} shoppers (cookies) and {args.integrations} integrations (API key) send {args.events} "
            f"events; gunicorn recycles workers every {args.max_requests} requests",
            flush=True,
        )
        started = time.monotonic()
        for client in clients:
            client.start()

        def at(fraction: float) -> None:
            while any(c.is_alive() for c in clients):
                with ledger.lock:
                    if ledger.submitted >= fraction * args.events:
                        return
                time.sleep(0.05)

        if not args.no_faults:
            faults.note(f"a Celery worker is up {faults.worker_back(app, started):.1f} s after the traffic began")
            at(0.12)
            faults.web_signal(signal.SIGHUP, "gunicorn SIGHUP: every web worker replaced")
            at(0.25)
            faults.kill_worker(app)
            at(0.4)
            faults.kill_redis(app)
            at(0.55)
            faults.terminate_postgres_connections()
            at(0.68)
            faults.web_signal(signal.SIGTTIN, "gunicorn SIGTTIN: one web worker more")
            time.sleep(2)
            faults.web_signal(signal.SIGTTOU, "gunicorn SIGTTOU: one web worker less")
            at(0.8)
            faults.kill_worker(app)
        fault_end = time.monotonic() + 5  # the recovery after the last fault counts as "during"
        for client in clients:
            client.join()
        elapsed = time.monotonic() - started

        deadline = time.monotonic() + args.drain_s
        while impressions_buffered() and time.monotonic() < deadline:
            time.sleep(0.5)
        left_for_beat = impressions_buffered()
        # What beat's one-minute safety net does. A batch the killed worker had claimed comes back to the buffer
        # when its flusher's 5-minute alive mark expires: the check waits for that too (it is a served list).
        while impressions_buffered():
            if not impressions_flush(reschedule=False):
                time.sleep(1)
        verdict = verify(ledger, inject=args.inject_loss)
    finally:
        stop.set()
        supervisor.stop()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    during = [s for start, s in ledger.latencies if faults.log and faults.log[0][0] <= start <= fault_end]
    overall = [s for _, s in ledger.latencies]
    print(f"\n{len(clients)} clients in {elapsed:.1f} s; load average {Path('/proc/loadavg').read_text().strip()}")
    for line in verdict.lines:
        print(line)
    print(f"lists left after {args.drain_s:.0f} s for the beat safety net: {left_for_beat}")
    restarts = {c.name: c.restarts for c in supervisor.children}
    print(f"supervisor restarts: {restarts}, Redis restarted {len(supervisor.redis_restarts)} time(s)")
    slow_recovery = faults.recovery_s is not None and faults.recovery_s > args.recovery_s
    if faults.recovery_s is not None:
        print(f"serving again after the Redis kill: {faults.recovery_s:.1f} s (bar: {args.recovery_s:.0f} s)")
    print(
        f"latency p50/p99: overall {percentile(overall, 0.5) * 1000:.0f}/{percentile(overall, 0.99) * 1000:.0f} ms, "
        f"during the faults {percentile(during, 0.5) * 1000:.0f}/{percentile(during, 0.99) * 1000:.0f} ms "
        f"({len(during)} requests)"
    )
    failed = verdict.failed or slow_recovery or bool(gave_up)
    for reason in gave_up:
        print(f"supervisor: {reason}")
    print("FAILED" if failed else "OK: nothing lost, nothing doubled, nothing refused")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
