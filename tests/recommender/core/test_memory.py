from __future__ import annotations

import numpy as np

from dragonrec.recommender.core.memory import InMemoryHistoryStore, InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.types import VIEW, HistoryEvent, Product


def _index() -> tuple[InMemoryVectorIndex, list[Product]]:
    products = [
        Product(id=10, title="a", category="A > X"),
        Product(id=11, title="b", category="A > X", in_stock=False),
        Product(id=12, title="c", category="A > Y"),
        Product(id=13, title="d", category="B"),
        Product(id=14, title="e", category="B", is_active=False),
        Product(id=15, title="f", category="A > Y"),
    ]
    vectors = np.array([[1, 0], [0.99, 0.1], [0.9, 0.3], [0.5, 0.5], [0.8, 0.2], [0, 1]], dtype=np.float32)
    return InMemoryVectorIndex([p.id for p in products], vectors, products=products), products


def test_vector_index_search_orders_by_cosine_and_honours_filters() -> None:
    index, _ = _index()
    query = np.array([1.0, 0.0], dtype=np.float32)

    assert [pid for pid, _ in index.search(query, k=3, only_available=False)] == [10, 11, 14]
    assert [pid for pid, _ in index.search(query, k=3)] == [10, 12, 13]  # 11 out of stock, 14 inactive
    assert [pid for pid, _ in index.search(query, k=3, exclude={10})] == [12, 13, 15]  # still k rows
    assert [pid for pid, _ in index.search(query, k=5, categories=["A"])] == [10, 12, 15]  # prefix "A" matches
    assert index.search(query, k=0) == []


def test_vector_index_vectors_and_similarity_handle_unknown_ids() -> None:
    index, _ = _index()

    matrix, found = index.vectors([10, 99])
    sims = index.similarity(np.array([1.0, 0.0], dtype=np.float32), [10, 99, 15])

    assert found.tolist() == [True, False]
    assert np.allclose(matrix[1], 0.0)
    assert np.allclose(np.linalg.norm(matrix[0]), 1.0)
    assert np.allclose(sims, [1.0, 0.0, 0.0])


def test_product_store_trending_covers_the_available_catalog() -> None:
    _, products = _index()
    store = InMemoryProductStore(products, trending={13: 5.0, 12: 9.0}, complements={10: [(12, 1.0), (13, 0.5)]})

    assert [pid for pid, _ in store.trending(limit=10)] == [12, 13, 10, 15]  # untrended after, unavailable never
    assert [pid for pid, _ in store.trending(limit=10, categories=["A > Y"])] == [12, 15]
    assert store.complements(10, limit=1) == [(12, 1.0)]
    assert store.complements(99, limit=5) == []


def test_history_store_returns_the_most_recent_events_oldest_first() -> None:
    events = [HistoryEvent(i, VIEW, float(t)) for i, t in [(1, 3), (2, 1), (3, 2)]]
    store = InMemoryHistoryStore({"u:1": events})
    store.add("u:1", HistoryEvent(4, VIEW, 0.5))

    assert [e.product_id for e in store.recent("u:1", limit=2)] == [3, 1]
    assert [e.product_id for e in store.recent("u:1", limit=10)] == [4, 2, 3, 1]
    assert store.recent("u:2", limit=5) == []


def test_an_index_of_no_products_answers_that_it_has_no_vectors() -> None:
    # a shop whose products are not embedded yet: the re-rank's diversity step asks for vectors all the same
    index = InMemoryVectorIndex([], np.zeros((0, 4), dtype=np.float32))
    matrix, found = index.vectors([7, 8])
    assert matrix.shape == (2, 4) and not found.any()


def test_vectors_of_unsorted_sparse_ids_come_back_in_the_asked_order_and_unknown_ones_empty() -> None:
    import numpy as np

    from dragonrec.recommender.core.memory import InMemoryVectorIndex

    ids = [907, 12, 450]  # shop ids: sparse, not in order
    matrix = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    index = InMemoryVectorIndex(ids, matrix)

    vectors, found = index.vectors([450, 5, 907, 12, 10_000])

    assert found.tolist() == [True, False, True, True, False]
    np.testing.assert_allclose(vectors[0], np.array([1.0, 1.0]) / np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(vectors[2], [1.0, 0.0])
    np.testing.assert_allclose(vectors[3], [0.0, 1.0])
    assert not vectors[1].any() and not vectors[4].any()
    assert not InMemoryVectorIndex([], np.zeros((0, 2), dtype=np.float32)).vectors([1])[1].any()
