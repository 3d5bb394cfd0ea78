"""`StudentRanker`: the trained student behind the core `Ranker` interface (serving and offline evaluation).

>>> ranker = StudentRanker(Student.load(path), index=vector_index)   # index: optional VectorIndex
>>> ranker.score(ctx, candidate_ids)    # uses ctx.history (oldest first), last config.max_len steps
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dragonrec.recommender.core.base import CandidateSource, Ranker
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.core.types import Context, ProductId
from dragonrec.recommender.ml.student import Student


class StudentRanker(Ranker):
    """Scores = user vector (from the request's history) . item vector (id embedding + projected text).

    Products the student has never seen are scored from their text vector when `index` (a VectorIndex holding the
    SAME text embeddings the student was trained with: MiniLM of recommender.core.text.product_text) has one for
    them, and get -inf otherwise. Nothing is excluded here: filtering (history, stock, rules) is the pipeline's job.
    """

    reads_shopper = False  # a function of the history, statements and catalog only

    name = "student"

    def __init__(self, student: Student, *, index: VectorIndex | None = None, version: str | None = None) -> None:
        self.student = student
        self.index = index
        self.version = version if version is not None else (student.version or "")

    def _text_vectors(self, candidate_ids: Sequence[ProductId]) -> np.ndarray | None:
        """Text vectors for the candidates the student does not know (zeros elsewhere), from the index."""
        if self.index is None:
            return None
        unknown = np.flatnonzero(self.student.dense_ids(candidate_ids) < 0)
        if not len(unknown):
            return None
        vecs, has = self.index.vectors([candidate_ids[int(i)] for i in unknown])
        out = np.zeros((len(candidate_ids), self.student.config.text_dim), dtype=np.float32)
        out[unknown[has]] = np.asarray(vecs, dtype=np.float32)[has]
        return out

    def candidate_source(self, *, products: ProductStore) -> CandidateSource:
        """The student as a retriever too (core.pipeline.build_pipeline adds it next to the configured sources)."""
        from dragonrec.recommender.ml.candidates import StudentSource

        return StudentSource(student=self.student, products=products)

    def item_support(self, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        """Training interactions behind each candidate's learned vector (0: new or unknown product); the pipeline
        blends content similarity in where this is small (core.rankers.SupportBlendRanker)."""
        return self.student.item_support(candidate_ids)

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        row: np.ndarray = self.score_batch([ctx], candidate_ids)[0]
        return row

    def score_batch(self, contexts: Sequence[Context], candidate_ids: Sequence[ProductId]) -> np.ndarray:
        """One forward pass for all histories, one matrix product against the candidates' item vectors."""
        if not contexts:
            return np.zeros((0, len(candidate_ids)), dtype=np.float32)
        if len(candidate_ids) == 0:
            return np.zeros((len(contexts), 0), dtype=np.float32)
        return self.student.score_matrix(
            [ctx.history for ctx in contexts], candidate_ids, text_vectors=self._text_vectors(candidate_ids)
        )
