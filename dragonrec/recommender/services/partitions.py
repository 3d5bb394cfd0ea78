"""Day partitions of the served-list tables (ServedList, ServedOutcome: range-partitioned on `served_at`).

Created ahead by the beat task (`served_partitions_ensure`, daily) and on demand by the flush before it writes
(`served_partitions_for`), so an insert never meets a missing day; retention drops whole days
(`served_partitions_drop_before`) instead of deleting rows in batches: a DROP TABLE costs the same for a day of
ten lists or of ten million, and leaves no dead tuples to vacuum. Days are UTC days.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

from dragonrec.recommender.models import ServedList, ServedOutcome

logger = logging.getLogger(__name__)

# Today and the next few days exist before they are needed: a beat run that is missed for a day or two changes
# nothing, and the flush's on-demand check only ever finds them present.
DAYS_AHEAD = 3
_SUFFIX = re.compile(r"_p(\d{8})$")


def _tables() -> list[str]:
    return [ServedList._meta.db_table, ServedOutcome._meta.db_table]


def _name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def served_partitions() -> dict[str, list[date]]:
    """The days each served-list table has a partition for, oldest first."""
    found: dict[str, list[date]] = {table: [] for table in _tables()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parent.relname, child.relname FROM pg_inherits "
            "JOIN pg_class parent ON parent.oid = inhparent JOIN pg_class child ON child.oid = inhrelid "
            "WHERE parent.relname = ANY(%s)",
            [_tables()],
        )
        for parent, child in cursor.fetchall():
            match = _SUFFIX.search(child)
            if match:
                found[parent].append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return {table: sorted(days) for table, days in found.items()}


def served_partitions_for(days: Iterable[date]) -> int:
    """Make sure every table has a partition for each of `days`; returns how many were created. Idempotent and
    safe beside another caller (CREATE TABLE IF NOT EXISTS under a transaction-level advisory lock)."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    existing = served_partitions()
    missing = [(table, day) for table in _tables() for day in wanted if day not in existing[table]]
    if not missing:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        # two flushers creating the same day would otherwise race between the check and the CREATE
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dragonrec.served_partitions'))")
        for table, day in missing:
            start = datetime.combine(day, time.min, tzinfo=UTC)
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{_name(table, day)}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)',
                [start, start + timedelta(days=1)],
            )
    logger.info("created %s served-list partitions", len(missing))
    return len(missing)


def served_partitions_ensure(*, today: date | None = None, ahead: int = DAYS_AHEAD) -> int:
    """The beat task: partitions for today and the next `ahead` days."""
    today = today or datetime.now(UTC).date()
    return served_partitions_for(today + timedelta(days=i) for i in range(ahead + 1))


# Below this many rows (PostgreSQL's estimate) a dropped day's lists are counted exactly for the report; above it the
# estimate is reported: counting a big day would read all of it just before it is thrown away.
EXACT_COUNT_BELOW = 100_000


def served_partitions_drop_before(*, before: date, keep: Iterable[date] = ()) -> tuple[list[date], int]:
    """Drop the partitions of days entirely before `before` (both tables), except the days in `keep`; returns
    the days dropped and how many lists they held."""
    kept = set(keep)
    dropped: set[date] = set()
    lists = 0
    lists_table = ServedList._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dragonrec.served_partitions'))")
        for table, days in served_partitions().items():
            for day in days:
                if day < before and day not in kept:
                    name = _name(table, day)
                    if table == lists_table:
                        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [name])
                        estimate = int(max(cursor.fetchone()[0], 0))
                        if estimate < EXACT_COUNT_BELOW:
                            cursor.execute(f'SELECT count(*) FROM "{name}"')
                            estimate = int(cursor.fetchone()[0])
                        lists += estimate
                    cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
                    dropped.add(day)
    return sorted(dropped), lists
