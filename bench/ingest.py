"""Event ingest against the machine's own floor (issue #24): the same rows written several ways, in one run.

    .venv/bin/python bench/ingest.py                          # 20,000 events in 4 rounds, batches of 500
    .venv/bin/python bench/ingest.py --profile                # + where a batch's time goes, stage by stage
    .venv/bin/python bench/ingest.py --single 2000 --clients 16   # + single events over HTTP (gunicorn)

1. raw COPY: the rows straight into the events table (psycopg's COPY, one transaction): the physical limit;
2. batched API: POST /api/events/ with `--batch` events per request, as an integration (API key, each event
   naming its shopper), through Django's test client in this process: the whole view, validation, throttles (the
   rates raised so nothing is refused, but every budget is still counted in Redis), the service and its receivers,
   without the network and gunicorn's HTTP parsing. A 200 means the rows are committed: the insert is the
   request's own transaction, and after each round the bench counts the rows in the table;
3. `--single N`: gunicorn (config/gunicorn.py, the demo's 2 workers x 4 threads) on `--bind`, `--clients` threads
   each on a keep-alive connection: first the floors, N requests each: a plain Django view and a bare DRF view
   (bench/ingest_floor_urls.py: what the same server does for nothing) and a catalog GET (GET /api/products/<id>/,
   one query), then N events, one per POST with the API key; twice, alternating, and the events counted in the
   table at the end. Beside each rate, the server's CPU a request (gunicorn's workers, this cluster's PostgreSQL
   processes, redis-server, from /proc): less sensitive to the machine's load than the rate. `--single-kinds`
   sends only some of them (e.g. `--single-kinds events` while py-spy records a worker).

(1) and (2) alternate over `--rounds` rounds of `--events / rounds` rows each, into the same table with the same
indexes, emptied and analysed before each, so a change in the machine's load hits both alike; the ratio is of the
summed times. Any refused item, non-200 answer or missing row fails the run (exit 1): only stored rows count.
Runs in a scratch database of its own (`dragonrec_bench_ingest`, dropped at the end); the load average is printed
beside the figures (the bench's own clients share the machine's cores with the server).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# every limit still counted, none reached: the bench measures their cost, not their refusals
os.environ["DRAGONREC_THROTTLE_RATES"] = ",".join(
    f"{scope}=100000000/min"
    for scope in ("events.shopper", "events.address", "event_requests.shopper", "event_requests.address")
)

import argparse
import functools
import gc
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from _scratch import drop_database, load, scratch_database  # noqa: E402
from serving_profile import _current as _spent  # noqa: E402  # the serving profile's stage timer
from serving_profile import _timed  # noqa: E402

DB_NAME = "dragonrec_bench_ingest"
SHOPPERS = 2000  # per call of event_items
TAGS: list[str] = []  # each call's shoppers, whose Redis keys the bench removes at its end
TYPES = ["view", "view", "view", "add_to_cart", "purchase"]


def event_items(n: int, products: list[tuple[int, float]], *, now: datetime) -> list[dict[str, Any]]:
    """n events of 2,000 shoppers (5 in a row each: views, a cart, a purchase), new shoppers on every call (the
    purchase limits count per shopper per hour, in Redis, across runs)."""
    tag = uuid.uuid4().hex[:8]
    TAGS.append(tag)
    items = []
    for i in range(n):
        pid, price = products[(i * 7919) % len(products)]
        kind = TYPES[i % len(TYPES)]
        item: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": kind,
            "product_id": pid,
            "session_id": f"bench-{tag}-{(i // 5) % SHOPPERS}",
            "timestamp": (now - timedelta(seconds=n - i)).isoformat(),
        }
        if kind == "purchase":
            item["value"] = f"{price:.2f}"
        items.append(item)
    return items


def bench_shop() -> tuple[list[tuple[int, float]], str]:
    """The scratch database's tables, 2,000 products and an API key that may write events: (products, key)."""
    from django.core.management import call_command

    from dragonrec.catalog.models import Product
    from dragonrec.tracking.generate import shop_generate
    from dragonrec.tracking.services import api_key_create

    call_command("migrate", verbosity=0)
    shop_generate(products=2000, shoppers=1, events=0, seed=0)
    products = [(pk, float(price or 0)) for pk, price in Product.objects.values_list("pk", "price")]
    return products, api_key_create(name="bench", scopes=["events:write"])[1]


class CpuMeter:
    """CPU seconds spent on a leg by the three processes that do its work: this one (the view, the service, the
    client), its PostgreSQL backend and redis-server, read from /proc (`schedstat`: nanoseconds on a CPU) before
    and after. On a loaded machine wall time also counts waiting for a core; CPU time does not."""

    def __init__(self) -> None:
        from django_redis import get_redis_connection

        self.redis_pid = int(get_redis_connection("default").info("server")["process_id"])

    @staticmethod
    def _ran(pid: int) -> float:
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    parts: dict[str, float] = {}  # by process ("python", "postgres", "redis") and leg, summed over the rounds

    def now(self) -> tuple[float, float, float]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        return time.process_time(), self._ran(backend), self._ran(self.redis_pid)

    def since(self, before: tuple[float, float, float], leg: str) -> float:
        after = self.now()
        for name, start, end in zip(("python", "postgres", "redis"), before, after, strict=True):
            self.parts[f"{leg} {name}"] = self.parts.get(f"{leg} {name}", 0.0) + end - start
        return sum(after) - sum(before)


def redis_forget() -> None:
    """Remove what the bench's shoppers left in Redis: their limit counters (an hour) and state versions (7 days).
    Left there, they piled up over runs (500k keys after a day's runs), making Redis' own work per batch (and its
    background saves) heavier in later runs than in earlier ones."""
    from django.core.cache import cache
    from django_redis import get_redis_connection

    from dragonrec.throttling import shopper_ident_for
    from dragonrec.tracking.state import STATE_KEY, VERSION_KEY

    client = get_redis_connection("default")
    for tag in TAGS:
        sessions = [f"bench-{tag}-{n}" for n in range(SHOPPERS)]
        idents = [shopper_ident_for(user_id=None, session_id=s) for s in sessions]
        names = [cache.make_key(f"dragonrec:throttle:shopper:{i}") for i in idents]  # a shopper's counters: one key
        names += [key.format(f"s:{s}") for key in (VERSION_KEY, STATE_KEY) for s in sessions]
        for start in range(0, len(names), 10_000):
            client.delete(*names[start : start + 10_000])


def reset() -> None:
    from django.db import connection

    from dragonrec.tracking.models import Event

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Event._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Event._meta.db_table}")


def raw_copy(items: list[dict[str, Any]], cpu: CpuMeter, spent: list[float]) -> float:
    from django.db import connection, transaction

    from dragonrec.bulk import copy_rows
    from dragonrec.tracking.models import Event

    received, null = datetime.now(UTC).isoformat(), "\\N"
    lines = (
        f"{i['id']}\t{i['type']}\t{null}\t{i['session_id']}\t{i['product_id']}\t1\t{i.get('value', null)}\t"
        f"{i['timestamp']}\t{{}}\tapi\t{received}\n"
        for i in items
    )
    columns = "id, type, user_id, session_id, product_id, quantity, value, timestamp, context, source, received_at"
    before = cpu.now()
    start = time.perf_counter()
    with transaction.atomic():
        copy_rows(Event._meta.db_table, columns, lines)
    elapsed = time.perf_counter() - start
    spent.append(cpu.since(before, "raw COPY"))
    connection.close()
    return elapsed


def api(
    items: list[dict[str, Any]],
    *,
    batch: int,
    key: str,
    cpu: CpuMeter | None = None,
    spent: list[float] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The seconds (by `clock`) the API took for `items` in batches: the requests only, not the bench's own work of
    encoding their bodies and reading their answers."""
    client = api_client(key)
    bodies = [json.dumps({"events": items[i : i + batch]}) for i in range(0, len(items), batch)]
    before = cpu.now() if cpu is not None else (0.0, 0.0, 0.0)
    start = clock()
    responses = [client.post("/api/events/", body, content_type="application/json") for body in bodies]
    elapsed = clock() - start
    if cpu is not None and spent is not None:
        spent.append(cpu.since(before, "API"))
    # the answers are read after the clock stops: parsing 500 results is the client's work, not the API's (it was
    # ~0.3 ms of a batch's Python here); a refused item still fails the run
    for response in responses:
        if response.get("Content-Type", "") != "application/json":
            raise SystemExit(f"the API answered {response.status_code}: {response.content[:300]!r}")
        results = response.json()["results"]
        if response.status_code != 200 or any(r["status"] != "accepted" for r in results):
            refused = [r for r in results if r["status"] != "accepted"]
            raise SystemExit(f"the API refused events: {response.status_code} {refused[:3]}")
    return elapsed


@functools.cache
def api_client(key: str) -> Any:
    """One test client for the whole run, as gunicorn keeps one handler per worker: a new client builds Django's
    middleware chain on its first request (whitenoise indexes the static files then, ~10-35 ms), a server's start-up
    cost that a client made per round put inside each round's timed requests (~1.5 ms a batch of 500, quiet)."""
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="127.0.0.1")


def stored(expected: int, what: str) -> None:
    """The rows are in the table, all of them: what a 200 promised."""
    from dragonrec.tracking.models import Event

    count = Event.objects.count()
    if count != expected:
        raise SystemExit(f"{what}: {count:,} rows in the table, {expected:,} expected")


# --------------------------------------------------------------------------------------------- --profile
STAGES = [
    ("fast lane: decode + screen (msgspec)", "decode"),
    ("fast lane: batch checks", "fast_checks"),
    ("fast lane: limit totals (Python)", "fast_costs"),
    ("JSON parse", "parse"),
    ("auth + throttles (one Redis round trip)", "checks"),
    ("body shape (InputSerializer)", "shape"),
    ("item validation (quick / DRF / text)", "items"),
    ("lookup: products + stored ids (exact way)", "known"),
    ("event limits (one Lua call)", "limits"),
    ("COPY of the rows (less the limits in it)", "insert"),
    ("shopper state bump (one Lua call)", "state"),
    ("receivers: attribution, fatigue", "receivers"),
]


def profile(items: list[dict[str, Any]], *, batch: int, key: str, cpu: bool = False) -> None:
    """Wall time per stage of a batch (wrappers around each stage's function; the rest is Django's and DRF's
    request handling, the view's and the service's own loops, the response); `cpu`: this thread's CPU time
    instead (what the Python spends, without the waits for PostgreSQL and Redis). Then the request layer by layer
    (`layers`): what each layer spends outside the one inside it, from the test client to the service."""
    import serving_profile

    if cpu:
        serving_profile._clock = time.thread_time
    from rest_framework.views import APIView

    from config.api import BoundedJSONParser
    from dragonrec.tracking import apis
    from dragonrec.tracking.services import events
    from dragonrec.tracking.shopper_views import ShopperMixin
    from dragonrec.tracking.signals import events_recorded

    inclusive = layers(LAYERS)
    parts = layers(PARTS)
    _timed(BoundedJSONParser, "parse", "parse")
    _timed(APIView, "perform_authentication", "checks")
    _timed(ShopperMixin, "check_throttles", "checks")
    _timed(apis.EventCreateApi.InputSerializer, "is_valid", "shape")
    _timed(apis.EventItemSerializer, "quick", "items")
    _timed(apis.EventItemSerializer, "run_validation", "items")
    _timed(apis, "bad_text_error", "items")
    _timed(events, "_known", "known")
    _timed(events, "_events_within_budget", "limits")
    _timed(events, "events_state_changed", "state")
    # the fast lane (tracking.apis.well_formed_events, events.events_record_well_formed)
    _timed(apis, "well_formed_events", "decode")
    _timed(events, "_well_formed_problem", "fast_checks")
    _timed(events, "_well_formed_costs", "fast_costs")
    _timed(events, "budgets_take_all", "limits")
    _timed(events, "copy_text", "insert")
    _timed(events, "shopper_state_changed", "state")
    _timed(events_recorded, "send", "receivers")
    collected = [0.0, 0.0]  # the collector's time in the batches (its start, the sum)

    def collector(phase: str, info: dict[str, Any]) -> None:
        now = serving_profile._clock()
        if phase == "start":
            collected[0] = now
        else:
            collected[1] += now - collected[0]

    # a new client, its middleware chain built over the wrappers above, warmed up on one batch outside the figures
    api_client.cache_clear()
    api(items[:batch], batch=batch, key=key)
    items = items[batch:]
    for timings in (_spent, inclusive, parts):
        timings.clear()
    gc.callbacks.append(collector)
    try:
        # the requests only: timing the bench's json.dumps of the bodies and its parsing of the answers too (as this
        # profile's CPU mode did) put ~0.9 ms of the client's own work into "the rest"
        total = api(items, batch=batch, key=key, clock=serving_profile._clock)
    finally:
        gc.callbacks.remove(collector)
    batches = len(items) / batch
    lanes = dict(events.lane_counts)
    print(
        f"profile ({'CPU of this thread' if cpu else 'wall clock'}): {len(items):,} events in batches of {batch}, "
        f"{total / batches * 1000:.1f} ms a batch "
        f"(batches per lane so far: {lanes})"
    )
    if events.lane_counts["stored"]:  # the fast lane totals and counts the limits inside its open COPY: not twice
        _spent["insert"] -= _spent["limits"] + _spent["fast_costs"]
    for label, stage in STAGES:
        ms = _spent[stage] / batches * 1000
        print(f"  {label:<42} {ms:6.2f} ms  {_spent[stage] / total:4.0%}")
    rest = total - sum(_spent.values())
    print(f"  {'the rest (Django/DRF, loops, response)':<42} {rest / batches * 1000:6.2f} ms  {rest / total:4.0%}")
    print("  the request layer by layer (each outside the next; the stages above are inside the last two):")
    spent = [inclusive.get(label, 0.0) for label, _, _ in LAYERS] + [0.0]
    for (label, _, _), outer, inner in zip(LAYERS, spent, spent[1:], strict=False):
        print(f"    {label:<64} {(outer - inner) / batches * 1000:6.2f} ms")
    for label, _, _ in PARTS:
        print(f"    {'of it, ' + label:<64} {parts.get(label, 0.0) / batches * 1000:6.2f} ms")
    print(f"    {'of it, the garbage collector (wherever it ran)':<64} {collected[1] / batches * 1000:6.2f} ms")


# The layers of an API batch, outermost first (label, where, what): each one's time less the next one's is its own.
LAYERS = [
    ("test client: the WSGI request built, the answer read", "django.test.client:Client", "request"),
    (
        "Django's handler and its middleware (settings.MIDDLEWARE)",
        "django.core.handlers.base:BaseHandler",
        "get_response",
    ),
    ("URL resolution, the view's wrappers", "django.core.handlers.base:BaseHandler", "_get_response"),
    (
        "DRF: request, API key, request windows (one Redis round trip), answer",
        "rest_framework.views:APIView",
        "dispatch",
    ),
    ("the view: decode (msgspec), the shopper, the answer (orjson)", "dragonrec.tracking.apis:EventCreateApi", "post"),
    (
        "the service (events_record_well_formed), its stages listed above",
        "dragonrec.tracking.apis",
        "events_record_well_formed",
    ),
]


# Parts of those layers, each timed on its own
PARTS = [
    ("django-csp's header (its policy built for each response)", "csp.middleware:CSPMiddleware", "process_response"),
    ("the answer's bytes (tracking.apis.accepted_answer)", "dragonrec.tracking.apis", "accepted_answer"),
]


def layers(which: list[tuple[str, str, str]]) -> dict[str, float]:
    """Wrap each function of `which` in a timer (serving_profile's clock: wall, or this thread's CPU): their
    inclusive times, filled as the batches run."""
    import importlib

    import serving_profile

    spent: dict[str, float] = {}
    for label, where, name in which:
        module, _, attribute = where.partition(":")
        owner = importlib.import_module(module)
        owner = getattr(owner, attribute) if attribute else owner
        original = getattr(owner, name)

        def timed(*args: Any, _original: Any = original, _label: str = label, **kwargs: Any) -> Any:
            started = serving_profile._clock()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + serving_profile._clock() - started

        setattr(owner, name, timed)
    return spent


# ----------------------------------------------------------------------------------- --single (over HTTP)
def serve(bind: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
    # the project's settings and URLs plus the floor views (bench/ingest_floor_urls.py)
    env = {
        **os.environ,
        "DRAGONREC_BIND": bind,
        "DJANGO_SETTINGS_MODULE": "ingest_floor_settings",
        "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    host, _, port = bind.rpartition(":")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: {server.stderr.read()[-2000:] if server.stderr else b''!r}")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
            conn.request("GET", "/api/products/?page=1")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def hammer(
    bind: str, requests: Sequence[tuple[str, str, str | None]], *, clients: int, headers: dict[str, str]
) -> float:
    """Send `requests` (method, path, body) from `clients` threads, each on its own keep-alive connection; requests
    per second. Anything but a 200 whose events are all accepted fails the run."""
    host, _, port = bind.rpartition(":")
    chunks = [requests[i::clients] for i in range(clients)]
    failures: list[str] = []

    def run(chunk: Sequence[tuple[str, str, str | None]]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for method, path, body in chunk:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or (body and b'"rejected"' in data) or (body and b'"duplicate"' in data):
                failures.append(f"{method} {path}: {response.status} {data[:200]!r}")
                return
        conn.close()

    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} clients failed; first: {failures[0]}")
    return len(requests) / elapsed


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def server_cpu(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of what answers the HTTP requests: gunicorn's workers (the master's children), this
    cluster's PostgreSQL processes (the postmaster's children: the workers' backends, the writers) and redis-server.
    Per request, this is less sensitive to the machine's load than requests per second."""
    from django.db import connection
    from django_redis import get_redis_connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
        row = cursor.fetchone()
    postmaster = int(Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()[1]) if row else 0
    redis_pid = int(get_redis_connection("default").info("server")["process_id"])
    groups = {"gunicorn": _children(server_pid), "postgres": _children(postmaster), "redis": [redis_pid]}
    return {name: sum(_ran_threads(pid) for pid in pids) for name, pids in groups.items()}


def _ran_threads(pid: int) -> float:
    """CPU seconds of all of a process's threads (a gunicorn worker runs requests on several)."""
    try:
        return sum(CpuMeter._ran(int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0


def single(args: argparse.Namespace, products: list[tuple[int, float]], key: str, now: datetime) -> None:
    from django.db import connections

    connections.close_all()
    server = serve(args.bind)
    kinds = set(args.single_kinds.split(","))
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json", "Accept": "application/json"}
    try:
        catalog = [("GET", f"/api/products/{pid}/", None) for pid, _ in products]
        floors = {
            "Django view": [("GET", "/bench/floor/django/", None)],
            "DRF view": [("GET", "/bench/floor/drf/", None)],
            "catalog GET": catalog,
        }
        floors = {name: paths for name, paths in floors.items() if name.split()[0].lower() in kinds}
        warm = event_items(4 * args.clients, products, now=now)
        hammer(
            args.bind, [("POST", "/api/events/", json.dumps(i)) for i in warm], clients=args.clients, headers=headers
        )
        for paths in floors.values():
            hammer(args.bind, (paths * 4 * args.clients)[: 4 * args.clients], clients=args.clients, headers=headers)
        sent = len(warm)
        for round_ in range(2):
            rates: dict[str, float] = {}
            spent: dict[str, dict[str, float]] = {}  # CPU ms a request, by process
            for name, requests in [
                *((name, (paths * (args.single // len(paths) + 1))[: args.single]) for name, paths in floors.items()),
                *(
                    [
                        (
                            "single events",
                            [
                                ("POST", "/api/events/", json.dumps(i))
                                for i in event_items(args.single, products, now=now)
                            ],
                        )
                    ]
                    if "events" in kinds
                    else []
                ),
            ]:
                before = server_cpu(server.pid)
                rates[name] = hammer(args.bind, requests, clients=args.clients, headers=headers)
                after = server_cpu(server.pid)
                spent[name] = {part: (after[part] - before[part]) / len(requests) * 1e3 for part in after}
                sent += len(requests) if name == "single events" else 0
            print(
                f"HTTP, {args.clients} clients, round {round_ + 1}: "
                + ", ".join(f"{name} {value:6,.0f}/s" for name, value in rates.items())
                + " (bar for single events 1,000/s)"
                + f"  (load {load()})\n  server CPU a request, ms (gunicorn + postgres + redis): "
                + "; ".join(
                    f"{name} {sum(parts.values()):.2f} = " + " + ".join(f"{v:.2f}" for v in parts.values())
                    for name, parts in spent.items()
                ),
                flush=True,
            )
        stored(sent, "single events")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4, help="COPY and API alternate this many times")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="time each stage of a batch (after the rounds)")
    parser.add_argument("--profile-cpu", action="store_true", help="--profile in this thread's CPU time")
    parser.add_argument("--single", type=int, default=0, help="events sent one per request over HTTP, per round")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients for --single")
    parser.add_argument(
        "--single-kinds",
        default="django,drf,catalog,events",
        help="which of --single's requests to send (a comma list of django, drf, catalog, events), e.g. to profile one",
    )
    parser.add_argument("--bind", default=os.environ.get("DRAGONREC_BIND", "127.0.0.1:8413"), help="for gunicorn")
    parser.add_argument("--keep", action="store_true", help=f"keep the scratch database {DB_NAME}")
    args = parser.parse_args()

    scratch_database(DB_NAME)
    import django

    django.setup()

    try:
        products, key = bench_shop()
        now = datetime.now(UTC)
        print(f"load average at start {load()}", flush=True)

        reset()
        api(event_items(args.batch, products, now=now), batch=args.batch, key=key)  # warm-up: imports, caches
        # as gunicorn does after its warm-up (config/gunicorn.py): what is loaded by now stays out of the collector's
        # sight, so a full collection does not walk Django's few hundred thousand objects inside a timed batch
        gc.collect()
        gc.freeze()
        per_round = args.events // args.rounds
        copy_s: list[float] = []
        api_s: list[float] = []
        cpu = CpuMeter()
        copy_cpu: list[float] = []
        api_cpu: list[float] = []
        for round_ in range(args.rounds):
            reset()
            copy_s.append(raw_copy(event_items(per_round, products, now=now), cpu, copy_cpu))
            stored(per_round, "raw COPY")
            reset()
            api_s.append(
                api(event_items(per_round, products, now=now), batch=args.batch, key=key, cpu=cpu, spent=api_cpu)
            )
            stored(per_round, "API batches")
            print(
                f"round {round_ + 1}: raw COPY {per_round / copy_s[-1]:9,.0f}/s, API batches of {args.batch} "
                f"{per_round / api_s[-1]:9,.0f}/s = {copy_s[-1] / api_s[-1]:.0%}; CPU an event "
                f"{copy_cpu[-1] / per_round * 1e6:5.1f} vs {api_cpu[-1] / per_round * 1e6:5.1f} us = "
                f"{copy_cpu[-1] / api_cpu[-1]:.0%}  (load {load()})",
                flush=True,
            )
        total = per_round * args.rounds
        copy_rate, batch_rate = total / sum(copy_s), total / sum(api_s)
        median = statistics.median(c / a for c, a in zip(copy_s, api_s, strict=True))
        print(
            f"raw COPY          {total:>7,} events in {sum(copy_s):6.2f} s = {copy_rate:9,.0f}/s\n"
            f"API batches of {args.batch:<3} {total:>7,} events in {sum(api_s):6.2f} s = {batch_rate:9,.0f}/s "
            f"= {batch_rate / copy_rate:.0%} of raw COPY (bar 50%; rounds: median {median:.0%})  (load {load()})",
            flush=True,
        )
        print(
            f"CPU (this process + its PostgreSQL backend + redis-server): raw COPY "
            f"{sum(copy_cpu) / total * 1e6:.1f} us an event, API {sum(api_cpu) / total * 1e6:.1f} us = "
            f"{sum(copy_cpu) / sum(api_cpu):.0%} of raw COPY\n  by process, us an event: "
            + ", ".join(f"{name} {spent / total * 1e6:.1f}" for name, spent in cpu.parts.items()),
            flush=True,
        )
        if not 2 / 3 < (batch_rate / copy_rate) / median < 3 / 2:
            # one leg of one round stalled (a checkpoint, another job's burst): the summed share is that stall's,
            # e.g. 45% summed against a 23% median when one raw COPY ran at a tenth of its speed
            print("  the summed share and the rounds' median disagree by more than 1.5x: a stall hit one round; rerun")
        if args.profile or args.profile_cpu:
            reset()
            profile(event_items(per_round, products, now=now), batch=args.batch, key=key, cpu=args.profile_cpu)
        if args.single:
            reset()
            single(args, products, key, now)
    finally:
        redis_forget()
        if not args.keep:
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
