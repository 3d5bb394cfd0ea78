"""Bulk writes with COPY, shared by the shop generator (`dragonrec_generate`), the synthetic embeddings and the
benchmarks: text-format rows through psycopg's `cursor.copy`, and an index-free load for big loads into empty
tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper

T = TypeVar("T")
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


def copy_text(
    table: str, columns: str, payload: str | Iterable[str], *, meanwhile: Callable[[], T] | None = None
) -> T | None:
    """COPY text-format `payload` (whole lines, escaped with `copy_escape`) into `table` as one statement on Django's
    connection, through its execute wrappers and query log like any statement (so round-trip counts and
    `django_assert_num_queries` see it). One statement: it stores every line or, on any error, none.

    `payload` may be an iterable of chunks (each of whole lines), written as each is made: the server inserts the
    first rows while Python formats the next (libpq sends each 8 KiB as it fills).

    `meanwhile`: called once the payload is sent, before the end of the COPY is awaited, so that its Python runs
    while the server inserts the rows (on another core); its result is returned. Raising in it aborts the COPY."""
    sql = f"COPY {table} ({columns}) FROM STDIN"
    result: T | None = None

    def execute(sql: str, params: Any, many: bool, context: Any) -> None:
        nonlocal result
        connection.validate_no_broken_transaction()
        with cursor.cursor.copy(sql) as copy:
            for chunk in (payload,) if isinstance(payload, str) else payload:
                copy.write(chunk)
            if meanwhile is not None:
                result = meanwhile()

    with connection.cursor() as cursor:
        logged = cursor.debug_sql(sql) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
        with logged, connection.wrap_database_errors:  # psycopg's errors as Django's (IntegrityError, ...)
            cursor._execute_with_wrappers(sql, None, False, executor=execute)
    return result


COPY_NULL = "\\N"  # NULL in COPY's text format
_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(text: str) -> str:
    """`text` as a COPY text-format field: backslash, tab, newline and carriage return escaped (PostgreSQL's COPY,
    "Text Format"); the usual value has none of them and is returned as it is, without a per-character pass."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_SPECIAL)
    return text
