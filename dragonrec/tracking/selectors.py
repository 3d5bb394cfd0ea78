"""Reads of tracking data, shaped for the recommender: its history store, training data, rewards and reports all
read events through here (tests/test_tracking_boundary.py holds the recommender to it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max, Min, Q, QuerySet

from dragonrec.tracking.identity import signed_in
from dragonrec.tracking.models import Event, ShopperErasure, UserPreference

HISTORY_LIMIT = 50  # the student reads the last 50 steps; profiles use fewer


def history_recent(
    *, user_id: int | None = None, session_id: str = "", limit: int = HISTORY_LIMIT
) -> list[tuple[int, str, datetime]]:
    """(product id, event type, timestamp) of the most recent product events, oldest first.

    A logged-in user's history includes the sessions merged into it at login. One indexed query
    (tracking_ev_user_ts / tracking_ev_session_ts), written as SQL because it runs on every recommendation request
    and building it through the ORM cost more than running it (0.76 vs 0.34 ms, measured on the demo).
    """
    params: list[int | str]
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


# What a served list was made from, read back for exports (the compact served-list storage keeps no history per
# list): each shopper's most recent product events before the list's serving time, all lists of a page in one
# statement. The two owner branches each use their index (dragonrec_ev_user_ts / dragonrec_ev_session_ts).
_HISTORIES_SQL = """
SELECT l.ord, h.product_id, h.type
FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) WITH ORDINALITY AS l(user_id, session_id, before, ord)
CROSS JOIN LATERAL (
    (SELECT e.product_id, e.type, e.timestamp FROM {events} AS e
     WHERE l.user_id IS NOT NULL AND e.user_id = l.user_id AND e.product_id IS NOT NULL AND e.timestamp < l.before
     ORDER BY e.timestamp DESC LIMIT %s)
    UNION ALL
    (SELECT e.product_id, e.type, e.timestamp FROM {events} AS e
     WHERE l.user_id IS NULL AND l.session_id <> '' AND e.session_id = l.session_id AND e.user_id IS NULL
        AND e.product_id IS NOT NULL AND e.timestamp < l.before
     ORDER BY e.timestamp DESC LIMIT %s)
) AS h
ORDER BY l.ord, h.timestamp
"""


def histories_before(
    shoppers: list[tuple[int | None, str, datetime]], *, limit: int = HISTORY_LIMIT
) -> list[list[tuple[int, str]]]:
    """For each (user id, session id, time): the shopper's last `limit` product events before that time, oldest
    first, as (product id, event type); one statement for all of them."""
    if not shoppers:
        return []
    out: list[list[tuple[int, str]]] = [[] for _ in shoppers]
    users, sessions, times = (list(column) for column in zip(*shoppers, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_HISTORIES_SQL.format(events=events_table()), [users, sessions, times, limit, limit])
        for ordinal, product_id, kind in cursor.fetchall():
            out[int(ordinal) - 1].append((int(product_id), str(kind)))
    return out


def preference_get(*, user: Any | None = None, session_id: str = "") -> UserPreference | None:
    """The signed-in user's stated preferences, else the anonymous session's."""
    if signed_in(user) is not None:
        return UserPreference.objects.filter(user=user).first()
    if session_id:
        return UserPreference.objects.filter(user__isnull=True, session_id=session_id).first()
    return None


def erased_key_hashes() -> set[str]:
    """Hashes of the shopper keys whose data was erased (`identity.shopper_key_hash`): training data skips them.
    Erasures are rare, so the whole set is small enough to load per training run."""
    return set(ShopperErasure.objects.values_list("key_hash", flat=True))


def shopper_tracking_export(*, user_id: int | None, session_id: str) -> dict[str, Any]:
    """A shopper's events and stated preferences as JSON-able data (the user's, plus the anonymous session's rows
    that belong to no user)."""
    from django.db.models import Q

    owner = Q(pk__in=[])
    if user_id:
        owner |= Q(user_id=user_id)
    if session_id:
        # anonymous rows only: a signed-in shopper's rows carry the browser's id too, and are the account's
        owner |= Q(session_id=session_id, user__isnull=True)
    events = [
        {
            "id": str(row["id"]),
            "type": row["type"],
            "product_id": row["product_id"],
            "session_id": row["session_id"],
            "timestamp": row["timestamp"].isoformat(),
            "quantity": row["quantity"],
            "value": str(row["value"]) if row["value"] is not None else None,
            "context": row["context"],
        }
        for row in Event.objects.filter(owner)
        .order_by("timestamp")
        .values("id", "type", "product_id", "session_id", "timestamp", "quantity", "value", "context")
        .iterator(chunk_size=2000)
    ]
    prefs = []
    pref_owner = Q(pk__in=[])
    if user_id:
        pref_owner |= Q(user_id=user_id)
    if session_id:
        pref_owner |= Q(user__isnull=True, session_id=session_id)
    for pref in UserPreference.objects.filter(pref_owner):
        prefs.append(
            {
                "categories": pref.categories,
                "brands": pref.brands,
                "price_min": str(pref.price_min) if pref.price_min is not None else None,
                "price_max": str(pref.price_max) if pref.price_max is not None else None,
                "updated_at": pref.updated_at.isoformat(),
            }
        )
    return {"events": events, "preferences": prefs}


def events_since(*, since: datetime, types: tuple[str, ...] | None = None) -> Any:
    """(product id, type, timestamp, user id, session id) of product events since `since`, for the beat jobs."""
    qs = Event.objects.filter(timestamp__gte=since, product__isnull=False)
    if types:
        qs = qs.filter(type__in=types)
    return qs.order_by("timestamp").values_list("product_id", "type", "timestamp", "user_id", "session_id")


def events_table() -> str:
    """The events table's name, for the recommender's set-based SQL that joins events to served lists (rewards,
    experiment results, the dashboard): one statement whatever the traffic, instead of a query per row."""
    return Event._meta.db_table


def product_events(*, received_until: datetime | None = None) -> Iterator[tuple[int | None, str, int, str, datetime]]:
    """(user id, session id, product id, type, timestamp) of every product event, oldest first (ties in the order
    received); with `received_until`, only the events received by then. Streamed: a training run reads them all."""
    events = Event.objects.filter(product__isnull=False)
    if received_until is not None:
        events = events.filter(received_at__lte=received_until)
    rows = events.order_by("timestamp", "received_at").values_list(
        "user_id", "session_id", "product_id", "type", "timestamp"
    )
    return rows.iterator(chunk_size=10_000)


def events_span() -> dict[str, datetime | None]:
    """The first and last event timestamps and the last time an event was received (None without events)."""
    return Event.objects.aggregate(first=Min("timestamp"), last=Max("timestamp"), received=Max("received_at"))


def clicks_since(*, start: datetime, request_ids: list[str] | None = None) -> list[Event]:
    """Click events since `start` that name a served list (any, or one of `request_ids`), with the fields click
    attribution reads."""
    clicks = Event.objects.filter(type="click", timestamp__gte=start)
    if request_ids is None:
        clicks = clicks.filter(context__has_key="request_id")
    else:
        clicks = clicks.filter(context__request_id__in=request_ids)
    clicks = clicks.only("type", "context", "product_id", "timestamp", "user_id", "session_id")
    return list(clicks.iterator(chunk_size=1000))


def product_events_received_after(*, since: datetime) -> bool:
    """Whether any product event was received after `since` (one EXISTS: the hourly update's "anything new?")."""
    return Event.objects.filter(received_at__gt=since, product__isnull=False).exists()


def recent_shoppers(*, since: datetime, until: datetime, limit: int) -> tuple[set[int], set[str]]:
    """(user ids, anonymous session ids) of the `limit` shoppers whose last product event was received most
    recently in (since, until]."""
    recent = (
        Event.objects.filter(received_at__gt=since, received_at__lte=until, product__isnull=False)
        .values("user_id", "session_id")
        .annotate(last=Max("received_at"))
        .order_by("-last")[:limit]
    )
    users = {row["user_id"] for row in recent if row["user_id"]}
    sessions = {row["session_id"] for row in recent if not row["user_id"] and row["session_id"]}
    return users, sessions


def shoppers_product_events(
    *, user_ids: set[int], session_ids: set[str], received_until: datetime
) -> Iterator[tuple[int | None, str, int, str, datetime, datetime]]:
    """(user id, session id, product id, type, timestamp, received at) of these shoppers' product events received
    by `received_until`, oldest first. Streamed."""
    who = Q(user_id__in=user_ids) | Q(user_id__isnull=True, session_id__in=session_ids)
    rows = (
        Event.objects.filter(who, received_at__lte=received_until, product__isnull=False)
        .order_by("timestamp", "received_at")
        .values_list("user_id", "session_id", "product_id", "type", "timestamp", "received_at")
    )
    return rows.iterator(chunk_size=10_000)


def events_before(*, before: datetime) -> QuerySet[Event]:
    """Events that happened before `before` (the retention job deletes them in batches)."""
    return Event.objects.filter(timestamp__lt=before)
