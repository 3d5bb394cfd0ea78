"""The student as a candidate source: the products its user vector scores highest (behavioural retrieval, next to
the embedding source's content retrieval).

The student's item space is its own (not MiniLM's), so it is searched over its own index of `Student.item_vectors()`
(ml/ann.py): exact up to STUDENT_ANN's `exact_max_items`, in-process HNSW above (~1-2 ms of CPU per request at
1M items where exact scoring costs ~45 ms; bench/student_scale.py). The index is built with each model version and
saved in its artifact; products deactivated since are hidden from it here, as soon as a request finds them.
"""

from __future__ import annotations

from dragonrec.recommender.core.base import CandidateSource
from dragonrec.recommender.core.rerank import bought_ids
from dragonrec.recommender.core.stores import ProductStore
from dragonrec.recommender.core.types import Candidate, Context, ProductId
from dragonrec.recommender.ml.student import Student

# fetch 4x k before dropping out-of-stock and bought items, so k usually survive (inactive products are already out
# of the index). Exact search costs the same whatever is fetched, so it keeps 4x (the offline figures were measured
# with it); above the exact size the HNSW beam widens to the number fetched, and at 1M products 4x k (800) cost ~5 ms
# per request where 2x costs ~2 ms (bench/student_scale.py), so HNSW fetches 2x
OVERFETCH = 4
OVERFETCH_ANN = 2


class StudentSource(CandidateSource):
    name = "student"

    def __init__(self, *, student: Student, products: ProductStore) -> None:
        self.student = student
        self.products = products

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        if not ctx.history or k <= 0:
            return []
        overfetch = OVERFETCH if self.student.item_index().kind == "exact" else OVERFETCH_ANN
        ids, scores = self.student.retrieve(ctx.history, k=k * overfetch + len(ctx.exclude_ids))
        known = self.products.get_many(ids)
        bought = bought_ids(ctx.history)
        gone: list[ProductId] = []
        out: list[Candidate] = []
        for pid, score in zip(ids, scores, strict=True):
            product = known.get(pid)
            if product is None or not product.is_active:
                gone.append(pid)
                continue
            if pid in ctx.exclude_ids or not product.in_stock:
                continue
            if pid in bought and not product.consumable:
                continue
            out.append(Candidate(product_id=pid, source=self.name, score=float(score)))
            if len(out) >= k:
                break
        if gone:
            # deleted or deactivated since this version was made: out of the index, so they stop taking the places
            # of the k asked (the next version's index starts from the catalogue's inactive set again)
            self.student.hide(gone)
        return out
