"""Incremental trending and co-purchase complements: refreshing from what arrived since the watermark gives what a
rebuild from the whole window gives, counts nothing twice, and trending is the statistic the evaluation uses."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.aggregates import trending_scores
from dragonrec.recommender.models import CategoryComplement, CoPurchaseCount, ProductComplement, TrendingScore
from dragonrec.recommender.services.aggregates_incremental import copurchase_refresh, trending_refresh
from dragonrec.tracking.generate import shop_generate
from dragonrec.tracking.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():  # type: ignore[no-untyped-def]
    """300 products, 6,000 events over the 10 days before `end` (received when they happened)."""
    end = timezone.now() - timedelta(hours=1)
    shop_generate(products=300, shoppers=150, events=6000, seed=11, end=end, days=10)
    return end


def _state() -> tuple[dict[int, float], dict[tuple[int, int], tuple[float, int]], dict[tuple[int, int], float]]:
    trending = dict(TrendingScore.objects.values_list("product_id", "score"))
    top = max(trending.values())
    pairs = {
        (a, b): (w, n)
        for a, b, w, n in CoPurchaseCount.objects.values_list("product_a", "product_b", "weight", "pairs")
    }
    complements = {(p, q): s for p, q, s in ProductComplement.objects.values_list("product", "complement", "score")}
    return {pid: score / top for pid, score in trending.items()}, pairs, complements


def _close(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    def same(x: object, y: object) -> bool:
        if isinstance(x, tuple):
            return all(same(i, j) for i, j in zip(x, y, strict=True))  # type: ignore[arg-type]
        return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)  # type: ignore[arg-type]

    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


def test_refreshing_in_two_steps_gives_what_a_rebuild_gives(shop) -> None:  # type: ignore[no-untyped-def]
    # given: the first refresh sees the events received until 4 days before the end, the second the rest
    middle = shop - timedelta(days=4)
    trending_refresh(now=middle)
    copurchase_refresh(now=middle)
    seen_first = CoPurchaseCount.objects.count()
    first_pairs = _state()[1]
    # when
    changed = trending_refresh(now=shop + timedelta(minutes=1))
    rescored, categories = copurchase_refresh(now=shop + timedelta(minutes=1))
    incremental = _state()
    trending_refresh(now=shop + timedelta(minutes=1), rebuild=True)
    copurchase_refresh(now=shop + timedelta(minutes=1), rebuild=True)
    rebuilt = _state()
    # then
    assert 0 < seen_first < CoPurchaseCount.objects.count() and changed > 0 and rescored > 0 and categories > 0
    assert rebuilt[0] and _close(incremental[0], rebuilt[0])  # trending: exact (up to the common factor)
    assert rebuilt[1] and _close(incremental[1], rebuilt[1])  # pair counts: exact
    # complements: exact for every product the second refresh touched (the others keep their lists until new
    # pairs touch them or the next rebuild: only PMI's global N moved for them)
    touched = {p for pair, counts in incremental[1].items() if first_pairs.get(pair) != counts for p in pair}
    assert len(touched) > 20
    assert _close(
        {k: v for k, v in incremental[2].items() if k[0] in touched},
        {k: v for k, v in rebuilt[2].items() if k[0] in touched},
    )


def test_a_refresh_without_new_events_counts_nothing_twice(shop) -> None:  # type: ignore[no-untyped-def]
    later = shop + timedelta(minutes=1)
    trending_refresh(now=later)
    copurchase_refresh(now=later)
    before = _state()
    trending_refresh(now=later + timedelta(seconds=30))
    copurchase_refresh(now=later + timedelta(seconds=30))
    assert _close(_state()[0], before[0]) and _state()[1] == before[1] and _close(_state()[2], before[2])


def test_trending_is_the_evaluations_statistic_and_complements_cross_categories(shop) -> None:  # type: ignore[no-untyped-def]
    now = shop + timedelta(minutes=1)
    trending_refresh(now=now)
    copurchase_refresh(now=now)
    expected = trending_scores(
        ((e.product_id, e.type, e.timestamp.timestamp()) for e in Event.objects.all()),
        now=now.timestamp(),
        half_life_s=recommender_settings.TRENDING_HALF_LIFE_HOURS * 3600,
        weights=recommender_settings.EVENT_WEIGHTS,
    )
    top = max(expected.values())
    assert _close(_state()[0], {pid: score / top for pid, score in expected.items()})
    # the generator's cross-department purchases come out as complements, never two products of one leaf
    leaf = dict(Event.objects.values_list("product_id", "product__category_id"))
    pairs = list(ProductComplement.objects.values_list("product", "complement"))
    assert len(pairs) > 50 and all(leaf.get(p) != leaf.get(q) for p, q in pairs)
    assert CategoryComplement.objects.filter(manual=False).count() > 10


def test_a_session_split_by_the_watermark_is_counted_once(shop) -> None:  # type: ignore[no-untyped-def]
    # given: one shopper carts and buys A, then (a minute later) carts and buys B; A's events arrive before the
    # first refresh, B's between it and the second
    from dragonrec.catalog.factories import ProductFactory

    a, b = ProductFactory().pk, ProductFactory().pk  # no history of their own
    t0 = shop + timedelta(minutes=2)
    for minute, (kind, product) in enumerate(
        [("add_to_cart", a), ("purchase", a), ("add_to_cart", b), ("purchase", b)]
    ):
        event = Event.objects.create(
            type=kind, product_id=product, session_id="s-split", timestamp=t0 + timedelta(minutes=minute)
        )
        Event.objects.filter(pk=event.pk).update(received_at=event.timestamp)
    # when: refreshes before, between and after (the last one with nothing new)
    for now in (t0 + timedelta(minutes=1, seconds=30), t0 + timedelta(minutes=5), t0 + timedelta(minutes=6)):
        copurchase_refresh(now=now)

    # then: the four cart/purchase pairs of A with B, once each (strengths: 3x3, 3x5, 5x3, 5x5 over the top weight 5)
    def counted() -> tuple[int, float]:
        return CoPurchaseCount.objects.values_list("pairs", "weight").get(product_a=min(a, b), product_b=max(a, b))

    pairs, weight = counted()
    assert pairs == 4
    assert math.isclose(weight, (3 + 2 * math.sqrt(15) + 5) / 5)
    # and a rebuild, which reads all four at once, counts the same
    copurchase_refresh(now=t0 + timedelta(minutes=6), rebuild=True)
    assert counted() == (pairs, weight)
