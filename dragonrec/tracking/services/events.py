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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any

import msgspec
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
    budgets_take_all,
    rate_budget,
    shopper_ident_for,
)
from dragonrec.tracking.identity import shopper_key, signed_in_user_id
from dragonrec.tracking.models import Event, EventType
from dragonrec.tracking.signals import events_recorded
from dragonrec.tracking.state import events_state_changed, shopper_state_changed
from dragonrec.tracking.validation import (
    MAX_CONTEXT_BYTES,
    WellFormedEvent,
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
EVENT_TYPES = frozenset(EventType.values)  # `EventType.values` builds a new list on every access


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
    write_first: bool = True,
) -> list[EventResult]:
    """Store a batch of events; one result per item, in order.

    Items that refer to unknown products, carry a timestamp outside the allowed window, a value or quantity out
    of bounds, a currency other than the product's, or have no owner (neither a user nor a session id) are
    rejected with a reason; a replayed id is a duplicate (never a second row). With a `budget`, the new valid
    items are then counted against the event limits in order, and those past a limit are rejected naming it;
    when none fits the event-rate limits, `EventLimitExceeded` is raised and nothing is stored. The granted rest is
    stored by one statement, so a batch is never half-written. `write_first=False`: the exact way only (the
    caller's own write of this batch was refused a moment ago).
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
    if write_first and not connection.in_atomic_block and not any("currency" in (i.context or {}) for i in items):
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


class Lane(Enum):
    """Where `events_record_well_formed` left a batch."""

    STORED = "stored"  # written whole: every item accepted
    USUAL = "usual"  # not for the fast lane: nothing written, nothing counted; `events_record` decides it
    EXACT = "exact"  # its write was refused (a stored id, an unknown product): nothing written, nothing counted;
    # `events_record(write_first=False)` decides it


# Batches per lane since the process started: what an operator (and a test) reads to see the fast lane taken.
lane_counts: Counter[str] = Counter()


def events_record_well_formed(
    *,
    items: Sequence[WellFormedEvent],
    user: Any | None = None,
    budget: EventBudget | None = None,
    session_id: str | None = None,
) -> Lane:
    """Store a well-formed API batch (tracking.validation.WellFormedEvent, decoded in C) whose every item would
    be accepted, with the per-event Python cut to a few operations: the checks are made over the whole batch
    (the earliest and latest timestamp, the largest quantity and value), the limits are counted as one total per
    counter (one per shopper and scope, `budgets_take_all`), the COPY lines are one f-string each, the shoppers'
    state is bumped once per shopper. `session_id`: every item's (a browser's cookie), else each item's own.

    Anything `events_record` would answer other than "accepted" for every item (a bad item, a repeated id, a
    stated currency, a limit without room for the whole batch, a stored id or unknown product refused by the
    COPY's own checks) leaves the batch unwritten and uncounted, and the Lane returned says which way decides it,
    with its per-item results. Autocommit only, as the usual way's write-first (a deferred foreign key inside a
    caller's transaction would be checked too late to reject an item)."""
    if connection.in_atomic_block:
        return _lane(Lane.USUAL)
    now = timezone.now()
    limits = event_limits()
    user_id = signed_in_user_id(user)
    values = [None if e.value is None else Decimal(e.value) for e in items]
    named = {e.session_id for e in items}
    ids = msgspec.to_builtins([e.id for e in items])  # canonical text, in C (UUID's own hash and str are Python)
    sessions = named if session_id is None else {session_id}
    if (
        (user_id is None and "" in sessions)  # nobody to own the event
        or any(s != s.strip() for s in sessions)  # the serializer trims it (the usual way stores it trimmed)
        or len(set(ids)) != len(items)  # a repeated id
        or _well_formed_problem(items, values, now=now, limits=limits)
    ):
        return _lane(Lane.USUAL)
    contexts = ["{}"] * len(items)  # COPY text of each context: the usual item's is empty
    depth = int(getattr(settings, "DRAGONREC_MAX_JSON_DEPTH", 32)) - 3  # the body, its list and the item
    for index, event in enumerate(items):
        context = event.context
        if not context:
            continue
        text = _json_text(context)
        # 3x: json.dumps (what the serializer measures) writes at most 3 characters per byte of orjson's compact
        # UTF-8 (12 for a 4-byte character, ", " for ","); a context's nesting is at most its brackets
        if "currency" in context or 3 * len(text) > MAX_CONTEXT_BYTES or text.count("{") + text.count("[") > depth:
            return _lane(Lane.USUAL)
        contexts[index] = copy_escape(text)
    # what only searches and impressions must carry (their context), and a product for every other type
    special = [e for e in items if e.product_id is None or e.type in PRODUCTLESS_TYPES]
    if any(_kind_error(e.type, product_id=e.product_id, context=e.context) for e in special):
        return _lane(Lane.USUAL)
    source = "api"
    received = now.isoformat()
    user = COPY_NULL if user_id is None else str(user_id)
    tail = f"\t{source}\t{received}\n"
    owner = {s: copy_escape(s if session_id is None else session_id) for s in named}
    stamps = msgspec.to_builtins([e.timestamp for e in items])  # RFC 3339 text, in C

    def lines() -> Iterator[str]:
        """The COPY's lines in chunks, made as the COPY sends them: PostgreSQL inserts the first rows while the
        rest are formatted (a 500-event batch's lines took ~0.5 ms to format before the first was sent)."""
        for start in range(0, len(items), _COPY_CHUNK):
            end = start + _COPY_CHUNK
            yield "".join(
                [
                    f"{uid}\t{e.type}\t{user}\t{owner[e.session_id]}\t"
                    f"{COPY_NULL if e.product_id is None else e.product_id}\t{e.quantity}\t{e.value or COPY_NULL}\t"
                    f"{stamp or received}\t{context}{tail}"
                    for e, uid, stamp, context in zip(
                        items[start:end], ids[start:end], stamps[start:end], contexts[start:end], strict=True
                    )
                ]
            )

    stored = _stored_events(user_id=user_id, session_id=session_id, source=source, now=now)

    totals: list[Cost] = []  # what meanwhile() counted: given back if the COPY is refused at its end

    def meanwhile() -> list[Event]:
        """While PostgreSQL inserts the rows (sent, not yet committed): the limits, totalled and counted in
        Redis, and the receivers' rows (Python that would otherwise wait before the COPY or after it). A limit
        without room for the whole batch aborts the COPY: nothing stored, nothing counted, and the usual way
        decides item by item."""
        totals.extend(
            _well_formed_costs(items, values, user_id=user_id, session_id=session_id, budget=budget, limits=limits)
        )
        if totals and not budgets_take_all(totals):
            raise _ShortOfBudget
        if not events_recorded.has_listeners(Event):
            return []
        return [stored(e, value) for e, value in zip(items, values, strict=True)]

    try:
        created = copy_text(
            connection.ops.quote_name(Event._meta.db_table), _COPY_COLUMNS, lines(), meanwhile=meanwhile
        )
    except _ShortOfBudget:
        return _lane(Lane.USUAL)
    except IntegrityError:  # found at the COPY's end, after the limits counted the batch: given back
        budgets_give_back([totals])
        return _lane(Lane.EXACT)
    keys = {shopper_key(user_id=user_id, session_id="")} if user_id else set()
    keys.update(shopper_key(user_id=None, session_id=s if session_id is None else session_id) for s in sessions)
    # what events_state_changed would bump for these rows, once per shopper; new rows only, so the stale cached
    # states need no DEL (their versions no longer match)
    shopper_state_changed(keys, forget=False)
    if created:
        events_recorded.send(sender=Event, events=created, source=source)  # autocommit: the rows are committed
    return _lane(Lane.STORED)


# Rows per chunk of the fast lane's COPY: the first chunk is sent (libpq flushes every 8 KiB, ~60 rows) while the
# next is formatted; small enough that PostgreSQL starts early, large enough that the joins stay few.
_COPY_CHUNK = 100


class _ShortOfBudget(Exception):
    """Raised inside the fast lane's COPY when a limit lacks room for the whole batch: the COPY is aborted."""


def _lane(lane: Lane) -> Lane:
    lane_counts[lane.value] += 1
    return lane


def _well_formed_problem(
    items: Sequence[WellFormedEvent], values: list[Decimal | None], *, now: datetime, limits: dict[str, Any]
) -> bool:
    """Whether any item breaks a bound `_event_error` checks, tested over the batch at once: its earliest and
    latest timestamp, its largest quantity and value (a well-formed value is a plain decimal: finite, not
    negative, at most two places, so only its size can be wrong)."""
    stamps = [e.timestamp for e in items if e.timestamp is not None]
    if stamps:
        oldest = oldest_allowed(now=now, limits=limits, source="api")
        if timestamp_problem(min(stamps), now=now, oldest=oldest, limits=limits) or timestamp_problem(
            max(stamps), now=now, oldest=oldest, limits=limits
        ):
            return True
    if quantity_problem(max([e.quantity for e in items]), limits=limits):
        return True
    priced = [value for value in values if value is not None]
    return bool(priced) and bool(value_problem(max(priced), limits=limits))


def _well_formed_costs(
    items: Sequence[WellFormedEvent],
    values: list[Decimal | None],
    *,
    user_id: int | None,
    session_id: str | None,
    budget: EventBudget | None,
    limits: dict[str, Any],
) -> list[Cost]:
    """What `_events_within_budget` would count for the whole batch, as one total per counter: events per shopper
    and per address, purchases and purchase value (cents) per shopper per hour. Counted by shopper in C
    (Counter), each counter built once."""
    if budget is None:
        return []
    totals: list[Cost] = []
    address = rate_budget("events", "address", budget.address)
    if address is not None:
        totals.append((address, len(items)))
    per_hour, value_per_hour = limits["PURCHASES_PER_HOUR"], limits["PURCHASE_VALUE_PER_HOUR"]
    value_cents = int((Decimal(str(value_per_hour)) / CENT).to_integral_value()) if value_per_hour is not None else 0
    # events per owner counted in C; the rest per shopper (a batch holds a handful) or per purchase. Plain dicts,
    # not Counters: a Counter's first count of a key is a Python call (__missing__), once per shopper and counter
    per_owner = Counter([e.session_id for e in items]) if session_id is None else {session_id: len(items)}
    idents = {owner: shopper_ident_for(user_id=user_id, session_id=owner) for owner in per_owner}  # a hash each
    events: dict[str, int] = {}
    for owner, n in per_owner.items():
        ident = idents[owner]
        events[ident] = events.get(ident, 0) + n  # a user's sessions are one shopper
    purchases: dict[str, int] = {}
    cents: dict[str, int] = {}
    for e, value in zip(items, values, strict=True):
        if e.type != "purchase":
            continue
        ident = idents[e.session_id if session_id is None else session_id]
        purchases[ident] = purchases.get(ident, 0) + 1
        if value:
            cents[ident] = cents.get(ident, 0) + int(value / CENT)
    rate = rate_budget("events", "shopper", "-")  # the rate's limit and period; each shopper's counter below
    for ident, n in events.items():
        if not ident:
            continue
        if rate is not None:
            totals.append((shopper_counter(ident, "events", rate.limit, rate.period), n))
        if ident in purchases:
            if per_hour is not None:
                totals.append((shopper_counter(ident, "purchases", int(per_hour), 3600), purchases[ident]))
            if value_per_hour is not None and cents.get(ident):
                totals.append((shopper_counter(ident, "purchase_value", value_cents, 3600), cents[ident]))
    return totals


def shopper_counter(ident: str, kind: str, limit: int, period: int) -> Budget:
    """A shopper's (`shopper_ident_for`) counter of `kind` ("events", "purchases", "purchase_value"): a field of
    the one key that holds all three (dragonrec.throttling.Budget), whichever way the batch came. Made by tuple's
    own constructor: the named tuple's __new__ is a Python call, and a batch of 100 shoppers makes ~300."""
    return _new_tuple(Budget, (f"shopper:{ident}", limit, period, kind))


_new_tuple = tuple.__new__


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
    stored = _stored_events(user_id=user_id, session_id=None, source=source, now=now)
    created = [stored(item, item.value) for item in events]
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


def _stored_events(
    *, user_id: int | None, session_id: str | None, source: str, now: datetime
) -> Callable[[EventInput | WellFormedEvent, Decimal | None], Event]:
    """What builds a stored row as an Event for the receivers, from its item and its value (a Decimal), as a row
    read back would be but without Model.__init__'s walk over every field's descriptor (a tenth of a 500-event
    batch's Python time went into those instances): each instance and its state filled by one dict display
    (ModelState() and assignments one by one took three times as long). `session_id`: every item's (a browser's
    cookie), else each item's own. Every concrete field of Event is named here (a test checks it): one missing
    would be read back from the database on its first access."""
    alias, new, new_state = connection.alias, Event.__new__, ModelState.__new__

    def stored(e: EventInput | WellFormedEvent, value: Decimal | None) -> Event:
        event, state = new(Event), new_state(ModelState)
        state.__dict__ = {"adding": False, "db": alias}
        event.__dict__ = {
            "_state": state,
            "id": e.id,
            "type": e.type,
            "user_id": user_id,
            "session_id": e.session_id if session_id is None else session_id,
            "product_id": e.product_id,
            "quantity": e.quantity,
            "value": value,
            "timestamp": e.timestamp or now,
            "context": e.context,
            "source": source,
            "received_at": now,
        }
        return event

    return stored


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
    rate = rate_budget("events", "shopper", "-")  # the rate's limit and period; each shopper's counter below
    shopper_rate = (rate.limit, rate.period) if rate is not None else None
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
            events_budget = shopper_counter(shopper, "events", *shopper_rate) if shopper and shopper_rate else None
            known = shoppers[event.session_id] = (shopper, [(b, 1) for b in (events_budget, address_budget) if b])
        shopper, item = known
        if event.type == EventType.PURCHASE and shopper:
            item = list(item)
            if per_hour is not None:
                item.append((shopper_counter(shopper, "purchases", int(per_hour), 3600), 1))
            if value_per_hour is not None and event.value:
                item.append((shopper_counter(shopper, "purchase_value", value_cents, 3600), int(event.value / CENT)))
        costs.append(item)
    refusals = budgets_take(costs)
    if not exact and any(refusal is not None for refusal in refusals):
        budgets_give_back([cost for cost, refusal in zip(costs, refusals, strict=True) if refusal is None])
        return None
    if all(refusal is not None for refusal in refusals) and all(
        _limit_kind(refusal.budget)[0] == "events" for refusal in refusals if refusal is not None
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


def _limit_kind(budget: Budget) -> tuple[str, str]:
    """What an event budget counts and per whom: ("events", "address"), ("purchases", "shopper"), ..."""
    if budget.field:  # a shopper's counter (shopper_counter)
        return budget.field, "shopper"
    kind, who = budget.name.split(":")[:2]
    return kind, who


def _limit_error(refusal: Refusal, *, limits: dict[str, Any]) -> str:
    budget = refusal.budget
    kind, who = _limit_kind(budget)
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
    kind_error = _kind_error(item.type, product_id=item.product_id, context=item.context)
    if kind_error:
        return kind_error
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


def _kind_error(kind: str, *, product_id: int | None, context: dict[str, Any] | None) -> str:
    """What an event of this type must carry: a known type, a product (but for searches and impressions), a
    searched query, a list's request id."""
    if kind not in EVENT_TYPES:
        return f"unknown event type {kind!r}; expected one of {', '.join(EventType.values)}"
    if product_id is None and kind not in PRODUCTLESS_TYPES:
        return f"product_id is required for {kind} events"
    if kind == EventType.IMPRESSION and not _is_uuid((context or {}).get("request_id")):
        return "impression events need context.request_id (the list's request_id from /api/recommendations/)"
    if kind == EventType.SEARCH and not str((context or {}).get("query") or "").strip():
        return "search events need context.query (what the shopper searched for): searches are a signal"
    return ""
