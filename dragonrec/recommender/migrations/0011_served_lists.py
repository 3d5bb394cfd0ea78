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

CREATE = f"""
CREATE TABLE {LISTS} (
    request_id uuid NOT NULL,
    served_at timestamptz NOT NULL,
    user_id bigint NULL,
    session_id varchar(128) NOT NULL,
    scenario varchar(16) NOT NULL,
    policy_id integer NOT NULL,
    anchor_ids bigint[] NULL,
    item_ids bigint[] NOT NULL,
    scores real[] NOT NULL,
    propensities real[] NULL,
    sources smallint[] NOT NULL,
    context jsonb NULL,
    PRIMARY KEY (request_id, served_at)
) PARTITION BY RANGE (served_at);
-- erasure: a signed-in shopper's lists, an anonymous session's lists (the only lookups besides the request id;
-- experiments, guardrail, dashboard and exports read whole days, which partition pruning narrows)
CREATE INDEX dragonrec_served_user ON {LISTS} (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX dragonrec_served_session ON {LISTS} (session_id) WHERE user_id IS NULL AND session_id <> '';
CREATE TABLE {OUTCOMES} (
    request_id uuid NOT NULL,
    served_at timestamptz NOT NULL,
    position smallint NOT NULL,
    kind smallint NOT NULL,
    at timestamptz NOT NULL,
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
    " 'arm', {a}.arm, 'policy', {a}.policy)::text)"
)
SOURCES = (
    "CASE source WHEN '' THEN 0 WHEN 'embedding' THEN 1 WHEN 'trending' THEN 2 WHEN 'complements' THEN 3"
    " WHEN 'similar' THEN 4 WHEN 'pinned' THEN 5 WHEN 'lexical' THEN 6 WHEN 'semantic' THEN 7"
    " WHEN 'lexical+semantic' THEN 8 WHEN 'cart' THEN 9 WHEN 'teacher' THEN 10 WHEN 'student' THEN 11"
    " WHEN 'search' THEN 12 WHEN 'similarity' THEN 13 ELSE 99 END"
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
    COALESCE(it.ids, '{{}}'), COALESCE(it.scores, '{{}}'), it.propensities, COALESCE(it.sources, '{{}}'), NULL
FROM {OLD_LISTS} AS imp
JOIN {POLICIES} AS p ON p.digest = {DIGEST.format(a="imp")}
LEFT JOIN LATERAL (
    SELECT array_agg(product_id ORDER BY pos) AS ids, array_agg(score::real ORDER BY pos) AS scores,
        CASE WHEN bool_and(propensity = 1.0) THEN NULL
            ELSE array_agg(propensity::real ORDER BY pos) END AS propensities,
        array_agg(({SOURCES})::smallint ORDER BY pos) AS sources
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
                ("digest", models.CharField(max_length=32, unique=True)),
                ("ranker", models.CharField(max_length=100)),
                ("model_version", models.CharField(blank=True, max_length=100)),
                ("experiment", models.CharField(blank=True, max_length=100)),
                ("arm", models.CharField(blank=True, max_length=100)),
                (
                    "policy",
                    models.JSONField(blank=True, default=dict, help_text="ranker, model version, exploration settings"),
                ),
            ],
            options={
                "verbose_name_plural": "serving policies",
                "indexes": [models.Index(fields=["experiment"], name="dragonrec_policy_experiment")],
            },
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
                        (
                            "scores",
                            django.contrib.postgres.fields.ArrayField(base_field=models.FloatField(), size=None),
                        ),
                        (
                            "propensities",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.FloatField(), blank=True, null=True, size=None
                            ),
                        ),
                        (
                            "sources",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.SmallIntegerField(), size=None
                            ),
                        ),
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
