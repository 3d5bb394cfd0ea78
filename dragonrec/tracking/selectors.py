"""Reads of tracking data, shaped for the recommender's history store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from dragonrec.tracking.models import Event, UserPreference

HISTORY_LIMIT = 50  # the student reads the last 50 steps; profiles use fewer


def history_recent(
    *, user_id: int | None = None, session_id: str = "", limit: int = HISTORY_LIMIT
) -> list[tuple[int, str, datetime]]:
    """(product id, event type, timestamp) of the most recent product events, oldest first.

    A logged-in user's history includes the sessions merged into it at login. One indexed query
    (tracking_ev_user_ts / tracking_ev_session_ts), written as SQL because it runs on every recommendation request
    and building it through the ORM cost more than running it (0.76 vs 0.34 ms, measured on the demo).
    """
    if user_id is not None:
        owner, params = "user_id = %s", [user_id]
    elif session_id:
        owner, params = "session_id = %s AND user_id IS NULL", [session_id]
    else:
        return []
    table = connection.ops.quote_name(Event._meta.db_table)
    sql = (
        # the table name comes from the model; every value is a bound parameter
        f"SELECT product_id, type, timestamp FROM {table} "
        f"WHERE {owner} AND product_id IS NOT NULL ORDER BY timestamp DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = [(int(pid), str(kind), ts) for pid, kind, ts in cursor.fetchall()]
    rows.reverse()
    return rows


def preference_get(*, user: Any) -> UserPreference | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return UserPreference.objects.filter(user=user).first()


def events_since(*, since: datetime, types: tuple[str, ...] | None = None) -> Any:
    """(product id, type, timestamp, user id, session id) of product events since `since`, for the beat jobs."""
    qs = Event.objects.filter(timestamp__gte=since, product__isnull=False)
    if types:
        qs = qs.filter(type__in=types)
    return qs.order_by("timestamp").values_list("product_id", "type", "timestamp", "user_id", "session_id")
