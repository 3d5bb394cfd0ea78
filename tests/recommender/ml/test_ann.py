"""The student's item index (ml/ann.py) and its use as a candidate source: HNSW gives exact's answers when searched
widely, items added or deactivated between versions are found or left out, and the index travels with the artifact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dragonrec.recommender.core.memory import InMemoryProductStore
from dragonrec.recommender.core.types import Context, HistoryEvent, Product
from dragonrec.recommender.ml import Student, StudentConfig, StudentModel
from dragonrec.recommender.ml.ann import INDEX_FILE, ItemIndex, RetrievalConfig
from dragonrec.recommender.ml.candidates import StudentSource
from dragonrec.recommender.ml.data import EVENT_VOCAB

HNSW_ALWAYS = RetrievalConfig(exact_max_items=0, m=16, ef_construction=200, ef_search=400)


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)).astype(np.float32)


def test_hnsw_returns_the_exact_top_k_when_searched_widely() -> None:
    # given 3,000 items in an HNSW graph searched with a beam far wider than k
    vectors = _vectors(3000)
    index = ItemIndex.build(vectors, config=HNSW_ALWAYS)
    assert index.kind == "hnsw"
    queries = _vectors(25, seed=1)
    for q in queries:
        # when the same query goes to the graph and to the exact product
        approx, approx_scores = index.search(q, 10)
        exact, _ = index.search_exact(q, 10)
        # then the same 10 items come back, best first, with their inner products
        assert approx.tolist() == exact.tolist()
        np.testing.assert_allclose(approx_scores, vectors[approx] @ q, rtol=1e-4)


def test_small_catalogues_are_searched_exactly_and_large_ones_approximately() -> None:
    config = RetrievalConfig(exact_max_items=500)
    assert ItemIndex.build(_vectors(500), config=config).kind == "exact"
    assert ItemIndex.build(_vectors(501), config=config).kind == "hnsw"
    # an exact index that grows past the size switches to HNSW once, keeping every item
    growing = ItemIndex.build(_vectors(490), config=config)
    growing.add(_vectors(20, seed=3))
    assert growing.kind == "hnsw" and len(growing) == 510


@pytest.mark.parametrize("config", [RetrievalConfig(exact_max_items=10_000), HNSW_ALWAYS], ids=["exact", "hnsw"])
def test_added_items_are_found_and_hidden_items_never_come_back(config: RetrievalConfig) -> None:
    vectors = _vectors(1000)
    index = ItemIndex.build(vectors, config=config)
    # an item added after the build, pointing where the query points, comes first
    query = _vectors(1, seed=5)[0]
    index.add(query[None, :] * 10)
    assert index.search(query, 5)[0][0] == 1000
    # hidden (deactivated): out of every answer, and k others still come back
    top = index.search(query, 5)[0]
    index.hide(top[:2])
    after = index.search(query, 5)[0]
    assert not set(top[:2].tolist()) & set(after.tolist())
    assert len(after) == 5 and after[:3].tolist() == top[2:].tolist()
    # shown again (back on sale): found again
    index.show(top[:2])
    assert index.search(query, 5)[0].tolist() == top.tolist()


def _student(n_items: int, retrieval: RetrievalConfig) -> Student:
    rng = np.random.default_rng(0)
    cfg = StudentConfig(hidden=16, n_layers=1, max_len=5, text_dim=8)
    model = StudentModel(
        cfg,
        n_items=n_items,
        text_vectors=rng.normal(size=(n_items, 8)).astype(np.float32),
        n_event_types=len(EVENT_VOCAB),
    )
    student = Student(model, [100 + i for i in range(n_items)])
    student.retrieval = retrieval
    return student


def _history(pids: list[int]) -> list[HistoryEvent]:
    return [HistoryEvent(product_id=p, event_type="view", timestamp=float(i)) for i, p in enumerate(pids)]


def test_the_index_travels_with_the_artifact(tmp_path: Path) -> None:
    # given a student above the exact size, with one product off sale
    student = _student(300, RetrievalConfig(exact_max_items=100, ef_search=64))
    history = _history([100, 105, 110])
    top, _ = student.retrieve(history, k=5)
    student.set_inactive([top[0]])
    # when it is saved and loaded back
    student.save(tmp_path / "v1")
    assert (tmp_path / "v1" / INDEX_FILE).exists()
    loaded = Student.load(tmp_path / "v1")
    loaded.retrieval = student.retrieval
    # then the loaded graph answers as the original did, still without the inactive product
    assert loaded.item_index().kind == "hnsw"
    assert loaded.retrieve(history, k=4)[0] == top[1:]
    assert loaded.inactive == {top[0]}


def test_products_added_to_the_student_are_retrievable() -> None:
    student = _student(300, RetrievalConfig(exact_max_items=100, ef_search=64))
    history = _history([100, 105, 110])
    student.item_index()  # built before the catalogue grows: add_items must extend it, not leave it stale
    u = student.user_vector(history)
    # a new product whose text projects onto the user's direction (the text projection is linear)
    proj = student.model.text_proj
    text = np.linalg.lstsq(proj.weight.detach().numpy(), u * 50 - proj.bias.detach().numpy(), rcond=None)[0]
    student.add_items([9001], text[None, :].astype(np.float32))
    assert len(student.item_index()) == 301
    assert student.retrieve(history, k=3)[0][0] == 9001


def test_the_candidate_source_skips_deactivated_products_and_hides_them() -> None:
    # given a student whose best item for this shopper has been deactivated in the shop
    student = _student(300, RetrievalConfig(exact_max_items=100, ef_search=64))
    history = _history([100, 105, 110])
    best = student.retrieve(history, k=1)[0][0]
    products = InMemoryProductStore(
        Product(id=pid, title=str(pid), is_active=pid != best) for pid in student.product_ids
    )
    source = StudentSource(student=student, products=products)
    # when it proposes candidates
    out = [c.product_id for c in source.candidates(Context(history=history), k=10)]
    # then the deactivated product is not among them, the 10 asked still are, and it is out of the index now
    assert best not in out and len(out) == 10
    assert best in student.inactive
    assert best not in student.retrieve(history, k=10)[0]


def test_the_candidate_source_fetches_again_when_too_few_of_the_first_fetch_may_be_shown() -> None:
    # given an HNSW-searched student whose 8 best items for this shopper are out of stock: HNSW fetches only a
    # quarter more than asked, so the first fetch holds fewer than the 10 asked that may be shown
    student = _student(300, RetrievalConfig(exact_max_items=100, ef_search=64))
    history = _history([100, 105, 110])
    ranked = student.retrieve(history, k=40)[0]
    products = InMemoryProductStore(
        Product(id=pid, title=str(pid), in_stock=pid not in ranked[:8]) for pid in student.product_ids
    )
    source = StudentSource(student=student, products=products)
    # when it proposes 10 candidates
    out = [c.product_id for c in source.candidates(Context(history=history), k=10)]
    # then it still gives 10, the best in-stock ones in order
    assert out == ranked[8:18]
