from __future__ import annotations

from dataclasses import replace

from dragonrec.recommender.core.candidates import (
    ComplementSource,
    EmbeddingSource,
    SimilarToAnchorSource,
    TrendingSource,
)
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.types import PURCHASE, Context, HistoryEvent, Preferences, Product
from tests.recommender.core.synthetic_shop import make_products, make_sessions, make_shop


def test_embedding_source_finds_the_users_area_and_skips_bought_durables() -> None:
    shop = make_shop()
    shoe = shop.in_category("Sports > Running > Shoes")[0]
    source = EmbeddingSource(products=shop.store, index=shop.index, embedder=shop.embedder)

    found = source.candidates(Context(history=[HistoryEvent(shoe, PURCHASE, 0.0)]), k=3)

    assert len(found) == 3 and all(c.source == "embedding" for c in found)
    assert shoe not in {c.product_id for c in found}
    assert shop.category_of(found[0].product_id) == "Sports > Running > Shoes"


def test_trending_source_follows_stated_categories() -> None:
    shop = make_shop()
    source = TrendingSource(products=shop.store, index=shop.index)
    prefs = Preferences(categories=("Home > Kitchen",))

    found = source.candidates(Context(preferences=prefs), k=4)

    assert found and all(shop.category_of(c.product_id).startswith("Home > Kitchen") for c in found)


def test_complement_source_reaches_a_brand_new_product_through_its_category() -> None:
    # given: a new phone case nobody has bought yet, close in text to the phone being viewed
    products = make_products()
    sessions = make_sessions(products)
    new_case = Product(id=len(products), title="Galaxy phone case wallet", category="Electronics > Phone Cases")
    shop = make_shop(products=[*products, new_case], sessions=sessions)
    galaxy = shop.id("Galaxy phone 128GB")
    source = ComplementSource(products=shop.store, index=shop.index, per_anchor=2, per_category=3)

    # when
    found = [c.product_id for c in source.candidates(Context(scenario="product", anchor_ids=[galaxy]), k=20)]

    # then: learned complements come first, the new case is reachable, no other phone is proposed
    assert shop.category_of(found[0]) in {"Electronics > Phone Cases", "Electronics > Chargers"}
    assert new_case.id in found
    assert all(shop.category_of(pid) != "Electronics > Phones" for pid in found)


def test_similar_source_returns_neighbours_of_the_anchor_not_the_anchor() -> None:
    shop = make_shop()
    kettle = shop.id("Electric kettle steel")
    source = SimilarToAnchorSource(products=shop.store, index=shop.index)

    found = [c.product_id for c in source.candidates(Context(anchor_ids=[kettle]), k=2)]

    assert kettle not in found
    assert all(shop.category_of(pid) == "Home > Kitchen > Kettles" for pid in found)
    assert source.candidates(Context(), k=5) == []


def test_out_of_stock_products_are_not_proposed() -> None:
    shop = make_shop()
    tea = shop.in_category("Home > Kitchen > Tea")
    products = [replace(p, in_stock=False) if p.id == tea[0] else p for p in shop.products]
    store = InMemoryProductStore(products, trending={tea[0]: 100.0})
    index = InMemoryVectorIndex([p.id for p in products], shop.index.matrix, products=products)

    trending = TrendingSource(products=store, index=index).candidates(Context(), k=50)
    similar = SimilarToAnchorSource(products=store, index=index).candidates(Context(anchor_ids=[tea[1]]), k=50)

    assert tea[0] not in {c.product_id for c in trending + similar}
