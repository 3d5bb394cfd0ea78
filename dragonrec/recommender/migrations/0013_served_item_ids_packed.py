"""A served list's item ids packed (issue #24, bytes per stored list): one width byte (4, or 8 when an id is beyond
int4), then every id big-endian, instead of a bigint[] (20 bytes of array header and 8 bytes an id): a list of ten
shrinks from 101 to 41 bytes in its row (models.ids_pack says the same on the Python side).

SQL reads the packed ids through the functions created here (LANGUAGE sql and not STRICT, so the planner inlines
them: a join on dragonrec_item_at costs what item_ids[position] did):
- dragonrec_item_at(items, position): the id at a 1-based position, NULL outside the list (as an array subscript);
- dragonrec_item_count(items): how many ids (cardinality);
- dragonrec_item_ids(items): the ids as a bigint[] (unnest);
- dragonrec_ids_pack(ids bigint[]): the packing, for this conversion and for SQL that writes lists.
The bytes go through bit strings (no bytea-to-integer cast before PostgreSQL 18)."""

from django.db import migrations

import dragonrec.recommender.models

LISTS = "dragonrec_recommender_servedlist"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION dragonrec_ids_pack(ids bigint[]) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN COALESCE(bool_and(i BETWEEN -2147483648 AND 2147483647), TRUE)
        -- the aggregate runs over every id whichever branch is taken: cast only what fits
        THEN '\x04'::bytea || COALESCE(string_agg(
            int4send(CASE WHEN i BETWEEN -2147483648 AND 2147483647 THEN i::integer END), ''::bytea ORDER BY o), '')
        ELSE '\x08'::bytea || string_agg(int8send(i), ''::bytea ORDER BY o) END
    FROM unnest(ids) WITH ORDINALITY AS u(i, o)
$$;
CREATE OR REPLACE FUNCTION dragonrec_item_count(items bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (length(items) - 1) / get_byte(items, 0)
$$;
CREATE OR REPLACE FUNCTION dragonrec_item_at(items bytea, pos integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pos BETWEEN 1 AND (length(items) - 1) / get_byte(items, 0) THEN
        CASE get_byte(items, 0)
            WHEN 4 THEN ('x' || encode(substr(items, 2 + (pos - 1) * 4, 4), 'hex'))::bit(32)::integer::bigint
            ELSE ('x' || encode(substr(items, 2 + (pos - 1) * 8, 8), 'hex'))::bit(64)::bigint
        END
    END
$$;
CREATE OR REPLACE FUNCTION dragonrec_item_ids(items bytea) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT dragonrec_item_at(items, p) FROM generate_series(1, dragonrec_item_count(items)) AS p
        ORDER BY p)
$$;
"""
DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS dragonrec_item_ids(bytea);
DROP FUNCTION IF EXISTS dragonrec_item_at(bytea, integer);
DROP FUNCTION IF EXISTS dragonrec_item_count(bytea);
DROP FUNCTION IF EXISTS dragonrec_ids_pack(bigint[]);
"""
# every partition is rewritten (ALTER on the partitioned table reaches them all)
CONVERT = f"ALTER TABLE {LISTS} ALTER COLUMN item_ids TYPE bytea USING dragonrec_ids_pack(item_ids)"
UNCONVERT = f"ALTER TABLE {LISTS} ALTER COLUMN item_ids TYPE bigint[] USING dragonrec_item_ids(item_ids)"


class Migration(migrations.Migration):
    dependencies = [("dragonrec_recommender", "0012_drop_impression_tables")]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(CONVERT, UNCONVERT)],
            state_operations=[
                migrations.AlterField(
                    model_name="servedlist",
                    name="item_ids",
                    field=dragonrec.recommender.models.PackedIdsField(),
                ),
            ],
        ),
    ]
