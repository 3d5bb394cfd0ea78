"""Beat jobs' writes: trending scores and complements, computed by the same pure functions the evaluation uses
(recommender.core.aggregates) over tracking events, stored in tables that serving reads with one query."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core import aggregates
from dragonrec.recommender.core.types import HistoryEvent, Product
from dragonrec.recommender.models import CategoryComplement, ProductComplement, TrendingScore
from dragonrec.recommender.stores import products_from_db
from dragonrec.tracking.identity import shopper_key
from dragonrec.tracking.selectors import events_since

SESSION_GAP_S = 30 * 60  # a user's events more than 30 minutes apart start a new session (the usual web convention)


@transaction.atomic
def trending_recompute() -> int:
    """Replace the trending table with time-decayed, intent-weighted scores of the last TRENDING_WINDOW_DAYS."""
    s = recommender_settings
    now = timezone.now()
    rows = events_since(since=now - timedelta(days=s.TRENDING_WINDOW_DAYS))
    scores = aggregates.trending_scores(
        ((pid, kind, ts.timestamp()) for pid, kind, ts, _, _ in rows.iterator(chunk_size=5000)),
        now=now.timestamp(),
        half_life_s=float(s.TRENDING_HALF_LIFE_HOURS) * 3600,
        weights=s.EVENT_WEIGHTS,
    )
    products = products_from_db(scores)
    TrendingScore.objects.all().delete()
    TrendingScore.objects.bulk_create(
        [
            TrendingScore(product_id=pid, score=score, category_path=products[pid].category)
            for pid, score in scores.items()
            if pid in products
        ],
        batch_size=2000,
    )
    return len(scores)


def _sessions(rows: list[tuple[int, str, object, int | None, str]]) -> list[list[HistoryEvent]]:
    """Group events into per-shopper sessions split at SESSION_GAP_S of inactivity, oldest first."""
    by_owner: dict[str, list[HistoryEvent]] = defaultdict(list)
    for pid, kind, ts, user_id, session_id in rows:
        owner = shopper_key(user_id=user_id, session_id=session_id)
        by_owner[owner].append(HistoryEvent(product_id=int(pid), event_type=kind, timestamp=ts.timestamp()))  # type: ignore[attr-defined]
    sessions: list[list[HistoryEvent]] = []
    for events in by_owner.values():
        current: list[HistoryEvent] = []
        for event in events:
            if current and event.timestamp - current[-1].timestamp > SESSION_GAP_S:
                sessions.append(current)
                current = []
            current.append(event)
        if current:
            sessions.append(current)
    return sessions


@transaction.atomic
def complements_recompute() -> tuple[int, int]:
    """Recompute product and category complements from co-occurrence in sessions; merchant-entered category
    complements (manual=True) are kept as they are."""
    s = recommender_settings
    rows = list(
        events_since(since=timezone.now() - timedelta(days=s.COMPLEMENTS_WINDOW_DAYS)).iterator(chunk_size=5000)
    )
    sessions = _sessions(rows)
    products: dict[int, Product] = products_from_db({r[0] for r in rows})
    config = aggregates.AggregateConfig(min_count=s.COMPLEMENTS_MIN_COUNT, event_weights=s.EVENT_WEIGHTS)
    pairs = aggregates.item_complements(sessions, products=products, config=config)
    categories = aggregates.category_complements(sessions, products=products, config=config)
    ProductComplement.objects.all().delete()
    ProductComplement.objects.bulk_create(
        [
            ProductComplement(product_id=a, complement_id=b, score=score)
            for a, neighbours in pairs.items()
            for b, score in neighbours
        ],
        batch_size=5000,
    )
    manual = set(CategoryComplement.objects.filter(manual=True).values_list("category_path", "complement_path"))
    CategoryComplement.objects.filter(manual=False).delete()
    CategoryComplement.objects.bulk_create(
        [
            CategoryComplement(category_path=a, complement_path=b, score=score)
            for a, neighbours in categories.items()
            for b, score in neighbours
            if (a, b) not in manual
        ],
        batch_size=5000,
    )
    return sum(len(v) for v in pairs.values()), sum(len(v) for v in categories.values())
