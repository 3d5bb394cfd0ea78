"""`dragonrec_generate`: the structure a load test relies on (a category tree, price bands, skewed popularity, a
purchase funnel with cross-category co-purchases), deterministic by seed, at a small size (a few seconds)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from statistics import median

import pytest
from django.core.management import call_command

from dragonrec.catalog.models import Category, Product
from dragonrec.tracking.generate import shop_generate
from dragonrec.tracking.models import Event

pytestmark = pytest.mark.django_db

END = datetime(2026, 12, 1, tzinfo=UTC)


def _events(seed: int) -> list[tuple[str, str, str, str, object]]:
    rows = Event.objects.filter(source="generated", session_id__startswith=f"gen{seed}-")
    return sorted((str(e.id), e.type, e.session_id, e.product.sku, e.value) for e in rows.select_related("product"))


def test_a_generated_shop_has_a_tree_price_bands_skewed_popularity_and_a_purchase_funnel() -> None:
    report = shop_generate(products=2000, shoppers=1500, events=20_000, seed=3, end=END)

    assert report.products == 2000 and report.events == 20_000
    assert Event.objects.filter(source="generated").count() == 20_000
    # a tree: departments > aisles > leaves, products in leaves only
    leaves = Category.objects.filter(depth=2)
    assert Category.objects.filter(depth=0).count() == 12 and leaves.count() == 240
    assert set(Product.objects.values_list("category__depth", flat=True)) == {2}
    assert Product.objects.values("category").distinct().count() > 150
    # price bands: leaves differ by far more than products within a leaf
    prices: dict[int, list[float]] = {}
    for category, price in Product.objects.values_list("category", "price"):
        prices.setdefault(category, []).append(float(price))
    medians = sorted(median(p) for p in prices.values() if len(p) >= 5)
    assert medians[-1] / medians[0] > 20
    spreads = [sorted(p)[int(0.9 * len(p))] / sorted(p)[int(0.1 * len(p))] for p in prices.values() if len(p) >= 20]
    assert median(spreads) < 4
    # power-law popularity: the top 1% of products get a large share of the views (uniform would give 1%)
    views = Counter(Event.objects.filter(type="view").values_list("product_id", flat=True))
    top = sum(count for _, count in views.most_common(20))
    assert top / sum(views.values()) > 0.2
    # the funnel: views > carts > purchases, and every purchase was carted earlier in the same session
    types = Counter(Event.objects.values_list("type", flat=True))
    assert types["view"] > 3 * types["add_to_cart"] > 0 and types["add_to_cart"] > types["purchase"] > 0
    carts = {
        (s, p): t
        for s, p, t in Event.objects.filter(type="add_to_cart").values_list("session_id", "product", "timestamp")
    }
    purchases = list(Event.objects.filter(type="purchase").values_list("session_id", "product", "timestamp", "value"))
    assert all((s, p) in carts and carts[s, p] < t and v > 0 for s, p, t, v in purchases)
    # cross-category co-purchases: sessions buying in two departments
    bought: dict[str, set[str]] = {}
    for session, path in Event.objects.filter(type="purchase").values_list("session_id", "product__category__path"):
        bought.setdefault(session, set()).add(path.split(" > ")[0])
    assert sum(len(departments) >= 2 for departments in bought.values()) > 50


def test_the_same_seed_gives_the_same_shop() -> None:
    shop_generate(products=300, shoppers=200, events=3000, seed=5, end=END)
    first = _events(5)
    Event.objects.all().delete()
    Product.objects.all().delete()
    shop_generate(products=300, shoppers=200, events=3000, seed=5, end=END)
    assert _events(5) == first
    shop_generate(products=300, shoppers=200, events=3000, seed=6, end=END)
    assert [row[1:] for row in _events(6)] != [row[1:] for row in first]


def test_the_command_writes_flagged_synthetic_embeddings() -> None:
    from dragonrec.recommender.models import ProductEmbedding
    from dragonrec.recommender.services.embeddings_synthetic import SYNTHETIC_HASH

    call_command("dragonrec_generate", products=200, shoppers=50, events=500, seed=9)

    assert Product.objects.filter(attributes__generated=9).count() == 200
    assert ProductEmbedding.objects.filter(text_hash=SYNTHETIC_HASH).count() == 200
