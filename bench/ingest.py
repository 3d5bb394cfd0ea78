"""Event ingest against the machine's own floor (issue #24): the same rows written three ways, in one run.

    .venv/bin/python bench/ingest.py                 # 20,000 events, batches of 500, 2,000 single events
    .venv/bin/python bench/ingest.py --events 50000 --single 5000

1. raw COPY: the rows straight into the events table (psycopg's COPY, one transaction): the physical limit;
2. batched API: POST /api/events/ with `--batch` events per request, as an integration (API key, each event
   naming its shopper), through Django's test client in this process: the whole view, validation, throttles (the
   rates raised so nothing is refused, but every budget is still counted in Redis), the service and its receivers,
   without the network and gunicorn's HTTP parsing;
3. single events: one event per POST, the same way.

Reported: events/s of each and the ratio of (2) to (1) (bar: at least 50%) and the single rate (bar: 1,000/s).
Each method gets the same number of distinct new rows into a table that was emptied before it. Runs in a scratch
database of its own (`dragonrec_bench_ingest`, dropped at the end); the load average is printed beside the figures.
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
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from _scratch import drop_database, load, scratch_database  # noqa: E402

DB_NAME = "dragonrec_bench_ingest"
TYPES = ["view", "view", "view", "add_to_cart", "purchase"]


def event_items(n: int, products: list[tuple[int, float]], *, now: datetime) -> list[dict[str, Any]]:
    """n events of 2,000 shoppers (5 in a row each: views, a cart, a purchase), new shoppers on every call (the
    purchase limits count per shopper per hour, in Redis, across runs)."""
    tag = uuid.uuid4().hex[:8]
    items = []
    for i in range(n):
        pid, price = products[(i * 7919) % len(products)]
        kind = TYPES[i % len(TYPES)]
        item: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": kind,
            "product_id": pid,
            "session_id": f"bench-{tag}-{(i // 5) % 2000}",
            "timestamp": (now - timedelta(seconds=n - i)).isoformat(),
        }
        if kind == "purchase":
            item["value"] = f"{price:.2f}"
        items.append(item)
    return items


def reset() -> None:
    from django.db import connection

    from dragonrec.tracking.models import Event

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Event._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Event._meta.db_table}")


def raw_copy(items: list[dict[str, Any]]) -> float:
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
    start = time.perf_counter()
    with transaction.atomic():
        copy_rows(Event._meta.db_table, columns, lines)
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def api(items: list[dict[str, Any]], *, batch: int, key: str) -> float:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="127.0.0.1")
    bodies = [
        json.dumps({"events": items[i : i + batch]} if batch > 1 else items[i]) for i in range(0, len(items), batch)
    ]
    start = time.perf_counter()
    for body in bodies:
        response = client.post("/api/events/", body, content_type="application/json")
        if response.get("Content-Type", "") != "application/json":
            raise SystemExit(f"the API answered {response.status_code}: {response.content[:300]!r}")
        results = response.json()["results"]
        if response.status_code != 200 or any(r["status"] != "accepted" for r in results):
            refused = [r for r in results if r["status"] != "accepted"]
            raise SystemExit(f"the API refused events: {response.status_code} {refused[:3]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--single", type=int, default=2_000, help="events sent one per request")
    parser.add_argument("--keep", action="store_true", help=f"keep the scratch database {DB_NAME}")
    args = parser.parse_args()

    scratch_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        from dragonrec.catalog.models import Product
        from dragonrec.tracking.generate import shop_generate
        from dragonrec.tracking.services import api_key_create

        shop_generate(products=2000, shoppers=1, events=0, seed=0)
        products = [(pk, float(price or 0)) for pk, price in Product.objects.values_list("pk", "price")]
        key = api_key_create(name="bench", scopes=["events:write"])[1]
        now = datetime.now(UTC)
        print(f"load average at start {load()}", flush=True)

        reset()
        copy_s = raw_copy(event_items(args.events, products, now=now))
        copy_rate = args.events / copy_s
        print(f"raw COPY          {args.events:>7,} events in {copy_s:6.2f} s = {copy_rate:9,.0f}/s  (load {load()})")
        reset()
        api(event_items(args.batch, products, now=now), batch=args.batch, key=key)  # warm-up: imports, caches
        reset()
        batch_s = api(event_items(args.events, products, now=now), batch=args.batch, key=key)
        batch_rate = args.events / batch_s
        print(
            f"API batches of {args.batch:<3} {args.events:>7,} events in {batch_s:6.2f} s = {batch_rate:9,.0f}/s "
            f"= {batch_rate / copy_rate:.0%} of raw COPY (bar 50%)  (load {load()})"
        )
        reset()
        single_s = api(event_items(args.single, products, now=now), batch=1, key=key)
        print(
            f"API single events {args.single:>7,} events in {single_s:6.2f} s = {args.single / single_s:9,.0f}/s "
            f"(bar 1,000/s)  (load {load()})"
        )
    finally:
        if not args.keep:
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
