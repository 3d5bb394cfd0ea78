"""Bytes per stored served list (issue #24's "before" figure for the compact storage): serve --lists lists of 10
through the real serving path (`recommendation_list`, recorded: the Redis buffer, then `impressions_flush` into the
impression tables), and divide the growth of those tables (heap, indexes, TOAST) by the number of lists.

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
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        sizes = {}
        for table in tables:
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            sizes[table] = cursor.fetchone()[0]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lists", type=int, default=2000)
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
        from dragonrec.recommender.models import Impression, ImpressionItem
        from dragonrec.recommender.services.impressions import impressions_flush
        from dragonrec.recommender.services.recommendations import recommendation_list

        tables = [Impression._meta.db_table, ImpressionItem._meta.db_table]
        recommendation_list(scenario="home", session_id="gen0-0", n=10, record=False)  # warm: snapshot, models
        before = table_bytes(tables)
        start = time.perf_counter()
        for i in range(args.lists):
            recommendation_list(scenario="home", session_id=f"gen0-{i % 1000}", n=10)
            if i % 200 == 199:
                impressions_flush(reschedule=False)
        impressions_flush(reschedule=False)
        served = time.perf_counter() - start
        after = table_bytes(tables)
        lists, items = Impression.objects.count(), ImpressionItem.objects.count()
        growth = sum(after.values()) - sum(before.values())
        print(f"{lists:,} lists, {items:,} items stored ({items / max(lists, 1):.1f} per list) in {served:.1f} s")
        for table in tables:
            print(f"  {table}: +{(after[table] - before[table]) / max(lists, 1):,.0f} bytes per list")
        print(f"bytes per stored list of 10: {growth / max(lists, 1):,.0f} (tables + indexes + TOAST); load {load()}")
    finally:
        if not args.keep:
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
