"""Reference rankers for the offline evaluation, each a `Ranker` with a batched `score_batch`.

    >>> ranker = ItemKNNRanker(split.train.values(), n_items=dataset.n_items)
    >>> ranker.score_batch(contexts, range(dataset.n_items))     # (users, items)

`PipelineRanker` is the exception: it wraps the serving `Pipeline` unchanged and turns its top-n page into scores
(position-based, everything off the page -inf), so the harness measures exactly what the API would show.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.embedder import normalize_rows
from dragonrec.recommender.core.exploration import ExplorationConfig, seed_from_request
from dragonrec.recommender.core.pipeline import Pipeline
from dragonrec.recommender.core.types import Context, HistoryEvent, ProductId


def _column_ids(candidate_ids: Sequence[ProductId]) -> np.ndarray:
    return np.asarray(candidate_ids, dtype=np.int64)


def _recency_weights(length: int, half_life: float) -> np.ndarray:
    """0.5 ** (steps back from the newest event / half_life), oldest first."""
    return 0.5 ** (np.arange(length - 1, -1, -1, dtype=np.float64) / half_life)


class PopularityRanker(Ranker):
    """Training interaction counts: the floor any personalised ranker must clear."""

    name = "popularity"

    def __init__(self, sequences: Iterable[Sequence[HistoryEvent]], *, n_items: int) -> None:
        self.counts = np.zeros(n_items, dtype=np.float32)
        for events in sequences:
            for event in events:
                self.counts[event.product_id] += 1.0

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        counts: np.ndarray = self.counts[_column_ids(candidate_ids)]
        return counts

    def score_batch(self, contexts: Sequence[Context], candidate_ids: Sequence[ProductId]) -> np.ndarray:
        return np.broadcast_to(
            self.score(contexts[0] if contexts else Context(), candidate_ids), (len(contexts), len(candidate_ids))
        ).copy()


class ItemKNNRanker(Ranker):
    """Item-to-item cosine over user co-occurrence (Sarwar et al. WWW 2001; Linden et al. IEEE Internet Computing
    2003): score(i) = sum over the recent history items h of w(h) * cos(h, i), with w halving every
    `half_life` steps back, so the last items drive the next one (sequential data)."""

    name = "itemknn"

    def __init__(
        self,
        sequences: Iterable[Sequence[HistoryEvent]],
        *,
        n_items: int,
        max_history: int = 20,  # beyond ~20 steps the recency weight is < 1%
        half_life: float = 2.0,  # the last two items explain most of the next one on the Amazon sets
    ) -> None:
        rows: list[int] = []
        cols: list[int] = []
        for user, events in enumerate(sequences):
            items = {e.product_id for e in events}
            rows += [user] * len(items)
            cols += items
        users = (max(rows) + 1) if rows else 0
        interactions = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(users, n_items))
        cooc = (interactions.T @ interactions).tocsr()
        norms = np.sqrt(cooc.diagonal()).astype(np.float32)
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        cooc.setdiag(0.0)
        cooc.eliminate_zeros()
        self.similarity = sp.diags(inverse) @ cooc @ sp.diags(inverse)
        self.similarity = self.similarity.tocsr().astype(np.float32)
        self.n_items = n_items
        self.max_history = max_history
        self.half_life = half_life

    def _history_matrix(self, contexts: Sequence[Context]) -> sp.csr_matrix:
        rows, cols, values = [], [], []
        for row, ctx in enumerate(contexts):
            recent = [e.product_id for e in ctx.history[-self.max_history :]]
            rows += [row] * len(recent)
            cols += recent
            values += _recency_weights(len(recent), self.half_life).tolist()
        return sp.csr_matrix((values, (rows, cols)), shape=(len(contexts), self.n_items), dtype=np.float32)

    def score_batch(self, contexts: Sequence[Context], candidate_ids: Sequence[ProductId]) -> np.ndarray:
        scores: np.ndarray = (self._history_matrix(contexts) @ self.similarity).toarray()  # scipy is unannotated
        return scores[:, _column_ids(candidate_ids)]

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        row: np.ndarray = self.score_batch([ctx], candidate_ids)[0]
        return row


class MeanEmbeddingRanker(Ranker):
    """The seed project's approach: the plain mean of the last few items' text vectors, nearest products first."""

    name = "embedding"

    def __init__(self, vectors: np.ndarray, *, last_n: int = 5) -> None:
        self.vectors = normalize_rows(vectors)
        self.last_n = last_n

    def queries(self, contexts: Sequence[Context]) -> np.ndarray:
        queries = np.zeros((len(contexts), self.vectors.shape[1]), dtype=np.float32)
        for row, ctx in enumerate(contexts):
            recent = [e.product_id for e in ctx.history[-self.last_n :]]
            if recent:
                queries[row] = self.vectors[recent].mean(axis=0)
        return normalize_rows(queries)

    def score_batch(self, contexts: Sequence[Context], candidate_ids: Sequence[ProductId]) -> np.ndarray:
        scores: np.ndarray = self.queries(contexts) @ self.vectors[_column_ids(candidate_ids)].T
        return scores

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        row: np.ndarray = self.score_batch([ctx], candidate_ids)[0]
        return row


def _uniform_hash(ids: np.ndarray, key: int) -> np.ndarray:
    """Uniform [0, 1) numbers that are a pure function of (key, id): the splitmix64 finaliser (Steele et al.,
    OOPSLA 2014). uint64 arithmetic wraps, which is what the mixer wants."""
    x = ids.astype(np.uint64) + np.uint64(key & 0xFFFFFFFFFFFFFFFF)
    x *= np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class RandomRanker(Ranker):
    """Uniform random scores, a pure function of (seed, user, item): independent of batch size, order and of
    which other candidates are scored."""

    name = "random"

    def __init__(self, *, seed: int) -> None:
        self.seed = seed

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        key = (self.seed << 32) ^ zlib.crc32(ctx.user_key.encode())
        return _uniform_hash(_column_ids(candidate_ids), key).astype(np.float32)


class OracleRanker(Ranker):
    """Knows each user's test target (`user_key` -> item): a harness sanity check, recall@1 must be 1."""

    name = "oracle"

    def __init__(self, targets: dict[str, ProductId]) -> None:
        self.targets = targets

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        hits: np.ndarray = (_column_ids(candidate_ids) == self.targets.get(ctx.user_key, -1)).astype(np.float32)
        return hits


class PipelineRanker(Ranker):
    """The serving pipeline as a ranker: page item at position p scores n - p, everything else -inf."""

    name = "pipeline"

    def __init__(self, pipeline: Pipeline, *, n: int, exploration: ExplorationConfig | None = None) -> None:
        self.pipeline = pipeline
        self.n = n
        # with exploration: the page serving would show, drawn with the user key as the request's seed
        self.exploration = exploration
        self.labels: dict[str, int] = {}  # how often each `Recommendation.ranker` label came back

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        ctx = replace(ctx, n=self.n)
        policy = self.pipeline.policy(ctx)  # the serving policy (core.policy), as serving builds it
        if self.exploration is not None and self.exploration.enabled:
            recommendation = self.pipeline.recommend_explored(
                ctx, exploration=self.exploration, seed=seed_from_request(ctx.user_key), policy=policy
            )
        else:
            recommendation = self.pipeline.recommend(ctx, policy=policy)
        self.labels[recommendation.ranker] = self.labels.get(recommendation.ranker, 0) + 1
        page = np.array([item.product_id for item in recommendation.items], dtype=np.int64)
        scores = np.full(len(candidate_ids), -np.inf, dtype=np.float32)
        if len(page):
            # (candidates x page) comparison: vectorised, where a per-call dict over 12k candidates would dominate.
            match = _column_ids(candidate_ids)[:, None] == page[None, :]
            hit = match.any(axis=1)
            scores[hit] = self.n - match[hit].argmax(axis=1)
        return scores
