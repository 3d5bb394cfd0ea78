"""Small ABCs for the pluggable parts of the pipeline: candidate sources and rankers.

A recommendation is: candidate sources -> ranker -> re-rank (diversity, business rules) -> fallback.
Implementations get the stores through their constructor, so the same class serves the API (ORM stores) and
the evaluation harness (in-memory stores).

    >>> source = EmbeddingSource(products=products, index=index)
    >>> ranker = EmbeddingRanker(products=products, index=index)
    >>> cands = source.candidates(ctx, k=200)
    >>> items = ranker.rank(ctx, cands)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from dragonrec.recommender.core.types import Candidate, Context, ProductId, ScoredItem


class CandidateSource(ABC):
    """Proposes up to k products for a context; cheap, recall-oriented."""

    name: str = ""
    # Whether `candidates` may depend on who the shopper is (ctx.user_key) beyond their history and statements.
    # Serving shares scored candidates between shoppers with the same inputs (a new visitor's home page) only
    # when no part of the pipeline reads it (core.pipeline.scored_key); True, the safe answer, unless declared.
    reads_shopper: bool = True

    @abstractmethod
    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        """Best first. Must never return ids in `ctx.exclude_ids`."""


class Ranker(ABC):
    """Scores candidates for a context (higher is better). Shared by serving and evaluation."""

    name: str = ""
    version: str = ""  # model version for rankers backed by a trained artifact
    reads_shopper: bool = True  # as CandidateSource.reads_shopper: whether `score` reads ctx.user_key

    @property
    def label(self) -> str:
        """What the API reports in its `ranker` field ("embedding", "student:v3")."""
        return f"{self.name}:{self.version}" if self.version else self.name

    @abstractmethod
    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        """One float per candidate id, in the given order. Vectorised: the evaluation harness calls it with the
        whole catalog for full-ranking metrics."""

    def score_batch(self, contexts: Sequence[Context], candidate_ids: Sequence[ProductId]) -> np.ndarray:
        """Scores of the same candidates for many contexts, shape (len(contexts), len(candidate_ids)).

        The evaluation harness calls this with batches of users and the whole catalog; override it when the ranker
        can use one matrix product for the batch (the default loops over `score`).
        """
        if not contexts:
            return np.zeros((0, len(candidate_ids)), dtype=np.float32)
        return np.stack([np.asarray(self.score(ctx, candidate_ids), dtype=np.float32) for ctx in contexts])

    def rank(self, ctx: Context, candidates: list[Candidate]) -> list[ScoredItem]:
        if not candidates:
            return []
        scores = self.score(ctx, [c.product_id for c in candidates])
        order = np.argsort(-scores, kind="stable")
        return [
            ScoredItem(product_id=candidates[i].product_id, score=float(scores[i]), source=candidates[i].source)
            for i in order
        ]
