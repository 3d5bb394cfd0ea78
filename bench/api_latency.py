#!/usr/bin/env python
"""Latency and throughput of GET /api/recommendations/ against a running server (e.g. `make demo`).

    export DRAGONREC_API_KEY=$(.venv/bin/python manage.py tracking_apikey create bench \
        --scopes events:write,recommendations:read)
    python bench/api_latency.py --url http://127.0.0.1:8000 --clients 16 --requests 2000

The bench plays many shoppers over a few connections, as a shop's backend does, so it authenticates with an API
key (`Authorization: Api-Key`) and names each shopper's `session_id`; a browser would carry its shopper cookie.

Each client sends requests over its own keep-alive connection, cycling through a mix of scenarios built from the
live catalog: home for returning shoppers (8 sessions with 5 to 40 events, posted first) and for new visitors,
product pages and carts of the returning shoppers. Prints p50/p95/p99 latency and
requests/s. Bounded in count and time; only talks to the given (local) server.

Two modes. Without --rate the clients send back to back (closed loop): that measures the saturation throughput,
and latency there is queueing by construction (Little's law: mean latency = clients / throughput). With
--rate R the clients share a fixed schedule of R requests/s (open loop, as a storefront's traffic arrives), and
latency is measured from each request's scheduled start, so a slow server cannot hide its queue.

--floor interleaves a plain catalog GET (GET /api/products/<id>/) with the recommendation requests, every other
request on the same connections, and prints both latency distributions and the ratio of their p95s: the issue's
"recommendations at most 1.5x the floor" bar, measured in one run on one server (issue #27).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import threading
import time
import uuid
from typing import Any
from urllib.parse import ParseResult, urlencode, urlparse

SHOPPERS = 8
HEADERS = {"Accept": "application/json"}  # plus the API key, set in main()


def connect(base: ParseResult) -> http.client.HTTPConnection:
    # --url without a host ("http:///") means this machine
    return http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port or 80, timeout=30)


def get_json(conn: http.client.HTTPConnection, path: str) -> tuple[int, Any]:
    conn.request("GET", path, headers=HEADERS)
    response = conn.getresponse()
    body = response.read()
    return response.status, json.loads(body) if body else None


def build_paths(base: ParseResult, n_products: int) -> list[str]:
    conn = connect(base)
    _, page = get_json(conn, "/api/products/?page=1")
    ids = [p["id"] for p in page["results"]]
    _, page2 = get_json(conn, "/api/products/?page=2")
    ids += [p["id"] for p in page2["results"]]
    # Eight returning shoppers with 5 to 40 events each (views, a few carts), so the personalised path is measured
    # with histories of realistic length; ids are spread over the first two catalog pages.
    rng = random.Random(7)
    run = uuid.uuid4().hex[:8]  # fresh shoppers per run: every run measures the same state
    for shopper in range(SHOPPERS):
        events = [
            {
                "id": str(uuid.uuid4()),
                "type": "add_to_cart" if rng.random() < 0.1 else "view",
                "product_id": rng.choice(ids),
                "session_id": f"bench-{run}-{shopper}",
            }
            for _ in range(5 + 5 * shopper)
        ]
        conn.request(
            "POST", "/api/events/", json.dumps({"events": events}), {**HEADERS, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        if response.status != 200:
            raise SystemExit(f"POST /api/events/ answered {response.status}: {response.read()[:300]!r}")
        response.read()
    conn.close()
    paths = []
    for i in range(n_products):
        pid = ids[i % len(ids)]
        paths += [
            "/api/recommendations/?" + urlencode({"scenario": "home", "session_id": f"bench-{run}-{i % SHOPPERS}"}),
            "/api/recommendations/?" + urlencode({"scenario": "home", "session_id": f"new-{run}-{i}"}),
            "/api/recommendations/?"
            + urlencode({"scenario": "product", "product_id": pid, "session_id": f"bench-{run}-{i % SHOPPERS}"}),
            "/api/recommendations/?" + urlencode({"scenario": "cart", "session_id": f"bench-{run}-{i % SHOPPERS}"}),
        ]
    return paths


def paths_floor(base: ParseResult) -> str:
    """The floor: one product's catalog GET (one query, no shopper, nothing recorded)."""
    conn = connect(base)
    _, page = get_json(conn, "/api/products/?page=1")
    conn.close()
    return f"/api/products/{page['results'][0]['id']}/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="total requests (after warm-up)")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--rate", type=float, default=0.0, help="total requests/s to offer (0 = back to back)")
    parser.add_argument("--floor", action="store_true", help="interleave a catalog GET and compare (see above)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("DRAGONREC_API_KEY", ""),
        help="a key with events:write and recommendations:read (default: $DRAGONREC_API_KEY)",
    )
    args = parser.parse_args()
    if not args.api_key:
        raise SystemExit(
            "an API key is needed: manage.py tracking_apikey create bench --scopes events:write,recommendations:read"
        )
    HEADERS["Authorization"] = f"Api-Key {args.api_key}"
    base = urlparse(args.url)
    paths = build_paths(base, 40)
    floor_path = paths_floor(base) if args.floor else ""
    floor_latencies: list[float] = []

    latencies: list[float] = []
    errors: list[str] = []
    rankers: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(args.warmup + args.requests))
    deadline = time.monotonic() + args.max_seconds

    t0 = time.perf_counter()

    def client(worker: int) -> None:
        conn = connect(base)
        for n in counter:
            if time.monotonic() > deadline:
                return
            path = paths[(n * 7 + worker) % len(paths)]
            is_floor = bool(floor_path) and n % 2 == 1
            if is_floor:
                path = floor_path
            started = time.perf_counter()
            if args.rate > 0:  # open loop: request n is due at n / rate; latency counts from then
                due = t0 + n / args.rate
                if due > started:
                    time.sleep(due - started)
                started = due
            try:
                status, body = get_json(conn, path)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = connect(base)
                with lock:
                    errors.append(repr(exc))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if n >= args.warmup and is_floor:
                    floor_latencies.append(elapsed)
                    if status != 200:
                        errors.append(f"floor HTTP {status}")
                elif n >= args.warmup:
                    latencies.append(elapsed)
                    if status != 200:
                        errors.append(f"HTTP {status}")
                    else:
                        ranker = str(body.get("ranker"))
                        rankers[ranker.split(":")[0]] = rankers.get(ranker.split(":")[0], 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    if not latencies:
        raise SystemExit("no successful requests")
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    measured = len(ms)
    # throughput over the measured part only: total wall time scaled by the share of measured requests
    rps = measured / (wall * measured / (measured + args.warmup))
    mode = f"open loop at {args.rate:.0f} requests/s offered" if args.rate > 0 else "closed loop (back to back)"
    print(f"GET /api/recommendations/  clients={args.clients}  requests={measured} (+{args.warmup} warm-up)  {mode}")
    print(f"latency ms: p50 {q[49]:.1f}  p95 {q[94]:.1f}  p99 {q[98]:.1f}  max {ms[-1]:.1f}")
    if floor_latencies:
        measured += len(floor_latencies)
        rps = measured / (wall * measured / (measured + args.warmup))
    print(f"throughput: {rps:.0f} requests/s   errors: {len(errors)}   rankers: {rankers}")
    if floor_latencies:
        fq = statistics.quantiles(sorted(x * 1000 for x in floor_latencies), n=100)
        print(f"floor GET {floor_path}: p50 {fq[49]:.1f}  p95 {fq[94]:.1f}  p99 {fq[98]:.1f}")
        print(f"recommendations / floor: p95 {q[94] / fq[94]:.2f}x  p50 {q[49] / fq[49]:.2f}x")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if errors:  # a refused or failed request is not a fast one: the figures above do not stand
        raise SystemExit(f"{len(errors)} requests failed (first: {errors[0]}); the run does not count")


if __name__ == "__main__":
    main()
