"""Migration 0013 packs the item ids of stored served lists (bigint[] -> width byte + big-endian ids): every list keeps
its ids in shown order (int4-sized and beyond), SQL reads them back through the new functions as it read the array,
the Python packing agrees with the SQL one, and going back restores the arrays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dragonrec.recommender.models import ServedList, ids_pack

BEFORE = [("dragonrec_recommender", "0012_drop_impression_tables")]
AFTER = [("dragonrec_recommender", "0013_served_item_ids_packed")]
LISTS = "dragonrec_recommender_servedlist"


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def at_0012(transactional_db: None) -> Iterator[None]:
    migrate(BEFORE)
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_conversion_packs_every_lists_ids_in_order_and_sql_reads_them_as_before(at_0012) -> None:  # type: ignore[no-untyped-def]
    # given lists stored as arrays: usual ids, one id beyond int4 (the whole list goes 8 bytes an id), a negative id
    # at the int4 edge, and an empty list
    served_at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    lists = {
        uuid.uuid4(): [17, 3, 250_000, 9],
        uuid.uuid4(): [5, 2**31, 2**40 + 3],
        uuid.uuid4(): [-(2**31), 2**31 - 1],
        uuid.uuid4(): [],
    }
    with connection.cursor() as cursor:
        cursor.execute(  # today's partitions exist (0011 keeps the next days ready); this day's is made here
            f"CREATE TABLE IF NOT EXISTS {LISTS}_p20261120 PARTITION OF {LISTS}"
            " FOR VALUES FROM ('2026-11-20 00:00+00') TO ('2026-11-21 00:00+00')"
        )
        for request_id, ids in lists.items():
            cursor.execute(
                f"INSERT INTO {LISTS} (request_id, served_at, session_id, scenario, policy_id, item_ids, scores,"
                " sources) VALUES (%s, %s, 's', 'home', 1, %s::bigint[], '', '')",
                [request_id, served_at, ids],
            )
    # when
    migrate(AFTER)
    # then: each list's ids, in order, through the model
    stored = dict(ServedList.objects.values_list("request_id", "item_ids"))
    assert stored == lists
    with connection.cursor() as cursor:
        # SQL sees an array's semantics: the id at each position, NULL outside the list, the count, the array
        for request_id, ids in lists.items():
            cursor.execute(
                f"SELECT dragonrec_item_count(item_ids), dragonrec_item_ids(item_ids), dragonrec_item_at(item_ids, 0),"
                f" dragonrec_item_at(item_ids, %s), ARRAY(SELECT dragonrec_item_at(item_ids, p)"
                f" FROM generate_series(1, %s) AS p ORDER BY p) FROM {LISTS} WHERE request_id = %s",
                [len(ids) + 1, len(ids), request_id],
            )
            assert cursor.fetchone() == (len(ids), ids, None, None, ids)
        # the flush packs in Python what the conversion packed in SQL, byte for byte (4 bytes an id when all fit)
        cursor.execute(f"SELECT request_id, item_ids FROM {LISTS}")
        for request_id, packed in cursor.fetchall():
            assert bytes(packed) == ids_pack(lists[request_id])
        assert len(ids_pack(lists[next(iter(lists))])) == 1 + 4 * 4
    # and going back restores the arrays
    migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT request_id, item_ids FROM {LISTS}")
        assert dict(cursor.fetchall()) == lists
