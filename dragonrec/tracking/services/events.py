"""Event ingest: validate a batch item by item, count it against the event limits, store what passes with one
statement. One result per item, in order; a batch is never half-written.

Round trips per batch, whatever its size, as served (autocommit): one Redis script for the limits and one COPY for
the rows, nothing looked up first: the COPY's own checks (the product foreign key, the id's unique index) find an
unknown product or a replayed id, and fail it whole; then what was counted is given back and the batch goes the
exact way: one query for the known products and the ids stored already, the limits, the COPY (an INSERT .. ON
CONFLICT instead only when a concurrent request stored one of the ids in between). Inside a caller's transaction,
or when an item states a currency, the exact way only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from dragonrec.bulk import COPY_NULL, copy_escape, copy_text
from dragonrec.throttling import (
    Budget,
    Cost,
    Refusal,
    budgets_give_back,
    budgets_take,
    rate_budget,
    shopper_ident_for,
)
from dragonrec.tracking.identity import signed_in_user_id
from dragonrec.tracking.models import Event, EventType
from dragonrec.tracking.signals import events_recorded
from dragonrec.tracking.state import events_state_changed
from dragonrec.tracking.validation import (
    currency_problem,
    event_limits,
    oldest_allowed,
    quantity_problem,
    timestamp_problem,
    value_problem,
)

MAX_BATCH = 500  # per POST: a storefront flushes every few seconds; 500 bounds one request's work (~50 ms)

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
CENT = Decimal("0.01")
PRODUCTLESS_TYPES = frozenset({EventType.SEARCH, EventType.IMPRESSION})
EVENT_TYPES = frozenset(EventType.values)
# Event's concrete fields in Django's order, which `events_record` builds its instances by (a test checks it)
EVENT_FIELDS = (
    "id",
    "type",
    "user_id",
    "session_id",
    "product_id",
    "quantity",
    "value",
    "timestamp",
    "context",
    "source",
    "received_at",
)  # `EventType.values` builds a new list on every access


def product_model() -> Any:
    return apps.get_model(settings.DRAGONREC_PRODUCT_MODEL)


@dataclass
class EventInput:
    """One validated event as the API or an import hands it to `events_record`."""

    id: uuid.UUID
    type: str
    product_id: int | None = None  # absent from the API item for `search` events
    session_id: str = ""
    timestamp: datetime | None = None
    quantity: int = 1
    value: Decimal | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class EventResult:
    id: str
    status: str
    error: str = ""

    def as_dict(self) -> dict[str, str]:
        data = {"id": self.id, "status": self.status}
        if self.error:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class EventBudget:
    """Count this batch against the event limits: events per shopper and per client `address` (REST_FRAMEWORK's
    "events.shopper" / "events.address" rates, counted per event, not per request) and purchases and purchase
    value per shopper per hour (DRAGONREC_EVENT_LIMITS). The API passes one; imports and internal callers don't."""

    address: str = ""


class EventLimitExceeded(Exception):
    """Nothing of the batch fits the event-rate limits: the API answers 429 with Retry-After, and stores nothing."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("no event of the batch fits the event rate limit (per shopper or per address)")
        self.retry_after = retry_after


def events_record(
    *,
    items: Sequence[EventInput],
    user: Any | None = None,
    source: str = "api",
    budget: EventBudget | None = None,
) -> list[EventResult]:
    """Store a batch of events; one result per item, in order.

    Items that refer to unknown products, carry a timestamp outside the allowed window, a value or quantity out
    of bounds, a currency other than the product's, or have no owner (neither a user nor a session id) are
    rejected with a reason; a replayed id is a duplicate (never a second row). With a `budget`, the new valid
    items are then counted against the event limits in order, and those past a limit are rejected naming it;
    when none fits the event-rate limits, `EventLimitExceeded` is raised and nothing is stored. The granted rest is
    stored by one statement, so a batch is never half-written.
    """
    if not items:
        return []
    now = timezone.now()
    limits = event_limits()
    oldest = oldest_allowed(now=now, limits=limits, source="import" if source == "import" else "api")
    user_id = signed_in_user_id(user)
    check = partial(_checked, items, user_id=user_id, now=now, oldest=oldest, limits=limits)
    counted = partial(_events_within_budget, user_id=user_id, limits=limits)
    costs: dict[uuid.UUID, Sequence[Cost]] = {}
    if not connection.in_atomic_block and not any("currency" in (item.context or {}) for item in items):
        # The usual batch, written without a lookup first: every product is taken as known and every id as new.
        # The COPY's own checks decide (an unknown product fails the event's product foreign key at the COPY's
        # commit, a stored id its unique index: it is one transaction, in autocommit, so either fails it whole);
        # then, or when the limits cut the batch short, what was counted is given back and the batch goes the
        # exact way below. Only in autocommit: inside a caller's transaction the deferred foreign key would be
        # checked at the caller's commit, too late to reject the item.
        results, to_create = check(existing=set(), currencies=ANY_PRODUCT)
        granted = counted(to_create, results, budget=budget, exact=False) if to_create and budget else (to_create, {})
        if granted is not None:
            to_create, costs = granted
            if not to_create or _events_copy(to_create, user_id=user_id, source=source, now=now):
                _announce(to_create, user_id=user_id, source=source, now=now)
                return results
            budgets_give_back(list(costs.values()))
    # The exact way: one query for the known products and the ids stored already, then the limits, then the write.
    currencies, existing = _known(
        product_ids={i.product_id for i in items if i.product_id is not None}, event_ids=[i.id for i in items]
    )
    results, to_create = check(existing=existing, currencies=currencies)
    if to_create and budget is not None:
        to_create, costs = counted(to_create, results, budget=budget, exact=True) or ([], {})
    if to_create:
        skipped = _events_insert_new(to_create, user_id=user_id, source=source, now=now)
        if skipped:
            # A concurrent request stored some of these ids between our check and the insert: those are
            # duplicates, and only the rows this insert created are announced; their counted limits are given back.
            for result in results:
                if result.status == ACCEPTED and uuid.UUID(result.id) in skipped:
                    result.status = DUPLICATE
            to_create = [item for item in to_create if item.id not in skipped]
            budgets_give_back([costs[i] for i in skipped if i in costs])
    _announce(to_create, user_id=user_id, source=source, now=now)
    return results


class _AnyProduct(dict[int, str | None]):
    """Every product id is known, its currency unknown (None): the checks of the batch written without a lookup."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: int) -> None:
        return None


ANY_PRODUCT = _AnyProduct()


def _announce(events: list[EventInput], *, user_id: int | None, source: str, now: datetime) -> None:
    """After the write: the shoppers' cached state is bumped, and the receivers hear of the stored rows."""
    if not events:
        return
    alias = connection.alias
    created = [
        _stored_event(
            (
                item.id,
                item.type,
                user_id,
                item.session_id,
                item.product_id,
                item.quantity,
                item.value,
                item.timestamp or now,
                item.context,
                source,
                now,
            ),
            alias,
        )
        for item in events
    ]
    events_state_changed(created)  # the shoppers' cached state (tracking/state.py)
    # immediately in autocommit (the INSERT was its own transaction), after the caller's commit inside one
    transaction.on_commit(lambda: events_recorded.send(sender=Event, events=created, source=source))


def _checked(
    items: Sequence[EventInput],
    *,
    existing: set[uuid.UUID],
    user_id: int | None,
    currencies: dict[int, str | None],
    now: datetime,
    oldest: datetime,
    limits: dict[str, Any],
) -> tuple[list[EventResult], list[EventInput]]:
    """One result per item (rejected with its reason, a duplicate of a stored id or of an earlier item, else
    accepted) and the accepted items, in order."""
    results: list[EventResult] = []
    to_create: list[EventInput] = []
    seen: set[uuid.UUID] = set()
    for item in items:
        key = str(item.id)
        error = _event_error(item, user_id=user_id, currencies=currencies, now=now, oldest=oldest, limits=limits)
        if error:
            results.append(EventResult(key, REJECTED, error))
            continue
        if item.id in existing or item.id in seen:
            results.append(EventResult(key, DUPLICATE))
            continue
        seen.add(item.id)
        to_create.append(item)
        results.append(EventResult(key, ACCEPTED))
    return results, to_create


def _stored_event(values: tuple[Any, ...], alias: str) -> Event:
    """The stored row as an Event, for the receivers, built as a row read back would be (`values` in EVENT_FIELDS
    order) but without Model.__init__'s walk over every field's descriptor: a tenth of a 500-event batch's Python
    time went into those instances."""
    event = Event.__new__(Event)
    event.__dict__.update(zip(EVENT_FIELDS, values, strict=True))
    event._state = ModelState()
    event._state.adding, event._state.db = False, alias
    return event


def _known(*, product_ids: set[int], event_ids: list[uuid.UUID]) -> tuple[dict[int, str | None], set[uuid.UUID]]:
    """One round trip: the currency of each known product (None where the product model has no `currency` field)
    and which of `event_ids` are stored already."""
    model = product_model()
    quote = connection.ops.quote_name
    has_currency = any(f.name == "currency" for f in model._meta.concrete_fields)
    currency = quote(model._meta.get_field("currency").column) if has_currency else "NULL"
    pk = quote(model._meta.pk.column)
    # The arrays travel as their text forms ('{1,2}'), cast in SQL: the driver's client-side binding would spell
    # out each element in Python (a batch's 500 ids cost more than the query). bigint also matches an integer key
    # (a cross-type comparison the key's index serves).
    sql = (
        f"SELECT {pk}, {currency}::text, NULL::uuid FROM {quote(model._meta.db_table)} "
        f"WHERE {pk} = ANY(%s::bigint[]) "
        f"UNION ALL SELECT NULL, NULL, id FROM {quote(Event._meta.db_table)} WHERE id = ANY(%s::uuid[])"
    )
    currencies: dict[int, str | None] = {}
    existing: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        cursor.execute(sql, [_array_text(product_ids), _array_text(event_ids)])
        for product_id, product_currency, event_id in cursor.fetchall():
            if event_id is None:
                currencies[int(product_id)] = product_currency
            else:
                existing.add(event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(str(event_id)))
    return currencies, existing


def _array_text(values: Iterable[int | uuid.UUID]) -> str:
    """PostgreSQL's text form of an array of integers or UUIDs (neither needs quoting)."""
    return "{" + ",".join(map(str, values)) + "}"


def _events_within_budget(
    events: list[EventInput],
    results: list[EventResult],
    *,
    user_id: int | None,
    budget: EventBudget,
    limits: dict[str, Any],
    exact: bool = True,
) -> tuple[list[EventInput], dict[uuid.UUID, Sequence[Cost]]] | None:
    """The events that fit the limits (one Redis round trip for the batch) and what each was counted for; the
    others' results become rejections naming the limit. Raises EventLimitExceeded when none fits because of the
    event-rate limits. Not `exact` (the stored ids were not looked up, so a replayed id may be among `events`):
    when any event is refused, what was counted is given back and None returned, so that the caller decides
    again knowing which are duplicates (a replay never uses budget, nor is it refused for lack of it)."""
    address_budget = rate_budget("events", "address", budget.address)
    per_hour, value_per_hour = limits["PURCHASES_PER_HOUR"], limits["PURCHASE_VALUE_PER_HOUR"]
    value_cents = int((Decimal(str(value_per_hour)) / CENT).to_integral_value()) if value_per_hour is not None else 0
    costs: list[list[Cost]] = []
    # A batch is a handful of shoppers: each one's costs are built once and shared by its items (the script reads
    # them, nothing writes them).
    shoppers: dict[str, tuple[str, list[Cost]]] = {}  # by session id (the batch has one user at most)
    for event in events:
        known = shoppers.get(event.session_id)
        if known is None:
            shopper = shopper_ident_for(user_id=user_id, session_id=event.session_id)  # a hash: once per shopper
            known = shoppers[event.session_id] = (
                shopper,
                [(b, 1) for b in (rate_budget("events", "shopper", shopper), address_budget) if b],
            )
        shopper, item = known
        if event.type == EventType.PURCHASE and shopper:
            item = list(item)
            if per_hour is not None:
                item.append((Budget(f"purchases:shopper:{shopper}", int(per_hour), 3600), 1))
            if value_per_hour is not None and event.value:
                item.append((Budget(f"purchase_value:shopper:{shopper}", value_cents, 3600), int(event.value / CENT)))
        costs.append(item)
    refusals = budgets_take(costs)
    if not exact and any(refusal is not None for refusal in refusals):
        budgets_give_back([cost for cost, refusal in zip(costs, refusals, strict=True) if refusal is None])
        return None
    if all(refusal is not None for refusal in refusals) and all(
        refusal.budget.name.startswith("events:") for refusal in refusals if refusal is not None
    ):
        raise EventLimitExceeded(min(refusal.retry_after for refusal in refusals if refusal is not None))
    by_id = {result.id: result for result in results}
    kept: list[EventInput] = []
    counted: dict[uuid.UUID, Sequence[Cost]] = {}
    for event, cost, refusal in zip(events, costs, refusals, strict=True):
        if refusal is None:
            kept.append(event)
            counted[event.id] = cost
            continue
        result = by_id[str(event.id)]
        result.status, result.error = REJECTED, _limit_error(refusal, limits=limits)
    return kept, counted


def _limit_error(refusal: Refusal, *, limits: dict[str, Any]) -> str:
    budget = refusal.budget
    kind, who = budget.name.split(":")[:2]
    if kind == "purchases":
        return (
            f"over the purchase limit: at most {budget.limit} purchases per shopper per hour "
            "(DRAGONREC_EVENT_LIMITS['PURCHASES_PER_HOUR'])"
        )
    if kind == "purchase_value":
        return (
            f"over the purchase value limit: at most {limits['PURCHASE_VALUE_PER_HOUR']} per shopper per hour "
            "(DRAGONREC_EVENT_LIMITS['PURCHASE_VALUE_PER_HOUR'])"
        )
    return (
        f"over the event rate limit: at most {budget.limit} events per {budget.period} s per {who} "
        f"(events.{who}); the window resets in {refusal.retry_after} s"
    )


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return False
    return value is not None


# The insert's columns and their SQL types: the batch travels as ONE JSON text parameter read back by
# json_to_recordset. Passed as eleven arrays, the driver's client-side binding spelled out every element in Python
# (a third of a 500-event batch); one string is escaped in C, and PostgreSQL parses the JSON faster than that.
_COLUMNS: list[tuple[str, str]] = [
    ("id", "uuid"),
    ("type", "text"),
    ("user_id", "bigint"),
    ("session_id", "text"),
    ("product_id", "bigint"),
    ("quantity", "integer"),
    ("value", "numeric"),
    ("timestamp", "timestamptz"),
    ("context", "jsonb"),
    ("source", "text"),
    ("received_at", "timestamptz"),
]


_COPY_COLUMNS = ", ".join(f'"{column}"' for column, _ in _COLUMNS)


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column, _ in _COLUMNS)
    typed = ", ".join(f"{quote(column)} {kind}" for column, kind in _COLUMNS)
    return (
        f"WITH batch AS (SELECT * FROM json_to_recordset(%s::json) AS t({typed})), "
        f"created AS (INSERT INTO {quote(Event._meta.db_table)} ({columns}) SELECT {columns} FROM batch "
        "ON CONFLICT (id) DO NOTHING RETURNING id) "
        "SELECT batch.id FROM batch WHERE NOT EXISTS (SELECT 1 FROM created WHERE created.id = batch.id)"
    )


def _events_insert_new(events: list[EventInput], *, user_id: int | None, source: str, now: datetime) -> set[uuid.UUID]:
    """Store `events`, whose ids `_known` found new a moment ago; returns the ids it did NOT create (empty but for a
    race). One COPY; a concurrent request that stored one of these ids meanwhile fails it whole, and then
    `_events_insert_skipping` sorts out which ids were taken. The unique index decides either way: a second
    writer of an id waits for the first's commit."""
    if _events_copy(events, user_id=user_id, source=source, now=now):
        return set()
    return _events_insert_skipping(events, user_id=user_id, source=source, now=now)


def _events_copy(events: list[EventInput], *, user_id: int | None, source: str, now: datetime) -> bool:
    """Store `events` by one COPY (a 500-event batch's write costs what a raw COPY of its rows costs, about half of
    the INSERT .. json_to_recordset below); True when stored. It stores every row or none: False, nothing stored,
    when any row broke a constraint (a stored id, an unknown product; in a savepoint when the caller holds a
    transaction, which stays usable)."""
    received = now.isoformat()
    user = COPY_NULL if user_id is None else str(user_id)
    tail = f"\t{copy_escape(source)}\t{received}\n"
    # ids as 32 hex digits, which PostgreSQL's uuid input takes as the hyphenated form: a quarter of UUID.__str__'s cost
    lines = [
        f"{e.id.hex}\t{copy_escape(e.type)}\t{user}\t{copy_escape(e.session_id)}\t"
        f"{COPY_NULL if e.product_id is None else e.product_id}\t{e.quantity}\t"
        f"{COPY_NULL if e.value is None else e.value}\t"
        f"{received if e.timestamp is None else e.timestamp.isoformat()}\t{copy_escape(_json_text(e.context))}{tail}"
        for e in events
    ]
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            copy_text(connection.ops.quote_name(Event._meta.db_table), _COPY_COLUMNS, "".join(lines))
    except IntegrityError:
        return False
    return True


def _json_text(value: Any) -> str:
    """JSON text of a context: orjson (a twentieth of the json module's time); the json module for what orjson
    refuses (an integer beyond 64 bits, a key that is not a string), with `str` for other Python values alike."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=str)


def _events_insert_skipping(
    events: list[EventInput], *, user_id: int | None, source: str, now: datetime
) -> set[uuid.UUID]:
    """INSERT .. SELECT FROM json_to_recordset(..) ON CONFLICT (id) DO NOTHING; returns the ids it did NOT create.
    `bulk_create` with `ignore_conflicts` cannot say which rows it skipped, and a check-then-insert lets two
    concurrent requests both answer `accepted` for one id; the unique index decides instead (a second inserter
    waits for the first's commit, then skips). One statement: the batch is stored whole or not at all."""
    received = now.isoformat()
    rows = [
        {
            "id": str(e.id),
            "type": e.type,
            "user_id": user_id,
            "session_id": e.session_id,
            "product_id": e.product_id,
            "quantity": e.quantity,
            "value": None if e.value is None else str(e.value),
            "timestamp": received if e.timestamp is None else e.timestamp.isoformat(),
            "context": e.context,
            "source": source,
            "received_at": received,
        }
        for e in events
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), [json.dumps(rows, separators=(",", ":"), default=str)])
        return {value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)) for (value,) in cursor.fetchall()}


def _event_error(
    item: EventInput,
    *,
    user_id: int | None,
    currencies: dict[int, str | None],
    now: datetime,
    oldest: datetime,
    limits: dict[str, Any],
) -> str:
    if item.type not in EVENT_TYPES:
        return f"unknown event type {item.type!r}; expected one of {', '.join(EventType.values)}"
    if item.product_id is None and item.type not in PRODUCTLESS_TYPES:
        return f"product_id is required for {item.type} events"
    if item.type == EventType.IMPRESSION and not _is_uuid((item.context or {}).get("request_id")):
        return "impression events need context.request_id (the list's request_id from /api/recommendations/)"
    if item.type == EventType.SEARCH and not str((item.context or {}).get("query") or "").strip():
        return "search events need context.query (what the shopper searched for): searches are a signal"
    if item.product_id is not None and item.product_id not in currencies:
        return f"unknown product {item.product_id}"
    if user_id is None and not item.session_id:
        return "session_id is required for anonymous events"
    return (
        timestamp_problem(item.timestamp, now=now, oldest=oldest, limits=limits)
        or quantity_problem(item.quantity, limits=limits)
        or value_problem(item.value, limits=limits)
        or (currency_problem(item.context, currencies[item.product_id]) if item.product_id is not None else "")
    )
