"""One contract, every implementation: each CandidateSource and Ranker (core, evaluation baselines and the ones that
serve: the student as ranker and source, the teacher's cached scores, the support blend, trending) runs through the
same checks, so a new implementation gets them by adding one factory line (implicit's test-mixin idea); a Ranker
class without a factory here fails `test_every_ranker_class_has_a_contract_factory`. The evaluation harness's
registry (`harness.RANKERS`) runs through the same list contract, so a ranker added there is covered too."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest

import dragonrec.recommender
from dragonrec.recommender.core.base import CandidateSource, Ranker
from dragonrec.recommender.core.candidates import (
    ComplementSource,
    EmbeddingSource,
    SimilarToAnchorSource,
    TrendingSource,
)
from dragonrec.recommender.core.pipeline import Pipeline, PipelineConfig, build_pipeline
from dragonrec.recommender.core.rankers import (
    BlendRanker,
    EmbeddingRanker,
    SupportBlendRanker,
    TeacherScoresRanker,
    TrendingRanker,
)
from dragonrec.recommender.core.types import PURCHASE, VIEW, Candidate, Context, HistoryEvent, Preferences
from dragonrec.recommender.evaluation.baselines import (
    ItemKNNRanker,
    MeanEmbeddingRanker,
    OracleRanker,
    PipelineRanker,
    PopularityRanker,
    RandomRanker,
)
from dragonrec.recommender.ml import StudentConfig
from dragonrec.recommender.ml.candidates import StudentSource
from dragonrec.recommender.ml.ranker import StudentRanker
from dragonrec.recommender.ml.student import Student
from tests.recommender.core.synthetic_shop import Shop, make_shop

ADDED_AFTER_TRAINING = "Herbal tea mix"  # unknown to the student: scored from its text vector through the index


@functools.cache
def tiny_student() -> Student:
    """A student trained for a few epochs on the synthetic shop's sessions (a second of CPU), once per run."""
    shop = make_shop()
    known = [p.id for p in shop.products if p.title != ADDED_AFTER_TRAINING]
    config = StudentConfig(
        hidden=16,
        n_layers=1,
        max_len=8,
        text_dim=shop.index.matrix.shape[1],
        max_epochs=3,
        min_epochs=1,
        batch_size=64,
        ema_epochs=None,
        bf16=False,
        num_threads=1,
    )
    vectors, _ = shop.index.vectors(known)
    return Student.fit(sequences=shop.sessions, product_ids=known, text_vectors=vectors, config=config, version="c1")


def teacher_scores(shop: Shop) -> dict[int, float]:
    """Cached judgments of a few products (the teacher saw a served list, not the catalog)."""
    return {shop.products[i].id: float(score) for i, score in ((0, 9.0), (4, 7.5), (9, 2.0))}


SOURCES: dict[str, Callable[[Shop], CandidateSource]] = {
    "embedding": lambda s: EmbeddingSource(products=s.store, index=s.index, embedder=s.embedder),
    "trending": lambda s: TrendingSource(products=s.store, index=s.index),
    "complements": lambda s: ComplementSource(products=s.store, index=s.index),
    "similar": lambda s: SimilarToAnchorSource(products=s.store, index=s.index),
    "student": lambda s: StudentSource(student=tiny_student(), products=s.store),
}

RANKERS: dict[str, Callable[[Shop], Ranker]] = {
    "embedding": lambda s: EmbeddingRanker(products=s.store, index=s.index, embedder=s.embedder),
    "blend": lambda s: BlendRanker(
        [(EmbeddingRanker(index=s.index), 1.0), (PopularityRanker(s.sessions, n_items=len(s.products)), 0.5)]
    ),
    "popularity": lambda s: PopularityRanker(s.sessions, n_items=len(s.products)),
    "itemknn": lambda s: ItemKNNRanker(s.sessions, n_items=len(s.products)),
    "mean-embedding": lambda s: MeanEmbeddingRanker(s.index.matrix),
    "random": lambda s: RandomRanker(seed=0),
    "oracle": lambda s: OracleRanker({"u:1": 3}),
    "pipeline": lambda s: PipelineRanker(Pipeline.default(products=s.store, index=s.index, embedder=s.embedder), n=5),
    "student": lambda s: StudentRanker(tiny_student(), index=s.index, version="c1"),
    "student-without-index": lambda s: StudentRanker(tiny_student()),  # new products: -inf, never NaN
    "teacher": lambda s: TeacherScoresRanker(
        teacher_scores(s), EmbeddingRanker(products=s.store, index=s.index, embedder=s.embedder)
    ),
    # what serving ranks with once a student is active (core.pipeline.build_pipeline wraps it so)
    "support-blend": lambda s: SupportBlendRanker(
        StudentRanker(tiny_student(), index=s.index, version="c1"),
        EmbeddingRanker(products=s.store, index=s.index, embedder=s.embedder),
        support=tiny_student().item_support,
        weight=0.5,
        pivot=20.0,
    ),
    "trending": lambda s: TrendingRanker(products=s.store),
}

# Per-request standardisation makes a blend's scores depend on the candidate set (by design, see BlendRanker); the
# teacher ranker scales its fallback's scores over the request's candidates to slot them below the judged ones.
CANDIDATE_SET_DEPENDENT = {"blend", "teacher", "support-blend"}


def contexts(shop: Shop) -> list[Context]:
    phone, case = shop.in_category("Electronics > Phones")[0], shop.in_category("Electronics > Phone Cases")[0]
    shoe = shop.in_category("Sports > Running > Shoes")[0]
    history = [HistoryEvent(phone, VIEW, 1.0), HistoryEvent(phone, PURCHASE, 2.0), HistoryEvent(shoe, VIEW, 3.0)]
    return [
        Context(user_key="u:1"),
        Context(history=history, exclude_ids={case, shoe}, user_key="u:1"),
        Context(scenario="product", anchor_ids=[phone], exclude_ids={case}, user_key="s:x"),
        Context(scenario="cart", anchor_ids=[phone, shoe], history=history, exclude_ids={case}),
        Context(preferences=Preferences(categories=("Home > Kitchen",)), exclude_ids={shop.products[-1].id}),
    ]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_source_contract(name: str) -> None:
    shop = make_shop()
    source = SOURCES[name](shop)
    known = {p.id for p in shop.products}

    for ctx in contexts(shop):
        for k in (0, 1, 3, 50):
            found = source.candidates(ctx, k=k)
            ids = [c.product_id for c in found]
            assert len(found) <= k
            assert not set(ids) & ctx.exclude_ids, "returned an excluded id"
            assert len(set(ids)) == len(ids), "duplicates"
            assert set(ids) <= known
            assert all(isinstance(c, Candidate) and c.source == source.name for c in found)
            assert [c.score for c in found] == sorted((c.score for c in found), reverse=True) or name in {
                "complements"  # learned complements first, then category neighbours: two ordered blocks
            }


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_ranker_contract(name: str) -> None:
    shop = make_shop()
    ranker = RANKERS[name](shop)
    ids = [p.id for p in shop.products]
    ctxs = contexts(shop)

    for ctx in ctxs:
        scores = np.asarray(ranker.score(ctx, ids))
        assert scores.shape == (len(ids),)
        assert not np.isnan(scores).any()
        subset = ids[::3]
        if name not in CANDIDATE_SET_DEPENDENT:
            same = np.allclose(np.asarray(ranker.score(ctx, subset)), scores[::3])
            assert same, "an item's score must not depend on the other candidates"
        ranked = ranker.rank(ctx, [Candidate(product_id=i, source="t") for i in subset])
        assert sorted(r.product_id for r in ranked) == sorted(subset)
        assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    batch = np.asarray(ranker.score_batch(ctxs, ids))
    assert batch.shape == (len(ctxs), len(ids))
    assert np.allclose(batch, np.stack([ranker.score(c, ids) for c in ctxs]))
    assert ranker.label


def _ranker_classes() -> Iterator[type[Ranker]]:
    """Every concrete Ranker class defined in dragonrec.recommender (its modules imported first)."""
    for module in pkgutil.walk_packages(dragonrec.recommender.__path__, "dragonrec.recommender."):
        if ".migrations" not in module.name and ".management" not in module.name:
            importlib.import_module(module.name)
    seen: set[type[Ranker]] = set()
    todo: list[type[Ranker]] = [Ranker]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    yield from (c for c in seen if c.__module__.startswith("dragonrec.") and not inspect.isabstract(c))


def test_every_ranker_class_has_a_contract_factory() -> None:
    shop = make_shop()
    covered = {type(factory(shop)) for factory in RANKERS.values()}

    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in set(_ranker_classes()) - covered)

    assert not missing, f"add a factory to RANKERS for {missing}"


def assert_list_contract(pipeline: Pipeline, ctxs: list[Context], catalog: set[int]) -> None:
    """What a shopper could notice of any ranker: only catalog items, none twice, at most n, none excluded (nor the
    page's anchors), and the same list for the same request."""
    for ctx in ctxs:
        for n in (1, 4, 10):
            request = replace(ctx, n=n)
            first = pipeline.recommend(request)
            ids = [item.product_id for item in first.items]
            assert set(ids) <= catalog, "returned an id outside the catalog"
            assert len(set(ids)) == len(ids), "duplicates"
            assert len(ids) <= n
            assert all(np.isfinite(item.score) for item in first.items), "a score the API cannot write as JSON"
            assert not set(ids) & (set(ctx.exclude_ids) | set(ctx.anchor_ids)), "returned an excluded id"
            again = pipeline.recommend(request)
            assert [(i.product_id, i.score) for i in again.items] == [(i.product_id, i.score) for i in first.items]


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_ranker_list_contract(name: str) -> None:
    shop = make_shop()
    pipeline = build_pipeline(
        products=shop.store,
        index=shop.index,
        embedder=shop.embedder,
        ranker=RANKERS[name](shop),
        config=PipelineConfig(),
    )

    assert_list_contract(pipeline, contexts(shop), {p.id for p in shop.products})
