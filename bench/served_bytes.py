"""Bytes per stored served list (issue #24): serve --lists lists of 10 through the real serving path
(`recommendation_list`, recorded: the Redis buffer, then `impressions_flush`), click one list in --click-every
(attributed as the ingest path does), and divide the growth of the served-list tables (ServedList and
ServedOutcome, every day partition, and ServingPolicy; heap, indexes, TOAST) by the number of lists. The old layout
(one Impression row + one ImpressionItem row per item, before migration 0012) measured 4,489-4,567 bytes a list.

    .venv/bin/python bench/served_bytes.py --lists 2000

The shop is a generated one (`dragonrec_generate`: 2,000 products, 20,000 events, synthetic embeddings) in a scratch
database of its own (`dragonrec_bench_served_bytes`, dropped at the end); the shoppers are the generated sessions, so
home lists carry real histories (the `context` stored with each list grows with them, as in a shop).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import argparse
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from _scratch import drop_database, load, scratch_database  # noqa: E402

DB_NAME = "dragonrec_bench_served_bytes"


def table_bytes(tables: list[str]) -> dict[str, int]:
    """pg_total_relation_size of each table, summed over its partitions for a partitioned one (its parent holds
    nothing); 0 for a table that does not exist."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        sizes = {}
        for table in tables:
            cursor.execute(
                "SELECT COALESCE((SELECT SUM(pg_total_relation_size(relid)) FROM pg_partition_tree(to_regclass(%s))),"
                " pg_total_relation_size(to_regclass(%s)), 0)",
                [table, table],
            )
            sizes[table] = int(cursor.fetchone()[0])
    return sizes


def report(name: str, tables: list[str], before: dict[str, int], after: dict[str, int], lists: int) -> None:
    growth = sum(after[t] - before[t] for t in tables)
    print(f"{name}: {growth / max(lists, 1):,.0f} bytes per stored list of 10 (tables + indexes + TOAST)")
    for table in tables:
        print(f"  {table}: +{(after[table] - before[table]) / max(lists, 1):,.0f} bytes per list")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lists", type=int, default=2000)
    parser.add_argument("--click-every", type=int, default=10, help="one list in this many gets a click")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    scratch_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        call_command("dragonrec_generate", products=2000, shoppers=1000, events=20_000, seed=0, stdout=io.StringIO())
        call_command("recommender_aggregates", stdout=io.StringIO())
        from django.utils import timezone

        from dragonrec.recommender.models import ServedList, ServedOutcome, ServingPolicy
        from dragonrec.recommender.services.feedback import clicks_attribute
        from dragonrec.recommender.services.impressions import impressions_flush
        from dragonrec.recommender.services.recommendations import recommendation_list
        from dragonrec.tracking.models import Event

        tables = [ServedList._meta.db_table, ServedOutcome._meta.db_table, ServingPolicy._meta.db_table]
        recommendation_list(scenario="home", session_id="gen0-0", n=10, record=False)  # warm: snapshot, models

        def serve(first: int, count: int) -> None:
            clicks = []
            for i in range(first, first + count):
                session = f"gen0-{i % 1000}"
                served = recommendation_list(scenario="home", session_id=session, n=10)
                if args.click_every and i % args.click_every == 0 and served.items:
                    item = served.items[i % len(served.items)]
                    context = {"request_id": str(served.request_id), "position": item.position}
                    clicks.append(Event(type="click", session_id=session, product_id=item.product_id,
                                        timestamp=timezone.now(), context=context))  # fmt: skip
                if i % 200 == 199:
                    impressions_flush(reschedule=False)
            impressions_flush(reschedule=False)
            clicks_attribute(events=clicks)

        # Two halves: the whole growth over all lists (first pages of empty tables and indexes included, as the
        # "before" figure was measured), and the second half's growth over its lists (what each further list costs).
        before = table_bytes(tables)
        start = time.perf_counter()
        half = args.lists // 2
        serve(0, half)
        middle = table_bytes(tables)
        serve(half, args.lists - half)
        served_s = time.perf_counter() - start
        after = table_bytes(tables)
        lists = ServedList.objects.count()
        outcomes = ServedOutcome.objects.count()
        policies = ServingPolicy.objects.count()
        print(f"{lists:,} lists, {outcomes:,} outcomes, {policies} policies stored in {served_s:.1f} s; load {load()}")
        report("all lists", tables, before, after, lists)
        report(f"the second {args.lists - half:,} lists", tables, middle, after, args.lists - half)
    finally:
        if not args.keep:
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
