"""Rankers that need no trained model: embedding similarity, and a blend of several rankers.

>>> ranker = EmbeddingRanker(products=products, index=index, embedder=embedder)
>>> ranker.score(ctx, [3, 7, 9])            # cosine of each product to the user's profile (+ anchors)
>>> BlendRanker([(EmbeddingRanker(...), 1.0), (student, 2.0)]).score(ctx, ids)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.embedder import Embedder
from dragonrec.recommender.core.profile import DEFAULT_PROFILE_CONFIG, ProfileConfig, context_profile
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.core.types import Context, ProductId


class EmbeddingRanker(Ranker):
    """Cosine similarity to the user's profile vector, pulled towards the scenario's anchor products.

    With anchors (product page, cart) the query is normalise(anchor_weight * mean(anchor vectors) + profile), so
    "more like this" stays about *this* product while still leaning towards the user's taste. With nothing known,
    every score is 0 (the pipeline then orders by trending).
    """

    reads_shopper = False  # a function of the history, statements and catalog only

    name = "embedding"

    def __init__(
        self,
        *,
        products: ProductStore | None = None,
        index: VectorIndex,
        embedder: Embedder | None = None,
        profile_config: ProfileConfig = DEFAULT_PROFILE_CONFIG,
        anchor_weight: float = 1.0,  # the anchor weighs as much as the whole (unit) history
    ) -> None:
        self.products = products
        self.index = index
        self.embedder = embedder
        self.profile_config = profile_config
        self.anchor_weight = anchor_weight

    def query(self, ctx: Context) -> np.ndarray | None:
        vector = context_profile(ctx, index=self.index, embedder=self.embedder, config=self.profile_config)
        if ctx.anchor_ids:
            anchors, found = self.index.vectors(ctx.anchor_ids)
            if found.any():
                anchor = anchors[found].mean(axis=0) * self.anchor_weight
                vector = anchor if vector is None else vector + anchor
        if vector is None:
            return None
        norm = float(np.linalg.norm(vector))
        return (vector / norm).astype(np.float32) if norm > 1e-9 else None

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        query = self.query(ctx)
        if query is None:
            return np.zeros(len(candidate_ids), dtype=np.float32)
        return self.index.similarity(query, candidate_ids)


def standardize(scores: np.ndarray) -> np.ndarray:
    """z-scores, ignoring -inf (masked) entries; a constant vector maps to zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    if finite.sum() < 2:
        return np.where(finite, 0.0, scores)
    mean, std = scores[finite].mean(), scores[finite].std()
    return np.where(finite, (scores - mean) / std if std > 0 else 0.0, scores)


class BlendRanker(Ranker):
    """Weighted sum of other rankers' per-request z-scores (scores of different rankers live on different scales,
    so raw sums would let whichever has the widest range win).

    The standardisation uses the candidates of the request, so a blend's scores depend on the candidate set: compare
    blends in evaluation through the Pipeline (same candidates as serving), not over the full catalog.
    """

    def __init__(self, parts: Sequence[tuple[Ranker, float]], *, name: str = "blend") -> None:
        if not parts:
            raise ValueError("BlendRanker needs at least one ranker")
        self.parts = list(parts)
        self.name = name

    @property
    def reads_shopper(self) -> bool:  # type: ignore[override]
        return any(ranker.reads_shopper for ranker, _ in self.parts)

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        total = np.zeros(len(candidate_ids))
        for ranker, weight in self.parts:
            total += weight * standardize(ranker.score(ctx, candidate_ids))
        return total.astype(np.float32)


class SupportBlendRanker(Ranker):
    """A learned ranker with content similarity blended in where it has little evidence about an item.

    score(i) = z(main)(i) + weight * pivot / (pivot + support(i)) * z(content)(i), z-scores over the request's
    candidates (see `standardize`). `support(ids)` is the number of training interactions behind each item's learned
    vector (the student's `item_support`): an item the ranker saw thousands of times keeps the ranker's order, a
    rare one or one added after training (support 0) leans on its text similarity to the user's history, where a
    sequential model is weakest (the long tail) and content retrieval strongest. Label and version are `main`'s.
    """

    def __init__(
        self,
        main: Ranker,
        content: Ranker,
        *,
        support: Callable[[Sequence[ProductId]], np.ndarray],
        weight: float,
        pivot: float,
    ) -> None:
        self.main = main
        self.content = content
        self.support = support
        self.weight = weight
        self.pivot = pivot
        self.name = main.name
        self.version = main.version

    @property
    def reads_shopper(self) -> bool:  # type: ignore[override]
        return self.main.reads_shopper or self.content.reads_shopper

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        main = standardize(self.main.score(ctx, candidate_ids))
        content = standardize(self.content.score(ctx, candidate_ids))
        content = np.where(np.isfinite(content), content, 0.0)
        support = np.asarray(self.support(candidate_ids), dtype=np.float64)
        return np.asarray(main + self.weight * self.pivot / (self.pivot + support) * content, dtype=np.float32)


class TrendingRanker(Ranker):
    """Orders candidates by the store's trending score alone: the non-personalised baseline an experiment arm can
    serve ("does personalisation sell more than what is popular?")."""

    reads_shopper = False  # a function of the history, statements and catalog only

    name = "trending"

    def __init__(self, *, products: ProductStore) -> None:
        self.products = products

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        # the store's trending list (one indexed read); a candidate outside its head scores 0
        trend = dict(self.products.trending(limit=max(1000, 5 * len(candidate_ids))))
        return np.array([trend.get(pid, 0.0) for pid in candidate_ids], dtype=np.float32)


TEACHER_RANKER = "teacher"


class TeacherScoresRanker(Ranker):
    """Cached teacher judgments first; candidates the teacher did not see keep the fallback ranker's order below."""

    name = TEACHER_RANKER

    def __init__(self, scores: dict[int, float], fallback: Ranker) -> None:
        self.scores = scores
        self.fallback = fallback

    def score(self, ctx: Context, candidate_ids: Any) -> Any:
        base = np.asarray(self.fallback.score(ctx, candidate_ids), dtype=np.float64)
        finite = base[np.isfinite(base)]
        low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
        scaled = (base - low) / (high - low) if high > low else np.zeros_like(base)
        # judged items: 10 + score (10..20) always above unjudged ones (0..1)
        judged = np.array([10.0 + self.scores[i] if i in self.scores else np.nan for i in candidate_ids])
        return np.where(np.isnan(judged), scaled, judged)
