"""Incremental aggregates at scale (issue #24): trending + co-purchase complements refreshed after new events on a
large history, against a rebuild from the whole window.

    # a database made by dragonrec_generate (1M products, 10M events: ~13 min), then:
    DATABASE_URL=postgres://.../dragonrec_scale .venv/bin/python bench/aggregates.py --new 100000

1. rebuild (skipped with --no-rebuild): both aggregates from every event of their windows; sets the watermarks;
2. --new events appended as if just received (copies of random stored events: the same products, types and
   shoppers, moved to the last hour), then one refresh of each, timed: what the beat jobs do every few minutes.
Bar: the refresh after 100k new events on a 10M-event history under 1 minute. The load average is printed beside the
figures. The appended events stay (run it on a scratch database).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from _scratch import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new", type=int, default=100_000, help="events appended before the timed refresh")
    parser.add_argument("--no-rebuild", action="store_true", help="the watermarks exist already: refresh only")
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from dragonrec.recommender.services.aggregates_incremental import copurchase_refresh, trending_refresh
    from dragonrec.tracking.selectors import events_table

    table = events_table()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        history = cursor.fetchone()[0]
    print(f"history: {history:,} events; load average {load()}", flush=True)
    if not args.no_rebuild:
        start = time.perf_counter()
        trending = trending_refresh(rebuild=True)
        middle = time.perf_counter()
        pairs = copurchase_refresh(rebuild=True)
        print(
            f"rebuild: trending {trending:,} products in {middle - start:.1f} s, co-purchase {pairs[0]:,} products "
            f"/ {pairs[1]:,} category pairs in {time.perf_counter() - middle:.1f} s; load average {load()}",
            flush=True,
        )
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(
            f"""INSERT INTO {table} (id, type, user_id, session_id, product_id, quantity, value, timestamp, context,
                source, received_at)
            SELECT gen_random_uuid(), type, user_id, session_id, product_id, quantity, value,
                now() - random() * interval '1 hour', '{{}}', 'bench', now() - interval '10 seconds'
            FROM {table} TABLESAMPLE SYSTEM (2) LIMIT %s""",
            [args.new],
        )
        appended = cursor.rowcount
    print(f"appended {appended:,} events in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    trending = trending_refresh()
    middle = time.perf_counter()
    products, categories = copurchase_refresh()
    done = time.perf_counter()
    print(
        f"refresh after {appended:,} new events: trending {trending:,} products in {middle - start:.1f} s, "
        f"co-purchase {products:,} products rescored + {categories:,} category pairs in {done - middle:.1f} s; "
        f"total {done - start:.1f} s (bar 60 s); load average {load()}"
    )


if __name__ == "__main__":
    main()
