"""Writing served lists in their compact form (models.ServedList / ServedOutcome / ServingPolicy): the flush side.

One row per list, its items in shown order (position = index + 1; dragonrec_item_at(item_ids, position) in SQL;
the ids packed: models.ids_pack), policies deduplicated by digest. A batch of records costs five statements whatever
its size: the partition check (a catalog read; a CREATE only on a new day), the policy upsert, the policy ids, the
write lock, the list insert.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from dragonrec.recommender.models import (
    OTHER_SOURCE,
    SOURCE_CODES,
    ServedList,
    ServingPolicy,
    floats_pack,
    ids_pack,
)
from dragonrec.recommender.services.partitions import served_partitions_for

# The digest of a policy: PostgreSQL's md5 of the canonical jsonb text (sorted keys, fixed spacing), so the flush and
# the conversion migration name the same policy the same way without agreeing on a Python serialisation.
_POLICY_INPUT = """
    FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[]) WITH ORDINALITY
        AS p(ranker, model_version, experiment, arm, policy, ord)
"""
_DIGEST = (
    "md5(jsonb_build_object('ranker', p.ranker, 'model_version', p.model_version, 'experiment', p.experiment,"
    " 'arm', p.arm, 'policy', p.policy)::text)::uuid"
)


def source_code(name: str) -> int:
    return SOURCE_CODES.get(name, OTHER_SOURCE)


def _policy_ids(records: list[dict[str, Any]]) -> list[int]:
    """The ServingPolicy id of each record (inserting the new ones): two statements for the batch."""
    columns = [
        [str(r["ranker"]) for r in records],
        [str(r.get("model_version", "")) for r in records],
        [str(r.get("experiment", "")) for r in records],
        [str(r.get("arm", "")) for r in records],
        [json.dumps(shop_policy(r.get("policy") or {})) for r in records],
    ]
    table = ServingPolicy._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (digest, ranker, model_version, experiment, arm, policy) "
            f"SELECT DISTINCT ON (1) {_DIGEST}, p.ranker, p.model_version, p.experiment, p.arm, p.policy "
            f"{_POLICY_INPUT} ON CONFLICT (digest) DO NOTHING",
            columns,
        )
        # a second statement: its snapshot sees rows another flusher committed while the insert waited on them
        cursor.execute(
            f"SELECT pol.id {_POLICY_INPUT} JOIN {table} AS pol ON pol.digest = {_DIGEST} ORDER BY p.ord", columns
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
    if len(ids) != len(records):  # cannot happen: every digest was inserted or present
        raise RuntimeError("a served list's policy went missing")
    return ids


def _propensities(items: list[list[Any]]) -> bytes | None:
    # records buffered before propensities were logged carry four fields: deterministic then
    values = [float(item[4]) if len(item) > 4 else 1.0 for item in items]
    return None if all(v == 1.0 for v in values) else floats_pack(values)


# Keys of a serving policy that are one shopper's, not the shop's: their stated preferences and what their purchases
# rule out. Kept in the deduplicated policy row they would make it one row per shopper state (283 policies for 1,000
# lists on the generated shop); they are derived from what tracking keeps (preferences, purchase events).
SHOPPER_POLICY_KEYS = ("avoid_categories", "prefer_categories", "prefer_brands", "price_min", "price_max")


def shop_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """`policy` (the record's: ranker, model version, exploration, the pipeline's policy under "policy", an
    interleaved list's "teams") without what is the list's or the shopper's own: the shopper's filters are dropped,
    the teams become the arms' names ("team_names"; the list keeps an index per position, `teams_pack`)."""
    out = {k: v for k, v in policy.items() if k != "teams"}
    if policy.get("teams"):
        out["team_names"] = sorted(set(policy["teams"]))
    inner = policy.get("policy")
    if isinstance(inner, dict):
        out["policy"] = {k: v for k, v in inner.items() if k not in SHOPPER_POLICY_KEYS}
    return out


def teams_pack(policy: dict[str, Any]) -> bytes | None:
    teams = policy.get("teams")
    if not teams:
        return None
    names = sorted(set(teams))
    return bytes(names.index(team) for team in teams)


# What a request asked for that nothing else records (a search's query, category, sort, page): kept with the list.
# The rest of a record's context (the shopper's history, preferences, key) is read back from tracking when needed,
# except for a list waiting for the teacher, whose judgment is made from its whole context.
REQUEST_CONTEXT_KEYS = ("query", "corrected_query", "category", "sort", "page")


def _context(record: dict[str, Any]) -> str | None:
    context = record.get("context") or {}
    kept = context if record.get("teach") else {k: context[k] for k in REQUEST_CONTEXT_KEYS if k in context}
    return json.dumps(kept) if kept else None


def served_lists_write(records: list[dict[str, Any]], *, existing_users: Iterable[int]) -> int:
    """Store impression records (the Redis buffer's shape, services/impressions.py) as compact served lists;
    idempotent (a record written twice keeps its first row). Items keep their shown order and positions; a product
    deleted meanwhile keeps its id in the array (no foreign key: positions must not shift under the outcomes)."""
    if not records:
        return 0
    users = set(existing_users)
    served = [datetime.fromisoformat(r["created_at"]) for r in records]
    served_partitions_for(when.astimezone(UTC).date() for when in served)  # records carry aware UTC times
    policies = _policy_ids(records)
    rows: list[Any] = []
    for record, when, policy_id in zip(records, served, policies, strict=True):
        items = sorted(record["items"], key=lambda item: int(item[1]))
        anchors = [int(a) for a in record.get("anchor_ids") or []]
        rows += [
            uuid.UUID(record["request_id"]),
            when,
            record.get("user_id") if record.get("user_id") in users else None,
            record.get("session_id", ""),
            record["scenario"],
            policy_id,
            anchors or None,
            ids_pack([int(item[0]) for item in items]),
            floats_pack([float(item[2]) for item in items]),
            _propensities(items),
            bytes(source_code(str(item[3])) for item in items),
            teams_pack(record.get("policy") or {}),
            _context(record),
        ]
    row = "(%s::uuid, %s::timestamptz, %s::bigint, %s::text, %s::text, %s::int, %s::bigint[], %s::bytea, "
    row += "%s::bytea, %s::bytea, %s::bytea, %s::bytea, %s::jsonb)"
    values = ",".join([row] * len(records))
    table = ServedList._meta.db_table
    columns = "request_id, served_at, user_id, session_id, scenario, policy_id, anchor_ids, item_ids, scores, "
    columns += "propensities, sources, teams, context"
    with connection.cursor() as cursor:
        # Idempotent without a unique index (the table has none: see migration 0011): flushers take turns on this
        # lock for the rest of their transaction, so the NOT EXISTS below sees every list another one wrote.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dragonrec.served_lists_write'))")
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM (VALUES {values}) AS v({columns}) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS l WHERE l.request_id = v.request_id "
            "AND l.served_at = v.served_at)",
            rows,
        )
        written: int = cursor.rowcount
    return written
