#!/usr/bin/env python
"""Where a warm recommendation request's time goes, stage by stage, and what it costs in round trips (issue #27).

    python manage.py migrate && python manage.py dragonrec_demo_data      # once: the demo shop
    python bench/serving_profile.py --requests 240 --shoppers 8

Serves GET /api/recommendations/ (home, product, cart) and a product's similar/complements in-process through
Django's test client (the whole middleware stack, DRF authentication, throttles, the view, rendering), for returning
shoppers as a browser (signed cookie) and as an integration (API key + session_id), after a warm-up. Prints per
stage the mean and p95 milliseconds per request, and per request the SQL statements and Redis round trips
(dragonrec.roundtrips: every statement the real servers answered). Stages are timed by wrapping the functions that
run them (the wrappers cost a few microseconds each):

- middleware:      the request minus the DRF view (Django's and the project's middleware, URL resolution)
- authentication:  DRF authentication (API key, session)
- round trip:      the one Redis pipeline before the view: throttles, key/retired-id checks, shopper state, fatigue
- shopper state:   turning its replies into history/preferences (a cache miss reads the database here)
- pipeline:        candidate sources, ranker, re-rank, exploration (Pipeline.recommend_explored)
- serialization:   the response body (product renderings) and JSON rendering
- impression:      recording the served list (the buffer push)
- view, other:     the rest of the view (input validation, policy, experiment assignment, ...)

Bounded: `--requests` after `--warmup`; talks to nothing but the configured database and Redis. The load average
is printed beside the figures: on a shared machine they are noisy, the counts are not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # as a gunicorn worker runs (config/gunicorn.py)

STAGES = ["middleware", "authentication", "round trip", "shopper state", "pipeline", "serialization", "impression"]
_current: dict[str, float] = defaultdict(float)
_clock: Callable[[], float] = time.perf_counter  # --clock cpu: time.thread_time, what this thread spent on a core


def _timed(owner: Any, name: str, stage: str) -> None:
    """Replace owner.name by a wrapper that adds its wall time to `stage` (nested stages are subtracted by the
    report: 'round trip' includes 'shopper state')."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = _clock()
        try:
            return original(*args, **kwargs)
        finally:
            _current[stage] += _clock() - started

    setattr(owner, name, wrapper)


def _instrument() -> None:
    from rest_framework.renderers import JSONRenderer
    from rest_framework.views import APIView

    from dragonrec.recommender import api_base, apis
    from dragonrec.recommender.core.pipeline import Pipeline
    from dragonrec.recommender.services import recommendations
    from dragonrec.tracking.shopper_views import ShopperMixin

    _timed(APIView, "dispatch", "view")
    _timed(APIView, "perform_authentication", "authentication")
    _timed(ShopperMixin, "check_throttles", "round trip")
    _timed(api_base, "serving_prefetch_resolve", "shopper state")
    _timed(Pipeline, "recommend_explored", "pipeline")
    _timed(apis, "_served_body", "serialization")
    _timed(JSONRenderer, "render", "serialization")
    _timed(recommendations, "impression_record", "impression")


def _setup(shoppers: int) -> tuple[list[tuple[str, dict[str, str], dict[str, str]]], list[int]]:
    """Returning shoppers (5 to 40 events each) under cookies and under an API key; the paths each one asks."""
    from django.core.signing import get_cookie_signer

    from dragonrec.catalog.models import Product
    from dragonrec.tracking.identity import SALT, cookie_settings
    from dragonrec.tracking.services import EventInput, api_key_create, events_record

    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:200])
    if len(ids) < 20:
        raise SystemExit("no catalog: run `manage.py migrate` and `manage.py dragonrec_demo_data` first")
    run = uuid.uuid4().hex[:8]
    _, raw_key = api_key_create(name=f"profile-{run}", scopes=["recommendations:read"])
    name = cookie_settings()["NAME"]
    signer = get_cookie_signer(salt=name + SALT)
    clients = []
    for n in range(shoppers):
        session_id = f"c-profile-{run}-{n}"
        events = [
            EventInput(
                id=uuid.uuid4(),
                type="add_to_cart" if k % 9 == 4 else "view",
                product_id=ids[(n * 13 + k * 7) % len(ids)],
                session_id=session_id,
            )
            for k in range(5 + 5 * n)
        ]
        events_record(items=events)
        if n % 2:
            clients.append(("api key", {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"}, {"session_id": session_id}))
        else:
            clients.append(("cookie", {"HTTP_COOKIE": f"{name}={signer.sign(session_id)}"}, {}))
    return clients, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--shoppers", type=int, default=8)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: stage times in this thread's CPU time (steady on a loaded machine; excludes waiting on servers)",
    )
    parser.add_argument("--cprofile", type=int, default=0, help="also print the N functions with most own time")
    parser.add_argument("--sort", default="tottime", help="the cProfile sort key (tottime, cumulative, ...)")
    parser.add_argument(
        "--no-memo",
        action="store_true",
        help="SCORED_CANDIDATES_TTL_S=0: every list computes its candidates and scores (a memo miss's cost)",
    )
    args = parser.parse_args()
    global _clock
    _clock = time.thread_time if args.clock == "cpu" else time.perf_counter

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from dragonrec.roundtrips import RoundTrips

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    if args.no_memo:
        from django.test import override_settings

        override_settings(RECOMMENDER={**settings.RECOMMENDER, "SCORED_CANDIDATES_TTL_S": 0}).enable()
    clients, ids = _setup(args.shoppers)
    _instrument()
    client = Client()
    kinds = ["home", "product", "cart", "similar", "complements"]
    rows: dict[str, list[float]] = defaultdict(list)
    sql: dict[str, list[int]] = defaultdict(list)
    redis: dict[str, list[int]] = defaultdict(list)
    import cProfile
    import pstats

    profiler = cProfile.Profile(_clock) if args.cprofile else None
    for i in range(args.warmup + args.requests):
        identity, headers, params = clients[i % len(clients)]
        kind = kinds[(i // len(clients)) % len(kinds)]
        pid = ids[(i * 5) % len(ids)]
        if kind in ("similar", "complements"):
            path, query = f"/api/products/{pid}/{kind}/", dict(params)
        else:
            path, query = "/api/recommendations/", {**params, "scenario": kind}
            if kind == "product":
                query["product_id"] = str(pid)
        _current.clear()
        if profiler is not None and i >= args.warmup:
            profiler.enable()
        started = _clock()
        with RoundTrips() as trips:
            response = client.get(path, query, **cast("dict[str, Any]", headers))
        total = _clock() - started
        if profiler is not None:
            profiler.disable()
        if response.status_code != 200:
            raise SystemExit(f"{path} {query} answered {response.status_code}: {response.content[:300]!r}")
        if i < args.warmup:
            continue
        stage = dict(_current)
        view = stage.pop("view", 0.0)
        stage["round trip"] = stage.get("round trip", 0.0) - stage.get("shopper state", 0.0)
        stage["middleware"] = total - view
        stage["view, other"] = view - sum(v for k, v in stage.items() if k != "middleware")
        stage["total"] = total
        for key, value in stage.items():
            rows[key].append(value * 1000)
        label = f"{kind} / {identity}"
        sql[label].append(len(trips.sql))
        redis[label].append(len(trips.redis))

    load = os.getloadavg()
    print(
        f"{args.requests} warm requests, {args.shoppers} shoppers, {args.clock} clock; "
        f"load average {load[0]:.2f} {load[1]:.2f}"
    )
    print(f"{'stage':<16}{'mean ms':>10}{'p95 ms':>10}{'share':>8}")
    total_mean = statistics.fmean(rows["total"])
    for key in [*STAGES, "view, other", "total"]:
        values = sorted(rows.get(key) or [0.0])
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        mean = statistics.fmean(values)
        print(f"{key:<16}{mean:>10.2f}{p95:>10.2f}{100 * mean / total_mean:>7.0f}%")
    print(f"\n{'request':<26}{'SQL max':>8}{'SQL mean':>10}{'Redis max':>10}{'Redis mean':>11}")
    for label in sorted(sql):
        print(
            f"{label:<26}{max(sql[label]):>8}{statistics.fmean(sql[label]):>10.2f}"
            f"{max(redis[label]):>10}{statistics.fmean(redis[label]):>11.2f}"
        )
    from dragonrec.recommender.stores import current_snapshot

    snapshot = current_snapshot()
    memo = snapshot.scored if snapshot is not None else None
    if memo is not None:  # SCORED_CANDIDATES_TTL_S: the share of lists this run served from the memo
        print(f"\nscored-candidates memo: {memo.hits} hits, {memo.misses} misses (warm-up included)")
    if profiler is not None:
        print()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.cprofile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
