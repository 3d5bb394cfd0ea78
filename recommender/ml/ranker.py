"""`StudentRanker`: the trained student behind the core `Ranker` interface (serving and offline evaluation).

    >>> ranker = StudentRanker(Student.load(path), index=vector_index)   # index: optional VectorIndex
    >>> ranker.score(ctx, candidate_ids)    # uses ctx.history (oldest first), last config.max_len steps
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.core.base import Ranker
from recommender.core.stores import VectorIndex
from recommender.core.types import Context, ProductId
from recommender.ml.student import Student


class StudentRanker(Ranker):
    """Scores = user vector (from the request's history) . item vector (id embedding + projected text).

    Products the student has never seen are scored from their text vector when `index` (a VectorIndex holding the
    SAME text embeddings the student was trained with: MiniLM of "title. brand. category") has one for them, and
    get -inf otherwise. Nothing is excluded here: filtering (history, stock, business rules) is the pipeline's job.
    """

    name = "student"

    def __init__(self, student: Student, *, index: VectorIndex | None = None, version: str | None = None) -> None:
        self.student = student
        self.index = index
        self.version = version if version is not None else (student.version or "")

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        if len(candidate_ids) == 0:
            return np.zeros(0, dtype=np.float32)
        s = self.student
        if len(candidate_ids) >= s.n_items // 2:
            # Full-catalogue calls (evaluation): one matrix-vector product, then a vectorised id lookup.
            dense = s.dense_ids(candidate_ids)
            all_scores = s.score_all(ctx.history)
            out = np.where(dense >= 0, all_scores[dense.clip(min=0)], -np.inf).astype(np.float32)
            unknown = np.flatnonzero(dense < 0)
            if len(unknown) and self.index is not None:
                ids = [candidate_ids[i] for i in unknown]
                vecs, has = self.index.vectors(ids)
                out[unknown] = s.score(ctx.history, ids, text_vectors=np.where(has[:, None], vecs, 0.0))
            return out
        text = None
        if self.index is not None:
            dense = s.dense_ids(candidate_ids)
            unknown = np.flatnonzero(dense < 0)
            if len(unknown):
                vecs, has = self.index.vectors([candidate_ids[i] for i in unknown])
                text = np.zeros((len(candidate_ids), s.config.text_dim), dtype=np.float32)
                text[unknown[has]] = vecs[has]
        return s.score(ctx.history, candidate_ids, text_vectors=text)
