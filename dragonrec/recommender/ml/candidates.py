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

# How many to fetch before dropping out-of-stock and bought items, so that k usually survive (inactive products are
# already out of the index). Exact search costs the same whatever it returns, so it fetches 4x k (the offline
# figures were measured with it). HNSW's beam widens to the number fetched and its cost follows: at 1M products
# fetching 400 for k=200 cost ~1.5 ms of CPU where 250 cost ~0.6 ms (bench/student_scale.py), and every fetched
# item is one more product look-up. So HNSW fetches k plus the excluded and bought items plus a quarter, and
# searches again with 4x in the rare request where that left fewer than k.
OVERFETCH = 4
ANN_MARGIN = 0.25


class StudentSource(CandidateSource):
    name = "student"

    reads_shopper = False  # a function of the history, statements and catalog only

    def __init__(self, *, student: Student, products: ProductStore) -> None:
        self.student = student
        self.products = products

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        if not ctx.history or k <= 0:
            return []
        bought = bought_ids(ctx.history)
        exact = self.student.item_index().kind == "exact"
        fetch = k * OVERFETCH if exact else k + int(k * ANN_MARGIN) + len(bought)
        out = self._take(ctx, k=k, fetch=fetch + len(ctx.exclude_ids), bought=bought)
        if out is None:
            out = self._take(ctx, k=k, fetch=k * OVERFETCH + len(ctx.exclude_ids), bought=bought) or []
        return out

    def _take(self, ctx: Context, *, k: int, fetch: int, bought: frozenset[ProductId]) -> list[Candidate] | None:
        """The first k allowed of `fetch` retrieved; None when fewer than k were allowed but the index had more
        to give (the caller fetches more)."""
        ids, scores = self.student.retrieve(ctx.history, k=fetch)
        known = self.products.get_many(ids)
        gone: list[ProductId] = []
        out: list[Candidate] = []
        for pid, score in zip(ids, scores.tolist(), strict=True):
            product = known.get(pid)
            if product is None or not product.is_active:
                gone.append(pid)
                continue
            if pid in ctx.exclude_ids or not product.in_stock:
                continue
            if pid in bought and not product.consumable:
                continue
            out.append(Candidate(product_id=pid, source=self.name, score=score))
            if len(out) >= k:
                break
        if gone:
            # deleted or deactivated since this version was made: out of the index, so they stop taking the places
            # of the k asked (the next version's index starts from the catalogue's inactive set again)
            self.student.hide(gone)
        if len(out) < k and len(ids) == fetch and fetch < k * OVERFETCH:
            return None
        return out
