"""Turning what shoppers did after seeing a list into its outcomes (models.ServedOutcome): clicks, carts, purchases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from dragonrec.recommender.models import ServedList, ServedOutcome
from dragonrec.tracking.selectors import clicks_since, events_table

ATTRIBUTION_WINDOW = timedelta(days=1)  # a cart/purchase within a day of a click on the item is credited to it


def clicks_attribute(*, events: list[Any]) -> int:
    """Mark the impression items that tracked clicks (context.request_id + position) refer to, when the list was
    served to the same shopper: their user, or their (non-empty) session. Without that check, anyone who saw a
    request id could credit clicks to another shopper's list and steer what the models learn. One UPDATE for the
    whole batch (it ran inside the ingest request, one statement per click); an item clicked twice keeps the first
    click's time."""
    clicks: list[tuple[uuid.UUID, int, int | None, int | None, str, Any]] = []
    for event in events:
        if event.type != "click" or not isinstance(event.context, dict):
            continue
        try:
            request_id = uuid.UUID(str(event.context.get("request_id")))
            position = int(event.context.get("position", ""))  # missing: a ValueError, as any bad value
        except (TypeError, ValueError):
            continue
        if not -(2**15) <= position < 2**15:  # no such position (a smallint column): nothing to credit
            continue
        if event.user_id or event.session_id:
            clicks.append((request_id, position, event.product_id, event.user_id, event.session_id, event.timestamp))
    if not clicks:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_CLICK_SQL.format(**_tables()), [list(column) for column in zip(*clicks, strict=True)])
        updated: int = cursor.rowcount
        return updated


# One outcome row per clicked item of a served list of the same shopper: the item at that position must be the
# clicked product; the key includes the kind, so a later click of the same item does nothing.
_CLICK_SQL = """
INSERT INTO {outcomes} (request_id, served_at, position, kind, at)
SELECT DISTINCT ON (c.request_id, c.position) c.request_id, l.served_at, c.position, 1, c.at
FROM unnest(%s::uuid[], %s::int[], %s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[])
    AS c(request_id, position, product_id, user_id, session_id, at)
JOIN {lists} AS l ON l.request_id = c.request_id AND dragonrec_item_at(l.item_ids, c.position) = c.product_id
    AND ((c.user_id IS NOT NULL AND l.user_id = c.user_id) OR (c.session_id <> '' AND l.session_id = c.session_id))
ORDER BY c.request_id, c.position, c.at
ON CONFLICT DO NOTHING
"""


def clicks_attribute_since(*, start: datetime, request_ids: list[str] | None = None) -> int:
    """Attribute again the clicks since `start` that name a served list (all of them, or those of `request_ids`);
    idempotent. For clicks that arrived while their list was still in the impression buffer."""
    return clicks_attribute(events=clicks_since(start=start, request_ids=request_ids))


def clicks_attribute_recent(*, since: timedelta = timedelta(hours=1)) -> int:
    """The rewards job's sweep: a click that raced the flush of its list is credited here."""
    return clicks_attribute_since(start=timezone.now() - since)


def rewards_attribute(*, since: timedelta = timedelta(days=2)) -> int:
    """Credit add-to-cart and purchase events to clicked impression items of the same shopper and product, within
    ATTRIBUTION_WINDOW of the click. Two set-based statements (carts, then purchases) whatever the traffic: the
    first matching event's time is written, items already credited are left alone; idempotent."""
    start = timezone.now() - since
    updated = 0
    for kind, event_type in ((ServedOutcome.Kind.CART, "add_to_cart"), (ServedOutcome.Kind.PURCHASE, "purchase")):
        with connection.cursor() as cursor:
            # psycopg sends a timedelta as an interval; django-stubs' parameter type leaves timedelta out.
            params = [int(kind), event_type, ATTRIBUTION_WINDOW, start]
            cursor.execute(_REWARD_SQL.format(**_tables()), params)  # type: ignore[arg-type]
            updated += cursor.rowcount
    return updated


def _tables() -> dict[str, str]:
    return {
        "lists": ServedList._meta.db_table,
        "outcomes": ServedOutcome._meta.db_table,
        "events": events_table(),
    }


# A cart/purchase outcome for a clicked item of a served list, from the first matching event of the list's owner:
# its user when it had one, else its anonymous session (events of that session made before sign-in; after sign-in
# they were merged to the user and the list keeps the session).
_REWARD_SQL = """
INSERT INTO {outcomes} (request_id, served_at, position, kind, at)
SELECT o.request_id, o.served_at, o.position, %s, MIN(e.timestamp)
FROM {outcomes} AS o
JOIN {lists} AS l ON l.request_id = o.request_id AND l.served_at = o.served_at
JOIN {events} AS e ON e.product_id = dragonrec_item_at(l.item_ids, o.position) AND e.type = %s
    AND e.timestamp >= o.at AND e.timestamp <= o.at + %s
    AND (
        (l.user_id IS NOT NULL AND e.user_id = l.user_id)
        OR (l.user_id IS NULL AND l.session_id <> '' AND e.session_id = l.session_id)
    )
WHERE o.kind = 1 AND o.at >= %s
GROUP BY o.request_id, o.served_at, o.position
ON CONFLICT DO NOTHING
"""


# Per served list `l` (a ServedList row), its outcome counts and the value of its attributed purchases (the purchase
# event of the item's product at the credited time; the storefront sends price x quantity), as `out.clicks`,
# `out.carts`, `out.purchases`, `out.revenue`: one definition for experiment results and the dashboard.
LIST_OUTCOMES_JOIN = """
LEFT JOIN LATERAL (
    SELECT COUNT(*) FILTER (WHERE o.kind = 1) AS clicks, COUNT(*) FILTER (WHERE o.kind = 2) AS carts,
        COUNT(*) FILTER (WHERE o.kind = 3) AS purchases, COALESCE(SUM(buy.value), 0) AS revenue
    FROM {outcomes} AS o
    LEFT JOIN LATERAL (
        SELECT COALESCE(e.value, 0) AS value FROM {events} AS e
        WHERE o.kind = 3 AND e.type = 'purchase' AND e.product_id = dragonrec_item_at(l.item_ids, o.position)
            AND e.timestamp = o.at
        LIMIT 1
    ) AS buy ON TRUE
    WHERE o.request_id = l.request_id AND o.served_at = l.served_at
) AS out ON TRUE
"""


def list_outcomes_join() -> str:
    return LIST_OUTCOMES_JOIN.format(outcomes=ServedOutcome._meta.db_table, events=events_table())
