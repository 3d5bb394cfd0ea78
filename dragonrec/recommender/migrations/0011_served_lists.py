"""Served lists stored compactly (issue #24): one row per list with arrays, outcomes in a narrow table, both
range-partitioned by day on the serving time, policies deduplicated. Converts the rows of the old tables
(Impression / ImpressionItem), which stay until every consumer has moved (a later migration drops them).

Frozen SQL: the day-partition statement and the source code table are copies of services/partitions.py and
models.SOURCE_CODES as of this migration, on purpose (a migration must not change when the code does)."""

import uuid

import django.contrib.postgres.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

LISTS = "dragonrec_recommender_servedlist"
OUTCOMES = "dragonrec_recommender_servedoutcome"
POLICIES = "dragonrec_recommender_servingpolicy"
OLD_LISTS = "dragonrec_recommender_impression"
OLD_ITEMS = "dragonrec_recommender_impressionitem"

# Columns ordered widest-aligned first (no padding). scores / propensities are packed float4 (little-endian) and
# sources one byte per item: 41 + 41 + 11 bytes for ten items where real[] / smallint[] cost 61 + 61 + 41 (an
# array's 24-byte header each); item_ids stay bigint[] because SQL joins on them (attribution: item_ids[position]).
# No primary key: a unique index would have to include served_at (PostgreSQL requires the partition key), and a
# btree on (uuid, timestamptz) costs ~65 bytes a list with random uuids; a hash index on request_id (~27) serves
# every lookup by request id, and the flush writes idempotently under a lock instead (services/served_lists.py).
CREATE = f"""
CREATE TABLE {LISTS} (
    served_at timestamptz NOT NULL,
    user_id bigint NULL,
    request_id uuid NOT NULL,
    policy_id integer NOT NULL,
    session_id varchar(128) NOT NULL,
    scenario varchar(16) NOT NULL,
    item_ids bigint[] NOT NULL,
    anchor_ids bigint[] NULL,
    scores bytea NOT NULL,
    propensities bytea NULL,
    sources bytea NOT NULL,
    teams bytea NULL,
    context jsonb NULL
) PARTITION BY RANGE (served_at);
CREATE INDEX dragonrec_served_request ON {LISTS} USING hash (request_id);
-- erasure: a signed-in shopper's lists, an anonymous session's lists (the only lookups besides the request id;
-- experiments, guardrail, dashboard and exports read whole days, which partition pruning narrows)
CREATE INDEX dragonrec_served_user ON {LISTS} (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX dragonrec_served_session ON {LISTS} (session_id) WHERE user_id IS NULL AND session_id <> '';
CREATE TABLE {OUTCOMES} (
    request_id uuid NOT NULL,
    served_at timestamptz NOT NULL,
    at timestamptz NOT NULL,
    position smallint NOT NULL,
    kind smallint NOT NULL,
    PRIMARY KEY (request_id, position, kind, served_at)
) PARTITION BY RANGE (served_at);
"""
DROP = f"DROP TABLE IF EXISTS {OUTCOMES}; DROP TABLE IF EXISTS {LISTS};"

# Partitions for every day holding an old list, and for today and the next days (the periodic task keeps ahead).
PARTITIONS = f"""
DO $$
DECLARE day date;
BEGIN
  FOR day IN
    SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM {OLD_LISTS}
    UNION SELECT (now() AT TIME ZONE 'UTC')::date + i FROM generate_series(0, 3) AS i
  LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
      '{LISTS}_p' || to_char(day, 'YYYYMMDD'), '{LISTS}',
      day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
      '{OUTCOMES}_p' || to_char(day, 'YYYYMMDD'), '{OUTCOMES}',
      day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
  END LOOP;
END $$;
"""

DIGEST = (
    "md5(jsonb_build_object('ranker', {a}.ranker, 'model_version', {a}.model_version, 'experiment', {a}.experiment,"
    " 'arm', {a}.arm, 'policy', {a}.policy)::text)::uuid"
)
SOURCES = (
    "CASE source WHEN '' THEN 0 WHEN 'embedding' THEN 1 WHEN 'trending' THEN 2 WHEN 'complements' THEN 3"
    " WHEN 'similar' THEN 4 WHEN 'pinned' THEN 5 WHEN 'lexical' THEN 6 WHEN 'semantic' THEN 7"
    " WHEN 'lexical+semantic' THEN 8 WHEN 'cart' THEN 9 WHEN 'teacher' THEN 10 WHEN 'student' THEN 11"
    " WHEN 'search' THEN 12 WHEN 'similarity' THEN 13 ELSE 99 END"
)
# A float8 as the 4 little-endian bytes of its float4 (services/served_lists.py packs with struct "<f"): the bits
# of the float4 read as an int4 (float4send gives them big-endian), reversed.
FLOAT4 = (
    "(SELECT set_byte(set_byte(set_byte(set_byte('\\x00000000'::bytea, 0, get_byte(b, 3)), 1, get_byte(b, 2)),"
    " 2, get_byte(b, 1)), 3, get_byte(b, 0)) FROM float4send(({v})::real) AS b)"
)
# Positions become array indexes: a list that lost an item (its product was deleted before the flush) closes the
# gap, and its outcomes move with their items (row_number), so an outcome still names the item it happened to.
CONVERT = f"""
INSERT INTO {POLICIES} (digest, ranker, model_version, experiment, arm, policy)
SELECT DISTINCT ON (digest) digest, ranker, model_version, experiment, arm, policy
FROM (SELECT {DIGEST.format(a="imp")} AS digest, imp.* FROM {OLD_LISTS} AS imp) AS p
ON CONFLICT (digest) DO NOTHING;

CREATE TEMPORARY TABLE dragonrec_old_items ON COMMIT DROP AS
SELECT impression_id, product_id, score, source, propensity, clicked_at, carted_at, purchased_at,
    row_number() OVER (PARTITION BY impression_id ORDER BY position)::smallint AS pos
FROM {OLD_ITEMS};

INSERT INTO {LISTS} (request_id, served_at, user_id, session_id, scenario, policy_id, anchor_ids, item_ids, scores,
    propensities, sources, context)
SELECT imp.request_id, imp.created_at, imp.user_id, imp.session_id, imp.scenario, p.id,
    NULLIF(ARRAY(SELECT jsonb_array_elements_text(imp.anchor_ids)::bigint), '{{}}'),
    COALESCE(it.ids, '{{}}'), COALESCE(it.scores, ''::bytea), it.propensities, COALESCE(it.sources, ''::bytea), NULL
FROM {OLD_LISTS} AS imp
JOIN {POLICIES} AS p ON p.digest = {DIGEST.format(a="imp")}
LEFT JOIN LATERAL (
    SELECT array_agg(product_id ORDER BY pos) AS ids, string_agg({FLOAT4.format(v="score")}, '' ORDER BY pos) AS scores,
        CASE WHEN bool_and(propensity = 1.0) THEN NULL
            ELSE string_agg({FLOAT4.format(v="propensity")}, '' ORDER BY pos) END AS propensities,
        string_agg(set_byte('\\x00'::bytea, 0, {SOURCES}), '' ORDER BY pos) AS sources
    FROM dragonrec_old_items WHERE impression_id = imp.request_id
) AS it ON TRUE
ON CONFLICT DO NOTHING;

INSERT INTO {OUTCOMES} (request_id, served_at, position, kind, at)
SELECT i.impression_id, imp.created_at, i.pos, k.kind, k.at
FROM dragonrec_old_items AS i
JOIN {OLD_LISTS} AS imp ON imp.request_id = i.impression_id
CROSS JOIN LATERAL (VALUES (1, i.clicked_at), (2, i.carted_at), (3, i.purchased_at)) AS k(kind, at)
WHERE k.at IS NOT NULL
ON CONFLICT DO NOTHING;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("dragonrec_recommender", "0010_aggregates_incremental"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ServingPolicy",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("digest", models.UUIDField(unique=True)),
                ("ranker", models.CharField(max_length=100)),
                ("model_version", models.CharField(blank=True, max_length=100)),
                ("experiment", models.CharField(blank=True, max_length=100)),
                ("arm", models.CharField(blank=True, max_length=100)),
                (
                    "policy",
                    models.JSONField(blank=True, default=dict, help_text="ranker, model version, exploration settings"),
                ),
            ],
            options={"verbose_name_plural": "serving policies"},
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(CREATE, DROP)],
            state_operations=[
                migrations.CreateModel(
                    name="ServedOutcome",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "request_id",
                                "position",
                                "kind",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("request_id", models.UUIDField()),
                        ("served_at", models.DateTimeField()),
                        ("position", models.SmallIntegerField()),
                        (
                            "kind",
                            models.SmallIntegerField(choices=[(1, "click"), (2, "add to cart"), (3, "purchase")]),
                        ),
                        ("at", models.DateTimeField()),
                    ],
                ),
                migrations.CreateModel(
                    name="ServedList",
                    fields=[
                        (
                            "request_id",
                            models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
                        ),
                        ("served_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ("session_id", models.CharField(blank=True, max_length=128)),
                        ("scenario", models.CharField(max_length=16)),
                        (
                            "anchor_ids",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.BigIntegerField(), blank=True, null=True, size=None
                            ),
                        ),
                        (
                            "item_ids",
                            django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                        ),
                        ("scores", models.BinaryField()),
                        ("propensities", models.BinaryField(blank=True, null=True)),
                        ("sources", models.BinaryField()),
                        ("teams", models.BinaryField(blank=True, null=True)),
                        ("context", models.JSONField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "policy",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="dragonrec_recommender.servingpolicy",
                            ),
                        ),
                    ],
                    options={"ordering": ["-served_at"], "managed": True},
                ),
            ],
        ),
        migrations.RunSQL(PARTITIONS, migrations.RunSQL.noop),
        migrations.RunSQL(CONVERT, migrations.RunSQL.noop),
    ]
