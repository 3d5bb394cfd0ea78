"""Writes of tracking data: event ingestion (API and import), session merge on login, preferences, API keys and
the erasure of a shopper's tracking data."""

from __future__ import annotations

import csv
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dragonrec.throttling import Budget, Cost, Refusal, budgets_take, rate_budget, shopper_ident_for
from dragonrec.tracking.identity import (
    cookie_rotate,
    presented_session_id,
    shopper_key,
    shopper_key_hash,
    signed_in,
    signed_in_user_id,
)
from dragonrec.tracking.models import ApiKey, Event, EventType, ShopperErasure, UserPreference
from dragonrec.tracking.signals import events_recorded, session_merged
from dragonrec.tracking.state import events_state_changed, shopper_state_changed
from dragonrec.tracking.validation import (
    bad_text_error,
    currency_problem,
    event_limits,
    oldest_allowed,
    quantity_problem,
    rating_problem,
    timestamp_problem,
    value_problem,
)

MAX_BATCH = 500  # per POST: a storefront flushes every few seconds; 500 bounds one request's work (~50 ms)
IMPORT_BATCH = 5000  # rows per bulk insert in tracking_import (~0.3 s each on the embedded server)
IMPORT_NAMESPACE = uuid.UUID("6f2d7c1e-8a52-4c3b-9d4e-2b1f0c9a7e11")  # event ids for imported rows: uuid5(ns, row)

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"


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


CENT = Decimal("0.01")


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
    stored in one transaction, so a batch is never half-written.
    """
    now = timezone.now()
    limits = event_limits()
    oldest = oldest_allowed(now=now, limits=limits, source="import" if source == "import" else "api")
    user_id = signed_in_user_id(user)
    product_ids = {i.product_id for i in items if i.product_id is not None}
    currencies = _product_currencies(product_ids)
    existing = set(Event.objects.filter(id__in=[i.id for i in items]).values_list("id", flat=True))

    results: list[EventResult] = []
    to_create: list[Event] = []
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
        to_create.append(
            Event(
                id=item.id,
                type=item.type,
                user_id=user_id,
                session_id=item.session_id,
                product_id=item.product_id,
                quantity=item.quantity,
                value=item.value,
                timestamp=item.timestamp or now,
                context=item.context,
                source=source,
            )
        )
        results.append(EventResult(key, ACCEPTED))
    if to_create and budget is not None:
        to_create = _events_within_budget(to_create, results, budget=budget, limits=limits)
    if to_create:
        with transaction.atomic():
            inserted = _events_insert_new(to_create)
            if len(inserted) < len(to_create):
                # A concurrent request stored some of these ids between our check and the insert: those are
                # duplicates, and only the rows this insert created are announced.
                for result in results:
                    if result.status == ACCEPTED and uuid.UUID(result.id) not in inserted:
                        result.status = DUPLICATE
                to_create = [event for event in to_create if event.id in inserted]
            created = to_create
            events_state_changed(created)  # the shoppers' cached state (tracking/state.py)
            transaction.on_commit(lambda: events_recorded.send(sender=Event, events=created, source=source))
    return results


def _product_currencies(product_ids: set[int]) -> dict[int, str | None]:
    """Known product id -> its currency (None where the product model has no `currency` field)."""
    manager = product_model()._default_manager.filter(pk__in=product_ids)
    if any(f.name == "currency" for f in product_model()._meta.concrete_fields):
        return {pk: str(currency) for pk, currency in manager.values_list("pk", "currency")}
    return dict.fromkeys(manager.values_list("pk", flat=True))


def _events_within_budget(
    events: list[Event], results: list[EventResult], *, budget: EventBudget, limits: dict[str, Any]
) -> list[Event]:
    """The events that fit the limits (one Redis round trip for the batch); the others' results become rejections
    naming the limit. Raises EventLimitExceeded when none fits because of the event-rate limits."""
    address_budget = rate_budget("events", "address", budget.address)
    per_hour, value_per_hour = limits["PURCHASES_PER_HOUR"], limits["PURCHASE_VALUE_PER_HOUR"]
    costs: list[list[Cost]] = []
    for event in events:
        shopper = shopper_ident_for(user_id=event.user_id, session_id=event.session_id)
        item: list[Cost] = [(b, 1) for b in (rate_budget("events", "shopper", shopper), address_budget) if b]
        if event.type == EventType.PURCHASE and shopper:
            if per_hour is not None:
                item.append((Budget(f"purchases:shopper:{shopper}", int(per_hour), 3600), 1))
            if value_per_hour is not None and event.value:
                cents = int((Decimal(str(value_per_hour)) / CENT).to_integral_value())
                item.append((Budget(f"purchase_value:shopper:{shopper}", cents, 3600), int(event.value / CENT)))
        costs.append(item)
    refusals = budgets_take(costs)
    if all(refusal is not None for refusal in refusals) and all(
        refusal.budget.name.startswith("events:") for refusal in refusals if refusal is not None
    ):
        raise EventLimitExceeded(min(refusal.retry_after for refusal in refusals if refusal is not None))
    by_id = {result.id: result for result in results}
    kept: list[Event] = []
    for event, refusal in zip(events, refusals, strict=True):
        if refusal is None:
            kept.append(event)
            continue
        result = by_id[str(event.id)]
        result.status, result.error = REJECTED, _limit_error(refusal, limits=limits)
    return kept


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


PRODUCTLESS_TYPES = frozenset({EventType.SEARCH, EventType.IMPRESSION})


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return False
    return value is not None


def _events_insert_new(events: list[Event]) -> set[uuid.UUID]:
    """INSERT .. ON CONFLICT (id) DO NOTHING RETURNING id: the ids this statement created. `bulk_create` with
    `ignore_conflicts` cannot say which rows it skipped, and a check-then-insert lets two concurrent requests
    both answer `accepted` for one id; the unique index decides instead (a second inserter waits for the first's
    commit, then skips)."""
    fields = [f for f in Event._meta.concrete_fields]
    # The ignores: a concrete field always has a column; django-stubs types any Field.column as `str | None`.
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)  # type: ignore[arg-type]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for event in events:
        params += [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in fields]
    table = connection.ops.quote_name(Event._meta.db_table)
    pk = connection.ops.quote_name(Event._meta.pk.column)  # type: ignore[arg-type]
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(events))} "
        f"ON CONFLICT ({pk}) DO NOTHING RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
    if item.type not in EventType.values:
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


@transaction.atomic
def session_merge_into_user(*, session_id: str, user: Any) -> int:
    """Attach an anonymous session's events (and stated preferences) to the user who just signed in. The rows are
    re-owned in place, so replays and repeated sign-ins never duplicate anything. Callers pass only the session id
    of the signing-in browser's own signed cookie: merging someone else's session would hand over their history."""
    if not session_id:
        return 0
    count = Event.objects.filter(session_id=session_id, user__isnull=True).update(user=user)
    preference_merge_into_user(session_id=session_id, user=user)
    shopper_state_changed(
        [shopper_key(user_id=user.pk, session_id=""), shopper_key(user_id=None, session_id=session_id)]
    )
    if count:
        transaction.on_commit(lambda: session_merged.send(sender=Event, user=user, session_id=session_id, count=count))
    return count


@transaction.atomic
def shopper_sign_in(*, request: Any, user: Any) -> int:
    """At sign-in (and on the explicit merge endpoint): attach the anonymous history of the shopper cookie this very
    request presented, verified (signed, not retired), to `user`; then retire that id and give the browser a new
    one. Returns the number of events merged.

    Retiring is what makes the merge safe: a copy of the pre-sign-in cookie (a shared computer, a planted cookie)
    can afterwards neither read nor erase what became the account's, and whatever it records later stays anonymous
    under a dead id instead of reaching this account at a later sign-in."""
    session_id = presented_session_id(request)
    if not session_id:
        return 0
    merged = session_merge_into_user(session_id=session_id, user=user)
    cookie_rotate(request)
    return merged


def shopper_sign_out(*, request: Any) -> None:
    """At sign-out: a new anonymous id for the browser, the signed-in one retired (its copies are worth nothing)."""
    cookie_rotate(request)


def _clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


@transaction.atomic
def preference_update(
    *,
    user: Any | None = None,
    session_id: str = "",
    categories: list[str] | None = None,
    brands: list[str] | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
) -> UserPreference:
    """State a shopper's tastes: a signed-in user's, else the anonymous session's."""
    if signed_in(user) is not None:
        pref, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
    elif session_id:
        pref, _ = UserPreference.objects.select_for_update().get_or_create(user=None, session_id=session_id)
    else:
        raise ValueError("preferences need a user or a session id")
    if categories is not None:
        pref.categories = _clean(categories)
    if brands is not None:
        pref.brands = _clean(brands)
    pref.price_min = price_min
    pref.price_max = price_max
    pref.save()
    return pref


def preference_merge_into_user(*, session_id: str, user: Any) -> UserPreference | None:
    """At sign-in: what the visitor just stated comes first, what the account held before is kept after it; a
    price band stated anonymously replaces the account's (it is the more recent wish)."""
    anon = UserPreference.objects.select_for_update().filter(user__isnull=True, session_id=session_id).first()
    if anon is None:
        return None
    mine, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
    mine.categories = _clean([*anon.categories, *mine.categories])
    mine.brands = _clean([*anon.brands, *mine.brands])
    if anon.price_min is not None or anon.price_max is not None:
        mine.price_min, mine.price_max = anon.price_min, anon.price_max
    mine.save()
    anon.delete()
    return mine


# ------------------------------------------------------------------------------------------------ API keys

API_KEY_PREFIX = "drk"  # recognisable in a leaked config file or a secret scanner's rules


def _api_key_hash(secret: str) -> str:
    # a plain SHA-256 is enough: the secret is 256 random bits, not a password that could be guessed
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, name: str, scopes: Sequence[str]) -> tuple[ApiKey, str]:
    """A new key for a server integration; returns the row and the full key, which is never retrievable again."""
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}; expected some of {', '.join(ApiKey.Scope.values)}")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, hashed_key=_api_key_hash(secret), scopes=list(dict.fromkeys(scopes))
    )
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


LAST_USED_RESOLUTION = timedelta(minutes=5)  # one write per key per 5 minutes, not one per request


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """The active key `raw` is, or None (malformed, unknown, revoked)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_key, _api_key_hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# ------------------------------------------------------------------------------------------------ erasure


@dataclass
class TrackingErasure:
    events: int = 0
    preferences: int = 0


@transaction.atomic
def shopper_tracking_erase(*, user_id: int | None, session_id: str, requested_by: str = "shopper") -> TrackingErasure:
    """Delete a shopper's events and preferences (the user's and/or the session's) and record the erasure, so the
    training-data builders leave this shopper out from now on. Bulk deletes: 10,000 events take well under a
    second."""
    result = TrackingErasure()
    keys = []
    if user_id:
        result.events += Event.objects.filter(user_id=user_id).delete()[0]
        result.preferences += UserPreference.objects.filter(user_id=user_id).delete()[0]
        keys.append(shopper_key(user_id=user_id, session_id=""))
    if session_id:
        # the anonymous rows only: a signed-in shopper's events carry their browser's id too, and whoever holds
        # that id (a copied cookie) must not erase the account's data
        result.events += Event.objects.filter(session_id=session_id, user__isnull=True).delete()[0]
        result.preferences += UserPreference.objects.filter(user__isnull=True, session_id=session_id).delete()[0]
        keys.append(shopper_key(user_id=None, session_id=session_id))
    for key in keys:
        ShopperErasure.objects.update_or_create(key_hash=shopper_key_hash(key), defaults={"requested_by": requested_by})
    shopper_state_changed(keys)  # also drops the cached copy of the erased history
    return result


# ------------------------------------------------------------------------------------------------ import


@dataclass
class ImportRowError:
    line: int
    reason: str


@dataclass
class EventImportReport:
    created: int = 0
    duplicates: int = 0
    errors: list[ImportRowError] = field(default_factory=list)
    users_created: int = 0


def _parse_time(raw: str) -> datetime | None:
    raw = raw.strip()
    try:
        # Numbers are unix seconds. The Amazon sets in ../shared/data store each event's position in its user's
        # sequence instead; read as seconds, that still orders every user's history correctly.
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except (OverflowError, OSError):  # "1e300", "-1e20": a number, but no time a calendar has
        return None
    except ValueError:
        try:
            parsed = parse_datetime(raw)
        except ValueError:  # well-formed but impossible ("2026-13-45T00:00:00"): a row error, not a crash
            return None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        return parsed


def _parse_rating(raw: str) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def tracking_import(
    *, path: Path, batch_size: int = IMPORT_BATCH, progress: Callable[[int], None] | None = None
) -> EventImportReport:
    """Load events.csv (`user_id,item_id,event_type,timestamp[,rating]`, the ../shared/data format).

    Users are matched by username and created (without a usable password) when missing; products by sku.
    Event ids are derived from the row, so importing the same file twice adds nothing.
    """
    report = EventImportReport()
    # undecodable bytes become lone surrogates (surrogateescape): a row error below, not an aborted import
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
        reader = csv.DictReader(fh)
        missing = {"user_id", "item_id", "event_type", "timestamp"} - set(reader.fieldnames or [])
        if missing:
            report.errors.append(ImportRowError(1, f"missing columns: {', '.join(sorted(missing))}"))
            return report
        batch: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            if problem := bad_text_error(row):  # PostgreSQL cannot store a NUL or a lone surrogate
                report.errors.append(ImportRowError(reader.line_num, problem))
                continue
            batch.append((reader.line_num, row))
            if len(batch) >= batch_size:
                _import_batch(batch, report)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            _import_batch(batch, report)
            if progress:
                progress(len(batch))
    return report


def _import_batch(batch: list[tuple[int, dict[str, str]]], report: EventImportReport) -> None:
    User = get_user_model()
    skus = {row["item_id"].strip() for _, row in batch if row.get("item_id")}
    products = dict(product_model()._default_manager.filter(sku__in=skus).values_list("sku", "pk"))
    usernames = {row["user_id"].strip() for _, row in batch if row.get("user_id")}
    users = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    new_users = [User(username=name, password="!") for name in usernames - set(users)]  # "!" = unusable password
    # the same timestamp rules as the API, with the import's own past limit (history is what an import is for)
    now, limits = timezone.now(), event_limits()
    oldest = oldest_allowed(now=now, limits=limits, source="import")
    events: list[Event] = []
    for line, row in batch:
        user_key, sku = (row.get("user_id") or "").strip(), (row.get("item_id") or "").strip()
        event_type, when = (row.get("event_type") or "").strip(), _parse_time(row.get("timestamp") or "")
        rating_text = (row.get("rating") or "").strip()
        rating = _parse_rating(rating_text)
        if not user_key:
            report.errors.append(ImportRowError(line, "missing user_id"))
        elif sku not in products:
            report.errors.append(ImportRowError(line, f"unknown product sku {sku!r}"))
        elif event_type not in EventType.values:
            report.errors.append(ImportRowError(line, f"unknown event type {event_type!r}"))
        elif when is None:
            report.errors.append(ImportRowError(line, f"bad timestamp {row.get('timestamp')!r}"))
        elif problem := timestamp_problem(when, now=now, oldest=oldest, limits=limits, source="import"):
            report.errors.append(ImportRowError(line, problem))
        elif rating_text and rating is None:
            report.errors.append(ImportRowError(line, f"bad rating {rating_text!r}"))
        elif rating is not None and (problem := rating_problem(rating)):
            report.errors.append(ImportRowError(line, problem))
        else:
            events.append(
                Event(
                    id=uuid.uuid5(IMPORT_NAMESPACE, f"{user_key}|{sku}|{event_type}|{row['timestamp'].strip()}"),
                    type=event_type,
                    session_id="",
                    product_id=products[sku],
                    timestamp=when,
                    context={"rating": rating} if rating is not None else {},
                    source="import",
                    user_id=users.get(user_key),  # filled below for users created in this batch
                )
            )
            events[-1]._user_key = user_key  # type: ignore[attr-defined]
    with transaction.atomic():
        if new_users:
            User.objects.bulk_create(new_users, ignore_conflicts=True)
            users.update(
                User.objects.filter(username__in=[u.username for u in new_users]).values_list("username", "pk")
            )
            report.users_created += len(new_users)
        for event in events:
            event.user_id = users[event._user_key]  # type: ignore[attr-defined]
        existing = set(Event.objects.filter(id__in=[e.id for e in events]).values_list("id", flat=True))
        fresh = {e.id: e for e in events if e.id not in existing}  # dict: a row repeated in the file counts once
        Event.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
        report.created += len(fresh)
        report.duplicates += len(events) - len(fresh)
        if fresh:
            created = list(fresh.values())
            events_state_changed(created)
            transaction.on_commit(lambda: events_recorded.send(sender=Event, events=created, source="import"))
