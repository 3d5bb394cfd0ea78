from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dragonrec.recommender.core.stores import VectorFilter, VectorIndex
from dragonrec.recommender.core.types import Context, HistoryEvent, ProductId
from dragonrec.recommender.ml import Student, StudentRanker


def _events(pids: Sequence[int], event_type: str = "view") -> list[HistoryEvent]:
    return [HistoryEvent(product_id=p, event_type=event_type, timestamp=float(i)) for i, p in enumerate(pids)]


def _cluster_sequences(product_ids: list[int], n_users: int, seed: int = 0) -> list[list[HistoryEvent]]:
    """Each user browses inside one cluster (cluster = dense index % 2), so text neighbours co-occur."""
    rng = np.random.default_rng(seed)
    seqs = []
    for u in range(n_users):
        members = [p for i, p in enumerate(product_ids) if i % 2 == u % 2]
        seqs.append(_events(rng.choice(members, size=8).tolist()))
    return seqs


def _train(tiny_config, clustered_text_vectors, n_items: int = 40) -> tuple[Student, list[int], np.ndarray]:
    # Shop product ids are not dense: 1000, 1003, 1006, ...
    product_ids = [1000 + 3 * i for i in range(n_items)]
    vecs = clustered_text_vectors(n_items + 2)
    tiny_config.max_epochs = 15
    student = Student.fit(
        sequences=_cluster_sequences(product_ids, 200),
        product_ids=product_ids,
        text_vectors=vecs[:n_items],
        config=tiny_config,
        version="t1",
        seed=0,
    )
    return student, product_ids, vecs


class _DictIndex(VectorIndex):
    """In-memory VectorIndex over a {product id: vector} dict (only vectors() is used by the ranker)."""

    def __init__(self, vectors: dict[int, np.ndarray]) -> None:
        self._v = vectors
        self.dim = 384

    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        mask = np.zeros(len(ids), dtype=bool)
        for i, p in enumerate(ids):
            if p in self._v:
                out[i], mask[i] = self._v[p], True
        return out, mask

    def top(self, query: np.ndarray, k: int, where: VectorFilter) -> list[tuple[ProductId, float]]:
        raise NotImplementedError


def test_save_load_round_trip_gives_identical_scores(tiny_config, clustered_text_vectors, tmp_path):
    # given
    student, pids, _ = _train(tiny_config, clustered_text_vectors)
    history = _events(pids[:5], "add_to_cart")

    # when
    student.save(tmp_path / "student")
    loaded = Student.load(tmp_path / "student")

    # then
    np.testing.assert_array_equal(student.score_all(history), loaded.score_all(history))
    np.testing.assert_array_equal(student.user_vector(history), loaded.user_vector(history))
    assert loaded.product_ids == pids and loaded.version == "t1"
    assert {p.name for p in (tmp_path / "student").iterdir()} >= {
        "backbone",
        "item_tables.safetensors",
        "text_vectors.npy",
        "item_index.json",
        "student.json",
    }


def test_product_added_after_training_is_scored_from_its_text(tiny_config, clustered_text_vectors, tmp_path):
    # given: two new products, one like cluster 0 (even dense ids), one like cluster 1
    student, pids, vecs = _train(tiny_config, clustered_text_vectors)
    new_even, new_odd = 5000, 5001
    n = len(pids)
    even_vec = vecs[n] if n % 2 == 0 else vecs[n + 1]
    odd_vec = vecs[n + 1] if n % 2 == 0 else vecs[n]

    # when
    student.add_items([new_even, new_odd], np.stack([even_vec, odd_vec]))
    student.save(tmp_path / "grown")
    grown = Student.load(tmp_path / "grown")

    # then: finite scores, and each new product ranks higher for users browsing its text neighbours
    even_history, odd_history = _events(pids[0:10:2]), _events(pids[1:10:2])
    for s in (student, grown):
        e = s.score(even_history, [new_even, new_odd])
        o = s.score(odd_history, [new_even, new_odd])
        assert np.isfinite(e).all() and np.isfinite(o).all()
        assert e[0] > e[1] and o[1] > o[0]
    # and a new product can appear in a history
    assert not np.array_equal(student.user_vector(_events([new_even])), student.user_vector([]))


def test_ranker_scores_every_candidate_in_order_and_unknown_ids_from_text(tiny_config, clustered_text_vectors):
    student, pids, vecs = _train(tiny_config, clustered_text_vectors)
    ranker = StudentRanker(student)
    ctx = Context(history=_events(pids[0:10:2]))
    assert ranker.name == "student" and ranker.label == "student:t1"

    # history products are NOT excluded by the ranker (the pipeline filters), and order follows the input
    cands = [pids[0], pids[2], pids[1], 99999]
    s = ranker.score(ctx, cands)
    assert s.shape == (4,) and np.isfinite(s[:3]).all() and s[3] == -np.inf
    np.testing.assert_array_equal(ranker.score(ctx, cands[::-1]), s[::-1])
    assert ranker.score(ctx, []).shape == (0,)

    # full-catalogue path agrees with the candidate path
    full = ranker.score(ctx, pids)
    np.testing.assert_allclose(full[[0, 2, 1]], s[:3], rtol=1e-5)
    assert [it.product_id for it in ranker.rank(ctx, [])] == []

    # with a vector index, an unknown product is scored from its text vector
    n = len(pids)
    even_vec = vecs[n] if n % 2 == 0 else vecs[n + 1]
    with_index = StudentRanker(student, index=_DictIndex({99999: even_vec}))
    s2 = with_index.score(ctx, cands)
    assert np.isfinite(s2).all()
    np.testing.assert_allclose(s2[:3], s[:3], rtol=1e-6)
    full2 = with_index.score(ctx, [*pids, 99999, 123456])
    assert np.isfinite(full2[-2]) and full2[-1] == -np.inf


def test_build_student_ranker_trains_on_a_split_and_scores_the_catalog(tiny_config, clustered_text_vectors):
    from dragonrec.recommender.core.types import Product
    from dragonrec.recommender.evaluation.dataset import Dataset, Split
    from dragonrec.recommender.ml.evaluation import build_student_ranker

    # given: a leave-one-out split where every user alternates between two products of one text cluster
    n_items = 12
    products = [Product(id=i, title=f"p{i}") for i in range(n_items)]
    seqs = {f"u{u}": _events([u % n_items, (u + 2) % n_items] * 3) for u in range(60)}
    ds = Dataset(
        name="toy", products=products, item_ids=[str(i) for i in range(n_items)], texts=[""] * n_items, sequences=seqs
    )
    split = Split(
        dataset=ds,
        train={u: s[:-2] for u, s in seqs.items()},
        valid_target={u: s[-2].product_id for u, s in seqs.items()},
        test_target={u: s[-1].product_id for u, s in seqs.items()},
        users=sorted(seqs),
    )

    # when
    ranker = build_student_ranker(
        split, item_vectors=clustered_text_vectors(n_items), seed=0, progress=False, config=tiny_config
    )

    # then: a "student" ranker whose full-catalogue scores put the user's own cluster (parity) above the other
    assert ranker.label == "student:toy-seed0"
    ctx = Context(history=split.test_input("u3"))
    scores = ranker.score_batch([ctx], list(range(n_items)))
    assert scores.shape == (1, n_items) and np.isfinite(scores).all()
    assert scores[0, 1::2].min() > scores[0, 0::2].max()


def test_item_support_counts_training_interactions_and_is_zero_for_products_added_later(
    tiny_config, clustered_text_vectors, tmp_path
):
    # given: a trained student (8 events per user, 200 users over 40 products)
    student, pids, vecs = _train(tiny_config, clustered_text_vectors)
    student.add_items([5000], vecs[-1:])

    # when
    student.save(tmp_path / "s")
    loaded = Student.load(tmp_path / "s")

    # then: what each learned vector rests on survives the artifact; the new and an unknown product have none
    for s in (student, loaded):
        support = s.item_support([pids[0], pids[1], 5000, 99999])
        assert support[0] > 0 and support[1] > 0 and support[2] == 0 and support[3] == 0
    assert loaded.item_support(pids).sum() == 200 * 8
    assert StudentRanker(loaded).item_support([5000]).tolist() == [0.0]


def test_user_vectors_of_recent_histories_are_memoised_exactly_and_boundedly(
    tiny_config, clustered_text_vectors, monkeypatch
):
    """A serving process's threads interleave shoppers: each history's vector comes from its own forward pass
    (or its own memoised one), never from another shopper's, and the memo keeps RECENT_USERS of them."""
    from dragonrec.recommender.ml import student as student_module

    monkeypatch.setattr(student_module, "RECENT_USERS", 2)
    student, pids, _ = _train(tiny_config, clustered_text_vectors)
    histories = [_events(pids[:3]), _events(pids[3:7]), _events(pids[7:9]), _events(pids[:3])]
    expected = student.user_vectors(histories)

    for _ in range(2):
        for history, vector in zip(histories, expected, strict=True):
            np.testing.assert_allclose(student.user_vector(history), vector, rtol=1e-5, atol=1e-6)

    assert len(student._recent_users) == 2
