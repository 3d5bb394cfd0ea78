"""The student as a candidate source: the products its user vector scores highest (behavioural retrieval, next to
the embedding source's content retrieval).

The student's item space is its own (not MiniLM's), so it is searched exactly over `Student.item_vectors()`:
one (n_items x hidden) product per request, ~1 ms for 50k items at hidden 64. A catalog far beyond that would put
these vectors in a second pgvector column; nothing else would change.
"""

from __future__ import annotations

import numpy as np

from dragonrec.recommender.core.base import CandidateSource
from dragonrec.recommender.core.rerank import bought_ids
from dragonrec.recommender.core.stores import ProductStore
from dragonrec.recommender.core.types import Candidate, Context
from dragonrec.recommender.ml.student import Student

OVERFETCH = 4  # fetch 4x k before dropping unavailable/bought items, so k usually survive


class StudentSource(CandidateSource):
    name = "student"

    def __init__(self, *, student: Student, products: ProductStore) -> None:
        self.student = student
        self.products = products

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        if not ctx.history or k <= 0:
            return []
        scores = self.student.score_all(ctx.history)
        fetch = min(len(scores), k * OVERFETCH + len(ctx.exclude_ids))
        top = np.argpartition(-scores, fetch - 1)[:fetch] if fetch < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        ids = [self.student.product_ids[i] for i in top]
        known = self.products.get_many(ids)
        bought = bought_ids(ctx.history)
        out: list[Candidate] = []
        for dense, pid in zip(top, ids, strict=True):
            product = known.get(pid)
            if product is None or pid in ctx.exclude_ids or not (product.is_active and product.in_stock):
                continue
            if pid in bought and not product.consumable:
                continue
            out.append(Candidate(product_id=pid, source=self.name, score=float(scores[dense])))
            if len(out) >= k:
                break
        return out
