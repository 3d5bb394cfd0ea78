"""The ORM/pgvector stores against the in-memory ones: serving and evaluation must agree."""

from __future__ import annotations

import threading
import uuid

import numpy as np
import pytest
from django.test import override_settings

from dragonrec.catalog.models import Product
from dragonrec.recommender.services.embeddings import embedder_get
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.recommender.stores import PgVectorIndex, serving_stores
from dragonrec.tracking.models import Event

pytestmark = pytest.mark.django_db


def pgvector_index() -> PgVectorIndex:
    embedder = embedder_get()
    return PgVectorIndex(model_name=embedder.name, dim=embedder.dim)  # no snapshot: always the HNSW index


def test_pgvector_search_keeps_k_rows_under_filters(demo_shop) -> None:  # type: ignore[no-untyped-def]
    # given: a query close to monitors, and most monitors out of stock
    index = pgvector_index()
    monitors = list(Product.objects.filter(category__name="Monitors").values_list("id", flat=True))
    Product.objects.filter(id__in=monitors[:-2]).update(in_stock=False)
    vectors, _ = index.vectors(monitors[:1])
    # when
    rows = index.search(vectors[0], k=20, exclude=monitors[-1:])
    monitor_rows = index.search(vectors[0], k=5, categories=["Electronics > Displays > Monitors"], only_available=False)
    # then: still 20 rows, none unavailable or excluded, best first
    ids = [pid for pid, _ in rows]
    assert len(ids) == 20
    assert not set(ids) & set(monitors[:-2]) and monitors[-1] not in ids
    scores = [s for _, s in rows]
    assert scores == sorted(scores, reverse=True)
    assert len(monitor_rows) == 5 and set(pid for pid, _ in monitor_rows) <= set(monitors)


def test_pgvector_and_in_memory_index_give_the_same_top_10(demo_shop) -> None:  # type: ignore[no-untyped-def]
    _, memory = serving_stores()
    assert memory.in_memory
    database = pgvector_index()
    rng = np.random.default_rng(0)
    ids = list(Product.objects.values_list("id", flat=True))
    for pid in rng.choice(ids, size=25, replace=False):
        query, _ = memory.vectors([int(pid)])
        a = [p for p, _ in memory.search(query[0], k=10, exclude=[int(pid)])]
        b = [p for p, _ in database.search(query[0], k=10, exclude=[int(pid)])]
        assert a == b


def test_served_lists_are_the_same_with_either_index(demo_shop) -> None:  # type: ignore[no-untyped-def]
    sessions = list(Event.objects.exclude(session_id="").values_list("session_id", flat=True).distinct()[:15])
    for session in sessions:
        request_id = uuid.uuid4()  # the same exploration draw for both
        in_memory = recommendation_list(scenario="home", session_id=session, record=False, request_id=request_id)
        with override_settings(RECOMMENDER={"EXACT_SEARCH_MAX_PRODUCTS": 0, "SNAPSHOT_TTL_S": 0}):
            on_pgvector = recommendation_list(scenario="home", session_id=session, record=False, request_id=request_id)
        assert [i.product_id for i in in_memory.items] == [i.product_id for i in on_pgvector.items], session


def test_requests_keep_the_old_snapshot_while_another_thread_refreshes(tiny_shop, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender import stores

    embedder = embedder_get()
    first = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)  # SNAPSHOT_TTL_S is 0 in tests
    kettle = tiny_shop["kettle"]
    kettle.title = "Kettle, renamed"
    kettle.save()
    # another thread is rebuilding (slowly)
    started, release = threading.Event(), threading.Event()

    def slow_refresh(previous):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)
        return previous

    other = threading.Thread(target=stores._snapshots.get, args=(stores.SNAPSHOT_KEY, slow_refresh))
    other.start()
    assert started.wait(10)
    try:
        with django_assert_num_queries(0):
            assert stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim) is first
    finally:
        release.set()
        other.join()
    # the next check sees the change and rebuilds
    refreshed = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
    assert refreshed is not first
    assert refreshed.products.get_many([tiny_shop["kettle"].pk])[tiny_shop["kettle"].pk].title == "Kettle, renamed"


def test_a_trending_refresh_rebuilds_only_the_trend_order(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender import stores
    from dragonrec.recommender.models import TrendingScore

    embedder = embedder_get()
    first = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)  # SNAPSHOT_TTL_S is 0 in tests
    kettle = tiny_shop["kettle"]
    assert first.products.trending(limit=1)[0][0] != kettle.pk
    # when: the trending job writes new scores (nothing else changed)
    TrendingScore.objects.update_or_create(product_id=kettle.pk, defaults={"score": 1e6})
    refreshed = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
    # then: the new order is served, and the products and vectors are the previous snapshot's, not rebuilt
    assert refreshed is not first
    assert refreshed.products.trending(limit=1)[0] == (kettle.pk, 1e6)
    assert refreshed.built == ("trending",)
    assert refreshed.catalog is first.catalog and refreshed.vectors is first.vectors
    assert refreshed.products.complements_part is first.products.complements_part
    # a product change rebuilds what lists products (products, their trend order, the exact index), not complements
    kettle.in_stock = False
    kettle.save()
    changed = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
    assert changed.built == ("products", "trending", "vectors")
    assert kettle.pk not in [pid for pid, _ in changed.products.trending(limit=100)]


def test_a_large_catalog_serves_the_same_from_columns_and_a_shared_vector_file(  # type: ignore[no-untyped-def]
    demo_shop, tmp_path, django_assert_num_queries
) -> None:
    from dragonrec.recommender import stores

    embedder = embedder_get()
    Product.objects.filter(id__in=list(Product.objects.order_by("id").values_list("id", flat=True))[::4]).update(
        in_stock=False
    )
    small, small_index = serving_stores()
    assert not small.snapshot.catalog.lazy and small_index.in_memory
    ids = [*Product.objects.order_by("?").values_list("id", flat=True)[:200], 10**12]  # and an unknown id
    with override_settings(
        RECOMMENDER={"EXACT_SEARCH_MAX_PRODUCTS": 10, "SNAPSHOT_TTL_S": 0, "VECTOR_FILE_DIR": str(tmp_path)}
    ):
        large, large_index = serving_stores()
        # the same snapshot a second time, not even checked (SNAPSHOT_TTL_LARGE_S, while SNAPSHOT_TTL_S is 0): the
        # version query counts a million rows at 1M products
        with django_assert_num_queries(0):
            assert stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim) is large.snapshot
    assert large.snapshot.catalog.lazy and not large_index.in_memory
    assert large.snapshot.index is None and isinstance(large.snapshot.vectors, stores.MappedVectors)
    assert len(list(tmp_path.glob("*.vectors.npy"))) == 1
    # the products a request reads, the trend order (whole and per category) and the vectors agree
    assert large.get_many(ids) == small.get_many(ids) and len(small.get_many(ids)) == 200
    assert large.trending(limit=50) == small.trending(limit=50)
    category = small.get_many(ids[:1])[ids[0]].category
    assert large.trending(limit=20, categories=[category]) == small.trending(limit=20, categories=[category])
    a, a_mask = small_index.vectors(ids)
    b, b_mask = large_index.vectors(ids)
    assert (a_mask == b_mask).all() and a_mask[:-1].all() and not a_mask[-1]
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert [p.id for p in large.snapshot.products.all()] == sorted(p.id for p in small.snapshot.products.all())

    # the search's typo vocabulary, counted by PostgreSQL for a large catalog: the same words
    from dragonrec.recommender.services.search.ranking import catalog_vocabulary

    assert set(catalog_vocabulary(large.snapshot).counts) == set(catalog_vocabulary(small.snapshot).counts)
    # counted once per products version: another process (this one, forgetting its own) reads it from Redis
    from dragonrec.recommender.services.search import ranking

    counted = catalog_vocabulary(large.snapshot).counts
    ranking._vocabularies.clear()
    with django_assert_num_queries(0):
        assert catalog_vocabulary(large.snapshot).counts == counted

    # nearest neighbours from the shared file's inverted index: the exact index's answers, filters included
    def same(x: list[tuple[int, float]], y: list[tuple[int, float]]) -> bool:
        return [p for p, _ in x] == [p for p, _ in y] and np.allclose([v for _, v in x], [v for _, v in y], atol=1e-5)

    for i, pid in enumerate(ids[:20]):
        assert same(large_index.search(a[i], k=10, exclude=[pid]), small_index.search(a[i], k=10, exclude=[pid]))
        wide = {"k": 30, "only_available": False, "categories": [category]}
        assert same(large_index.search(a[i], **wide), small_index.search(a[i], **wide))
        assert len(large_index.search(a[i], k=10)) == 10
    # the same queries again from other shoppers, who exclude other products: the neighbours the search kept
    # answer them, the same as a search of its own (a fresh search that kept nothing yet)
    from dragonrec.recommender.core.stores import VectorFilter

    search = large.snapshot.search
    assert search is not None
    hits = search._neighbours.hits
    for i in range(20):
        seen = [p for p, _ in small_index.search(a[i], k=4)]
        own = stores.LargeCatalogSearch(search.vectors, large.snapshot.catalog).top(a[i], 10, VectorFilter(tuple(seen)))
        assert same(large_index.search(a[i], k=10, exclude=seen), own) and len(own) == 10
    assert search._neighbours.hits == hits + 20


def test_the_8bit_index_answers_as_exact_search_never_returns_a_filtered_product_and_follows_new_vectors(  # type: ignore[no-untyped-def]
    demo_shop, tmp_path, monkeypatch
) -> None:
    from django.utils import timezone

    from dragonrec.recommender import stores
    from dragonrec.recommender.models import ProductEmbedding

    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    gone = set(ids[1::3])  # a third deactivated, the way the admin does it (a new products version)
    Product.objects.filter(id__in=gone).update(is_active=False, updated_at=timezone.now())
    _, small_index = serving_stores()
    settings = {"EXACT_SEARCH_MAX_PRODUCTS": 10, "SNAPSHOT_TTL_S": 0, "SNAPSHOT_TTL_LARGE_S": 0}
    with override_settings(RECOMMENDER={**settings, "VECTOR_FILE_DIR": str(tmp_path)}):
        large, large_index = serving_stores()
        assert large.snapshot.search is not None and len(list(tmp_path.glob("*.sq8.faiss"))) == 1
        queries, _ = small_index.vectors(ids[:40])
        # recall@10 against exact search, the filter included: the default probe reads every group of this
        # catalog, so the float re-rank gives exactly the exact answer
        for query, pid in zip(queries, ids[:40], strict=True):
            exact = [p for p, _ in small_index.search(query, k=10, exclude=[pid])]
            assert [p for p, _ in large_index.search(query, k=10, exclude=[pid])] == exact
        # one group probed (of ~sqrt(n)): the probe widens until k allowed rows came back, none of them filtered
        monkeypatch.setattr(stores.MappedVectors, "NPROBE", 1)
        for query in queries[:10]:
            large.snapshot.search._neighbours.clear()
            found = [p for p, _ in large_index.search(query, k=60)]
            assert len(found) == 60 and not gone & set(found)
            exact = [p for p, _ in small_index.search(query, k=10)]
            assert len(set(found[:10]) & set(exact)) >= 5
        monkeypatch.undo()
        # a product's new vector (re-embedded): a new index beside new vector files, and its search finds it
        moved = ids[0]
        target = np.asarray(queries[5], dtype=np.float32)
        ProductEmbedding.objects.filter(product_id=moved).update(vector=target.tolist(), embedded_at=timezone.now())
        refreshed, refreshed_index = serving_stores()
    assert "vectors" in refreshed.snapshot.built and refreshed.snapshot.vectors is not large.snapshot.vectors
    assert len(list(tmp_path.glob("*.sq8.faiss"))) == 1  # the old version's index removed with its vectors
    assert refreshed_index.search(target, k=1, exclude=[ids[5]])[0][0] == moved


def test_a_category_restricted_search_is_exact_over_the_category_ordered_copy_and_follows_changes(  # type: ignore[no-untyped-def]
    demo_shop, tmp_path
) -> None:
    """Complements search within a category: at a large-catalog setting it reads a category-ordered copy of the
    vectors (a slice per category) and must answer exactly what exact search over the category answers."""
    from django.utils import timezone

    from dragonrec.catalog.models import Category
    from dragonrec.recommender.models import ProductEmbedding

    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    gone = set(ids[1::3])  # a third deactivated (a new products version)
    Product.objects.filter(id__in=gone).update(is_active=False, updated_at=timezone.now())
    _, small_index = serving_stores()
    leaves = list(Product.objects.exclude(category=None).values_list("category__path", flat=True).distinct())
    # every leaf, and each top-level prefix (its subcategories: several paths, one slice or more)
    prefixes = sorted({*leaves, *(p.split(" > ")[0] for p in leaves)})
    assert len(prefixes) >= 3
    settings = {"EXACT_SEARCH_MAX_PRODUCTS": 10, "SNAPSHOT_TTL_S": 0, "SNAPSHOT_TTL_LARGE_S": 0}

    def same(x: list[tuple[int, float]], y: list[tuple[int, float]]) -> bool:
        return [p for p, _ in x] == [p for p, _ in y] and np.allclose([v for _, v in x], [v for _, v in y], atol=1e-5)

    with override_settings(RECOMMENDER={**settings, "VECTOR_FILE_DIR": str(tmp_path)}):
        large, large_index = serving_stores()
        assert large.snapshot.search is not None
        queries, _ = small_index.vectors(ids[:12])
        for query, pid in zip(queries, ids[:12], strict=True):
            for prefix in prefixes:
                for available in (True, False):
                    where = {"k": 15, "exclude": [pid], "categories": [prefix], "only_available": available}
                    found = large_index.search(query, **where)
                    assert found and same(found, small_index.search(query, **where))
                    assert not available or not gone & {p for p, _ in found}
        # two prefixes at once
        where = {"k": 25, "categories": prefixes[:2]}
        assert same(large_index.search(queries[0], **where), small_index.search(queries[0], **where))
        assert len(list(tmp_path.glob("*.order-*.npy"))) == 1  # the category-ordered copy, beside the vectors
        # a category with almost every product deactivated (its few allowed rows read alone, not the whole slice)
        leaf = Category.objects.exclude(products=None).order_by("-id").first()
        assert leaf is not None
        keep = list(leaf.products.filter(is_active=True, in_stock=True).order_by("id").values_list("id", flat=True))
        assert len(keep) >= 2
        leaf.products.exclude(id__in=keep[:1]).update(is_active=False, updated_at=timezone.now())
        _, sparse_index = serving_stores()
        allowed = keep[:1]
        for query in queries:
            found = sparse_index.search(query, k=10, categories=[leaf.path])
            assert [p for p, _ in found] == allowed
            assert np.isclose(found[0][1], float(sparse_index.vectors(allowed)[0][0] @ query), atol=1e-5)
        # a product moved to another category (the same vectors): a new copy in the new order, the old one removed
        moved = ids[0]
        other = Category.objects.exclude(products__id=moved).exclude(products=None).first()
        assert other is not None
        Product.objects.filter(id=moved).update(category=other, updated_at=timezone.now())
        recategorised, recategorised_index = serving_stores()
        assert recategorised.snapshot.vectors is large.snapshot.vectors
        near = {"k": 500, "categories": [other.path], "only_available": False}  # the whole category, every score
        # exact over the category as it is now, by hand: its products' vectors (gathered from the vector file)
        members = list(Product.objects.filter(category=other).order_by("id").values_list("id", flat=True))
        assert moved in members
        vectors, _ = recategorised_index.vectors(members)
        for query in queries:
            scores = vectors @ query
            exact = [(members[i], float(scores[i])) for i in np.lexsort((members, -scores))]
            assert same(recategorised_index.search(query, **near), exact)
        assert len(list(tmp_path.glob("*.order-*.npy"))) == 1
        # then re-embedded onto another product's vector: new vector files, and the category's search finds it first
        target = np.asarray(queries[6], dtype=np.float32)
        ProductEmbedding.objects.filter(product_id=moved).update(vector=target.tolist(), embedded_at=timezone.now())
        refreshed, refreshed_index = serving_stores()
        assert refreshed.snapshot.search is not large.snapshot.search
        where = {"k": 5, "exclude": [ids[6]], "categories": [other.path], "only_available": False}
        found = refreshed_index.search(target, **where)
    assert found[0][0] == moved
    vectors, _ = refreshed_index.vectors(members)  # exact by hand over the new rows (ids[6] excluded)
    scores = vectors @ target
    exact = [(members[i], float(scores[i])) for i in np.lexsort((members, -scores)) if members[i] != ids[6]]
    assert same(found, exact[:5])
    assert len(list(tmp_path.glob("*.order-*.npy"))) == 1


def test_a_deleted_product_leaves_a_large_table_snapshot_without_counting_its_rows(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from dragonrec.recommender import stores
    from dragonrec.recommender.adapters import product_adapter

    embedder = embedder_get()
    with connection.cursor() as cursor:  # the planner's estimate, as autovacuum keeps it for a real table
        cursor.execute(f"ANALYZE {Product._meta.db_table}")
    with override_settings(RECOMMENDER={"SNAPSHOT_TTL_S": 0, "SNAPSHOT_COUNT_MAX_ROWS": 0}):
        # every table is "large" here: its rows are stood for by PostgreSQL's counters, not counted
        assert stores._snapshot_version(product_adapter(), embedder.name)["products"][0][0] == "changes"
        first = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
        # the least recently updated product: its delete leaves the newest timestamp as it was
        oldest = Product.objects.order_by("updated_at", "pk").first()
        assert oldest is not None and oldest.pk in first.products.get_many([oldest.pk])
        Product.objects.filter(pk=oldest.pk).delete()
        refreshed = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
    assert refreshed is not first and "products" in refreshed.built
    assert refreshed.products.get_many([oldest.pk]) == {}
    assert oldest.pk not in [pid for pid, _ in refreshed.products.trending(limit=100)]


def test_a_large_catalog_builds_products_from_its_columns_without_a_query(  # type: ignore[no-untyped-def]
    tiny_shop, tmp_path, django_assert_num_queries
) -> None:
    from dragonrec.recommender import stores

    embedder = embedder_get()
    # what a column has to carry: no price, a title outside ASCII, a consumable, no brand, no category, inactive
    Product.objects.filter(pk=tiny_shop["coffee"].pk).update(price=None, title="Café crème 1½ L ☕", brand="")
    Product.objects.filter(pk=tiny_shop["kettle"].pk).update(attributes={"consumable": True}, category=None)
    Product.objects.filter(pk=tiny_shop["pan"].pk).update(
        is_active=False, price="12.30", attributes={"size": [28, 1.5], "note": "ünï"}
    )
    ids = [*Product.objects.order_by("-pk").values_list("pk", flat=True), 10**12]  # and an unknown id
    small = stores.products_from_db(ids)
    assert small[tiny_shop["kettle"].pk].consumable and small[tiny_shop["coffee"].pk].price is None
    settings = {"EXACT_SEARCH_MAX_PRODUCTS": 3, "VECTOR_FILE_DIR": str(tmp_path)}
    settings |= {"SNAPSHOT_TTL_S": 0, "SNAPSHOT_TTL_LARGE_S": 0}
    with override_settings(RECOMMENDER=settings):
        large = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
        assert large.catalog.lazy and large.catalog.columnar
        # the same products as the database's, in the order asked, and not one query for them
        with django_assert_num_queries(0):
            served = large.products.get_many(ids)
            assert served == small and list(served) == ids[:-1]
            assert sorted(large.products.all(), key=lambda p: p.id) == sorted(small.values(), key=lambda p: p.id)
        # the API renders them as the serializer renders the database's rows, with no query either
        from dragonrec.catalog.apis import ProductOutputSerializer
        from dragonrec.recommender.selectors import products_rendered

        rows = list(Product.objects.filter(pk__in=ids).select_related("category"))
        expected = {
            p.pk: dict(data) for p, data in zip(rows, ProductOutputSerializer(rows, many=True).data, strict=True)
        }
        assert expected[tiny_shop["kettle"].pk]["category"] == "" and expected[tiny_shop["pan"].pk]["price"] == "12.30"
        large.rendered.clear()
        with django_assert_num_queries(0):
            assert products_rendered(ids[:-1]) == expected
        # an edit shows with the next snapshot (its version changed): the columns are rebuilt, not patched
        mouse = tiny_shop["mouse"]
        mouse.title, mouse.in_stock = "Silent Mouse", False
        mouse.save()
        edited = stores.catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
    assert edited is not large and "products" in edited.built
    served_mouse = edited.products.get_many([mouse.pk])[mouse.pk]
    assert (served_mouse.title, served_mouse.in_stock) == ("Silent Mouse", False)
