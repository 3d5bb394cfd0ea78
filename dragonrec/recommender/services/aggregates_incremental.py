"""Trending and co-purchase complements kept up to date in PostgreSQL from the events received since the last run
(a watermark on `received_at`), so a refresh costs what arrived, not the whole history; `rebuild=True` recomputes
them from the window.

Trending: the same statistic as `core.aggregates.trending_scores` (intent-weighted, halved every
TRENDING_HALF_LIFE_HOURS), stored as sums of w * 2^((t - anchor) / half-life). Those grow with t, so an event adds
its own term and nothing else changes; every stored score is the decayed score at the anchor, i.e. the true score
now times one common factor (order and ratios are exact). Once the anchor is older than REANCHOR_AFTER, one UPDATE
over the trending rows (not the events) moves it to now, which keeps the numbers in range.

Co-purchase: two products carted or bought by the same shopper (user, else anonymous session) within SESSION_GAP_S
of each other. Each event pair is counted once, when the later-received of the two arrives (pairs are ordered by
(received_at, id)), with the strength of `cooccurrence_pmi` (geometric mean of the intents, normalised to the
largest weight); the per-product intent sums are kept beside them. Product complements of the products a refresh
touched are rescored with the same PMI and shrinkage as `core.aggregates` (same-leaf pairs dropped, top
AggregateConfig.top_k kept); category complements are re-aggregated from the pair counts (their size, not the
events'). Pairs older than COMPLEMENTS_WINDOW_DAYS leave with the next rebuild.

Events received in the last WATERMARK_LAG are left to the next run: an ingest statement that read its clock before
the watermark may commit just after it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.aggregates import AggregateConfig
from dragonrec.recommender.models import (
    AggregateWatermark,
    CategoryComplement,
    CoPurchaseCount,
    ProductComplement,
    ProductIntentCount,
    TrendingScore,
)
from dragonrec.recommender.services.aggregates import SESSION_GAP_S
from dragonrec.recommender.stores import products_from_db
from dragonrec.tracking.selectors import events_table

WATERMARK_LAG = timedelta(seconds=5)  # an ingest INSERT is one short statement: it commits within this
REANCHOR_AFTER = timedelta(days=1)  # 2^(1 day / 72 h) = 1.26: the stored scores stay near the true ones
INTENT_TYPES = ("add_to_cart", "purchase")


def _watermark(name: str, *, now: datetime, rebuild: bool) -> tuple[AggregateWatermark, datetime | None]:
    """The locked watermark row (created at the first run) and the `received_at` to read after (None: rebuild)."""
    mark = AggregateWatermark.objects.select_for_update().filter(name=name).first()
    if mark is None:
        mark = AggregateWatermark.objects.create(
            name=name, received_until=now, anchor=now, rebuilt_at=now, refreshed_at=now
        )
        return mark, None
    return mark, None if rebuild else mark.received_until


def _weights(types: tuple[str, ...] | None = None) -> tuple[list[str], list[float], float]:
    weights = recommender_settings.EVENT_WEIGHTS
    chosen = {t: float(w) for t, w in weights.items() if w > 0 and (types is None or t in types)}
    return list(chosen), list(chosen.values()), max(weights.values(), default=1.0) or 1.0


@transaction.atomic
def trending_refresh(*, rebuild: bool = False, now: datetime | None = None) -> int:
    """Add the events received since the last run to the trending scores (all of the window's with `rebuild`);
    returns how many products' scores changed."""
    s = recommender_settings
    now = now or timezone.now()
    until = now - WATERMARK_LAG
    mark, after = _watermark("trending", now=now, rebuild=rebuild)
    half_life_s = float(s.TRENDING_HALF_LIFE_HOURS) * 3600
    table = TrendingScore._meta.db_table
    with connection.cursor() as cursor:
        if after is None:
            cursor.execute(f"DELETE FROM {table}")
            mark.anchor, mark.rebuilt_at = now, now
        elif now - mark.anchor > REANCHOR_AFTER:
            factor = 0.5 ** ((now - mark.anchor).total_seconds() / half_life_s)
            cursor.execute(f"UPDATE {table} SET score = score * %s", [factor])
            mark.anchor = now
        types, weights, _ = _weights()
        cursor.execute(
            f"""SELECT e.product_id, SUM(w.weight * power(2.0, EXTRACT(EPOCH FROM (LEAST(e.timestamp, %s) - %s)) / %s))
            FROM {events_table()} e JOIN unnest(%s::text[], %s::float8[]) AS w(type, weight) ON w.type = e.type
            WHERE e.product_id IS NOT NULL AND e.received_at <= %s
              AND (%s::timestamptz IS NULL OR e.received_at > %s) AND (%s::timestamptz IS NOT NULL OR e.timestamp >= %s)
            GROUP BY e.product_id""",
            [now, mark.anchor, half_life_s, types, weights, until, after, after, after,
             now - timedelta(days=s.TRENDING_WINDOW_DAYS)],
        )  # fmt: skip
        sums = dict(cursor.fetchall())
        products = products_from_db(sums)
        ids = [pid for pid in sums if pid in products]
        cursor.execute(
            f"""INSERT INTO {table} (product_id, score, category_path, computed_at)
            SELECT id, score, path, %s FROM unnest(%s::bigint[], %s::float8[], %s::text[]) AS t(id, score, path)
            ON CONFLICT (product_id) DO UPDATE SET score = {table}.score + EXCLUDED.score,
                category_path = EXCLUDED.category_path, computed_at = EXCLUDED.computed_at""",
            [now, ids, [float(sums[pid]) for pid in ids], [products[pid].category for pid in ids]],
        )
    mark.received_until, mark.refreshed_at = until, now
    mark.save()
    return len(ids)


# Each new intent event with the same shopper's intent events within the gap that were received before it (or at
# the same time with a smaller id): every pair once. Two halves, so each uses its own index (user / session).
_PAIRS_SQL = """
WITH w(type, weight) AS (SELECT * FROM unnest(%(types)s::text[], %(weights)s::float8[])),
new AS (
    SELECT e.id, e.product_id, e.timestamp, e.received_at, e.user_id, e.session_id, w.weight
    FROM {events} e JOIN w ON w.type = e.type
    WHERE e.product_id IS NOT NULL AND e.received_at <= %(until)s
      AND (%(after)s::timestamptz IS NULL OR e.received_at > %(after)s)
      AND (%(after)s::timestamptz IS NOT NULL OR e.timestamp >= %(since)s)
),
intent AS (
    INSERT INTO {intent} (product_id, weight)
    SELECT product_id, SUM(weight) / %(max_weight)s FROM new GROUP BY product_id
    ON CONFLICT (product_id) DO UPDATE SET weight = {intent}.weight + EXCLUDED.weight
),
pairs AS (
    SELECT n.product_id AS p, o.product_id AS q, sqrt(n.weight * w.weight) / %(max_weight)s AS strength
    FROM new n JOIN {events} o ON o.user_id = n.user_id JOIN w ON w.type = o.type
    WHERE n.user_id IS NOT NULL AND o.timestamp BETWEEN n.timestamp - %(gap)s AND n.timestamp + %(gap)s
      AND o.product_id <> n.product_id AND o.received_at <= %(until)s AND (o.received_at, o.id) < (n.received_at, n.id)
    UNION ALL
    SELECT n.product_id, o.product_id, sqrt(n.weight * w.weight) / %(max_weight)s
    FROM new n JOIN {events} o ON o.session_id = n.session_id AND o.user_id IS NULL JOIN w ON w.type = o.type
    WHERE n.user_id IS NULL AND n.session_id <> ''
      AND o.timestamp BETWEEN n.timestamp - %(gap)s AND n.timestamp + %(gap)s
      AND o.product_id <> n.product_id AND o.received_at <= %(until)s AND (o.received_at, o.id) < (n.received_at, n.id)
),
counted AS (
    INSERT INTO {pairs} (product_a_id, product_b_id, weight, pairs)
    SELECT LEAST(p, q), GREATEST(p, q), SUM(strength), COUNT(*) FROM pairs GROUP BY LEAST(p, q), GREATEST(p, q)
    ON CONFLICT (product_a_id, product_b_id) DO UPDATE
        SET weight = {pairs}.weight + EXCLUDED.weight, pairs = {pairs}.pairs + EXCLUDED.pairs
    RETURNING product_a_id, product_b_id
)
SELECT (SELECT COALESCE(SUM(weight), 0) / %(max_weight)s FROM new), ARRAY(
    SELECT DISTINCT x FROM (SELECT product_a_id FROM counted UNION ALL SELECT product_b_id FROM counted) AS t(x)
)
"""


@transaction.atomic
def copurchase_refresh(*, rebuild: bool = False, now: datetime | None = None) -> tuple[int, int]:
    """Count the co-purchases among the events received since the last run (the window's with `rebuild`), rescore
    the complements of the products they touched and the category complements; returns (products rescored,
    category pairs)."""
    s = recommender_settings
    now = now or timezone.now()
    until = now - WATERMARK_LAG
    mark, after = _watermark("copurchase", now=now, rebuild=rebuild)
    if after is None:
        CoPurchaseCount.objects.all().delete()
        ProductIntentCount.objects.all().delete()
        ProductComplement.objects.all().delete()
        mark.events, mark.rebuilt_at = 0.0, now
    types, weights, max_weight = _weights(INTENT_TYPES)
    sql = _PAIRS_SQL.format(
        events=events_table(),
        intent=ProductIntentCount._meta.db_table,
        pairs=CoPurchaseCount._meta.db_table,
    )
    params: dict[str, Any] = {
        "types": types,
        "weights": weights,
        "max_weight": max_weight,
        "until": until,
        "after": after,
        "since": now - timedelta(days=s.COMPLEMENTS_WINDOW_DAYS),
        "gap": timedelta(seconds=SESSION_GAP_S),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        new_weight, touched = cursor.fetchone()
    mark.events += float(new_weight)
    mark.received_until, mark.refreshed_at = until, now
    mark.save()
    rescored = _product_complements_rescore(list(touched), total=mark.events)
    return rescored, _category_complements_rescore(total=mark.events)


def _pmi(count: float, pairs: int, a: float, b: float, total: float) -> float:
    """`cooccurrence_pmi`'s score: PMI shrunk by n / (n + shrinkage); 0 when not positive."""
    if a <= 0 or b <= 0 or count <= 0 or total <= 0:
        return 0.0
    pmi = math.log(count * total / (a * b))
    return pmi * pairs / (pairs + AggregateConfig.shrinkage) if pmi > 0 else 0.0


def _product_complements_rescore(touched: list[int], *, total: float) -> int:
    if not touched:
        return 0
    min_count = recommender_settings.COMPLEMENTS_MIN_COUNT
    pairs_of = CoPurchaseCount.objects.filter(pairs__gte=min_count)
    # two indexed lookups (an OR of the two columns would scan the whole pair table)
    rows = {
        row
        for side in ("product_a__in", "product_b__in")
        for row in pairs_of.filter(**{side: touched}).values_list("product_a", "product_b", "weight", "pairs")
    }
    links: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
    for a, b, weight, pairs in rows:
        links[a].append((b, weight, pairs))
        links[b].append((a, weight, pairs))
    ids = set(links) | {q for items in links.values() for q, _, _ in items}
    intent = dict(ProductIntentCount.objects.filter(product__in=ids).values_list("product", "weight"))
    products = products_from_db(ids)
    fresh: list[ProductComplement] = []
    for p in touched:
        leaf = products[p].category if p in products else ""
        scored = [
            (q, _pmi(weight, pairs, intent.get(p, 0.0), intent.get(q, 0.0), total))
            for q, weight, pairs in links.get(p, [])
            if q in products and not (leaf and products[q].category == leaf)  # same leaf: substitutes
        ]
        best = sorted((item for item in scored if item[1] > 0), key=lambda item: (-item[1], item[0]))
        fresh += [
            ProductComplement(product_id=p, complement_id=q, score=score) for q, score in best[: AggregateConfig.top_k]
        ]
    ProductComplement.objects.filter(product__in=touched).delete()
    ProductComplement.objects.bulk_create(fresh, batch_size=5000)
    return len(touched)


def _category_complements_rescore(*, total: float) -> int:
    """Category pairs from the product pair counts, aggregated in the database (one GROUP BY over the pairs)."""
    path = product_adapter().category_path_field
    counts = CoPurchaseCount.objects.values(a=F(f"product_a__{path}"), b=F(f"product_b__{path}")).annotate(
        weight=Sum("weight"), pairs=Sum("pairs")
    )
    intent = dict(
        ProductIntentCount.objects.values(c=F(f"product__{path}")).annotate(w=Sum("weight")).values_list("c", "w")
    )
    # product pairs are stored (smaller id, larger id): a category pair shows up in both orders; add them up
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in counts:
        a, b = row["a"], row["b"]
        if a and b and a != b:  # min_count applies to the category pair's total, below
            total_ab = totals[min(a, b), max(a, b)]
            total_ab[0] += row["weight"]
            total_ab[1] += row["pairs"]
    neighbours: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (a, b), (weight, pairs) in totals.items():
        if pairs < recommender_settings.COMPLEMENTS_MIN_COUNT:
            continue
        score = _pmi(weight, int(pairs), intent.get(a, 0.0), intent.get(b, 0.0), total)
        if score > 0:
            neighbours[a].append((b, score))
            neighbours[b].append((a, score))
    merged = {
        (a, b): score
        for a, items in neighbours.items()
        for b, score in sorted(items, key=lambda item: (-item[1], item[0]))[: AggregateConfig.category_top_k]
    }
    manual = set(CategoryComplement.objects.filter(manual=True).values_list("category_path", "complement_path"))
    CategoryComplement.objects.filter(manual=False).delete()
    CategoryComplement.objects.bulk_create(
        [
            CategoryComplement(category_path=a, complement_path=b, score=score)
            for (a, b), score in merged.items()
            if (a, b) not in manual
        ],
        batch_size=5000,
    )
    return len(merged)
