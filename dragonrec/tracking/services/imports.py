"""The CSV import of events (`tracking_import`, the ../shared/data format)."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dragonrec.tracking.models import Event, EventType
from dragonrec.tracking.services.events import product_model
from dragonrec.tracking.signals import events_recorded
from dragonrec.tracking.state import events_state_changed
from dragonrec.tracking.validation import (
    bad_text_error,
    event_limits,
    oldest_allowed,
    rating_problem,
    timestamp_problem,
)

IMPORT_BATCH = 5000  # rows per bulk insert in tracking_import (~0.3 s each on the embedded server)
IMPORT_NAMESPACE = uuid.UUID("6f2d7c1e-8a52-4c3b-9d4e-2b1f0c9a7e11")  # event ids for imported rows: uuid5(ns, row)


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
