"""Bulk writes with COPY, shared by the shop generator (`dragonrec_generate`), the synthetic embeddings and the
benchmarks: text-format rows through psycopg's `cursor.copy`, and an index-free load for big loads into empty
tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection

BULK_ROWS = 500_000  # from this many rows into an empty table, indexes are dropped and rebuilt after the load


def copy_rows(table: str, columns: str, lines: Iterable[str], *, flush_every: int = 20_000) -> None:
    """COPY text-format `lines` into `table` on Django's connection (inside its transaction, if one is open)."""
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= flush_every:
                copy.write("".join(buffer))
                buffer = []
        if buffer:
            copy.write("".join(buffer))


@contextmanager
def bulk_load(table: str, *, rows: int) -> Iterator[None]:
    """For `rows` >= BULK_ROWS into an empty `table`: drop its secondary indexes and outgoing foreign keys for the
    load, then rebuild them (an index built once from sorted data is far cheaper than millions of inserts into it).
    Primary keys and unique constraints stay (others may reference them). Otherwise a no-op."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
        empty = cursor.fetchone()[0]
    if rows < BULK_ROWS or not empty:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'",
            [table],
        )
        foreign = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in foreign:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in foreign:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("RESET maintenance_work_mem")


def copy_binary(table: str, columns: str, chunks: Iterable[bytes]) -> None:
    """COPY ... (FORMAT BINARY) of `chunks`: the first must start with PGCOPY_HEADER, the last end with
    PGCOPY_TRAILER. For wide numeric rows (vectors) that text formatting would make slow."""
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        for chunk in chunks:
            copy.write(chunk)


PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
PGCOPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
