"""In-memory implementations of the three store interfaces: evaluation, tests, demos.

    >>> store = InMemoryProductStore.from_sessions(products, sessions)     # trending + complements from events
    >>> index = InMemoryVectorIndex([p.id for p in products], vectors, products=products)
    >>> index.search(query, k=10, exclude={3})
    >>> history = InMemoryHistoryStore({"u:1": events})

Exact search over a numpy matrix: one 12k x 384 matrix-vector product is ~1 ms, so no ANN structure is needed at
evaluation scale (serving uses pgvector).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from dragonrec.categories import category_within
from dragonrec.recommender.core.aggregates import (
    AggregateConfig,
    category_complements,
    item_complements,
    trending_scores,
)
from dragonrec.recommender.core.stores import HistoryStore, ProductStore, VectorFilter, VectorIndex
from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId


class CategoryMasks:
    """Boolean masks "row lies under any of these category prefixes", computed once per prefix tuple.

    Matching runs over the distinct category paths (hundreds), not the rows (tens of thousands).
    """

    def __init__(self, categories: Sequence[str] | tuple[np.ndarray, np.ndarray]) -> None:
        # (distinct paths, each row's code into them) when the caller has them already (a million-row catalog)
        if isinstance(categories, tuple):
            self._paths, self._codes = categories
        else:
            self._paths, self._codes = np.unique(np.asarray(list(categories), dtype=object), return_inverse=True)
        self._cache: dict[tuple[str, ...], np.ndarray] = {}

    def mask(self, prefixes: Sequence[str]) -> np.ndarray:
        key = tuple(sorted(set(prefixes)))
        if key not in self._cache:
            matching = np.array([category_within(str(path), key) for path in self._paths], dtype=bool)
            self._cache[key] = matching[self._codes] if len(self._paths) else np.zeros(0, dtype=bool)
        return self._cache[key]


class TrendOrder:
    """The whole catalog by trend score, untrended products after (by id), so `trending` can always fill a page.

    Built from columns (ids, availability, category paths or (paths, codes)) rather than Product objects, so a
    million-product catalog orders in one lexsort and serving can rebuild it alone when only the scores change.
    """

    def __init__(
        self,
        ids: np.ndarray,
        available: np.ndarray,
        categories: Sequence[str] | tuple[np.ndarray, np.ndarray],
        trending: Mapping[ProductId, float],
    ) -> None:
        self._trend = dict(trending)
        get = self._trend.get
        scores = np.fromiter((get(int(i), 0.0) for i in ids), dtype=np.float64, count=len(ids))
        order = np.lexsort((ids, -scores))  # best score first, ties by id
        self._order = np.asarray(ids, dtype=np.int64)[order]
        self._available = np.asarray(available, dtype=bool)[order]
        if isinstance(categories, tuple):
            self._masks = CategoryMasks((categories[0], np.asarray(categories[1])[order]))
        else:
            self._masks = CategoryMasks([categories[i] for i in order])
        self._listed: dict[tuple[str, ...], np.ndarray] = {}

    def top(self, *, limit: int, categories: Sequence[str] = ()) -> list[tuple[ProductId, float]]:
        key = tuple(sorted(set(categories)))
        ids = self._listed.get(key)
        if ids is None:
            # the available products of these categories in trend order, kept: compacting a million-row mask on
            # every call cost milliseconds a list (a list asks per category complement)
            keep = self._available & self._masks.mask(key) if key else self._available
            ids = self._listed[key] = self._order[keep]
        return [(int(i), self._trend.get(int(i), 0.0)) for i in ids[:limit]]

    def score(self, product_id: ProductId) -> float:
        return self._trend.get(product_id, 0.0)


def lookup_rows(sorted_ids: np.ndarray, rows_by_id: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each wanted id (-1 when absent), given the ids sorted and the row of each sorted id."""
    if not len(sorted_ids) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == wanted, rows_by_id[at], -1)


class InMemoryProductStore(ProductStore):
    """Products plus precomputed aggregates (trending scores, item and category complements)."""

    def __init__(
        self,
        products: Iterable[Product],
        *,
        trending: Mapping[ProductId, float] | None = None,
        complements: Mapping[ProductId, Sequence[tuple[ProductId, float]]] | None = None,
        category_complements: Mapping[str, Sequence[tuple[str, float]]] | None = None,
    ) -> None:
        self.products: dict[ProductId, Product] = {p.id: p for p in products}
        self._complements = {k: list(v) for k, v in (complements or {}).items()}
        self._category_complements = {k: list(v) for k, v in (category_complements or {}).items()}
        listed = list(self.products.values())
        self.trend = TrendOrder(
            np.array([p.id for p in listed], dtype=np.int64),
            np.array([p.is_active and p.in_stock for p in listed], dtype=bool),
            [p.category for p in listed],
            trending or {},
        )

    @classmethod
    def from_sessions(
        cls,
        products: Iterable[Product],
        sessions: Sequence[Sequence[HistoryEvent]],
        *,
        now: float | None = None,
        config: AggregateConfig | None = None,
    ) -> InMemoryProductStore:
        """Compute all aggregates from event sequences (one per user or session, oldest first).

        `now=None` turns time decay off (plain intent-weighted counts): right for datasets whose timestamps are
        positions in a sequence rather than clock times.
        """
        config = config or AggregateConfig()
        by_id = {p.id: p for p in products}
        events = ((e.product_id, e.event_type, e.timestamp) for s in sessions for e in s)
        trend = trending_scores(
            events,
            now=0.0 if now is None else now,
            half_life_s=math.inf if now is None else config.half_life_s,
            weights=config.event_weights,
        )
        return cls(
            by_id.values(),
            trending=trend,
            complements=item_complements(sessions, products=by_id, config=config),
            category_complements=category_complements(sessions, products=by_id, config=config),
        )

    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        return {i: self.products[i] for i in ids if i in self.products}

    def trending(self, *, limit: int, categories: Sequence[str] = ()) -> list[tuple[ProductId, float]]:
        return self.trend.top(limit=limit, categories=categories)

    def trend_score(self, product_id: ProductId) -> float:
        return self.trend.score(product_id)

    def complements(self, product_id: ProductId, *, limit: int) -> list[tuple[ProductId, float]]:
        return self._complements.get(product_id, [])[:limit]

    def category_complements(self, category: str, *, limit: int) -> list[tuple[str, float]]:
        return self._category_complements.get(category, [])[:limit]


class InMemoryHistoryStore(HistoryStore):
    """Events per user/session key, kept oldest first."""

    def __init__(self, histories: Mapping[str, Sequence[HistoryEvent]] | None = None) -> None:
        self._events: dict[str, list[HistoryEvent]] = {
            key: sorted(events, key=lambda e: e.timestamp) for key, events in (histories or {}).items()
        }

    def add(self, user_key: str, event: HistoryEvent) -> None:
        events = self._events.setdefault(user_key, [])
        events.append(event)
        if len(events) > 1 and events[-2].timestamp > event.timestamp:
            events.sort(key=lambda e: e.timestamp)

    def recent(self, user_key: str, *, limit: int) -> list[HistoryEvent]:
        return self._events.get(user_key, [])[-limit:] if limit > 0 else []


class InMemoryVectorIndex(VectorIndex):
    """Exact cosine search over a float32 matrix (rows are normalised on the way in)."""

    def __init__(
        self, ids: Sequence[ProductId], matrix: np.ndarray, *, products: Iterable[Product] | None = None
    ) -> None:
        from dragonrec.recommender.core.embedder import normalize_rows

        self._ids = np.asarray(ids, dtype=np.int64)
        self._matrix = normalize_rows(matrix)
        if self._matrix.shape[0] != len(self._ids):
            raise ValueError(f"{len(self._ids)} ids but {self._matrix.shape[0]} vectors")
        self.dim = int(self._matrix.shape[1])
        # ids in order and their rows: a request's lookups are one searchsorted, not a dict lookup per id
        self._by_id = np.argsort(self._ids, kind="stable")
        self._sorted_ids = self._ids[self._by_id]
        # Dense ids (evaluation: product i is row i) let lookups skip the dict.
        self._dense = bool(np.array_equal(self._ids, np.arange(len(self._ids))))
        self._has_vector = np.linalg.norm(self._matrix, axis=1) > 0
        # the matrix and its mask with one zero row after the last, which row -1 (an unknown id) reads; the matrix
        # itself is a view of it (no second copy)
        self._padded = np.vstack([self._matrix, np.zeros((1, self.dim), dtype=self._matrix.dtype)])
        self._matrix = self._padded[:-1]
        self._padded_has = np.append(self._has_vector, False)
        by_id = {p.id: p for p in products or ()}
        rows = [by_id.get(int(i)) for i in self._ids]
        self._available = np.array([p is None or (p.is_active and p.in_stock) for p in rows], dtype=bool)
        self._masks = CategoryMasks([p.category if p is not None else "" for p in rows])

    @property
    def matrix(self) -> np.ndarray:
        """Rows in `ids` order (read-only use: batch scoring in the evaluation)."""
        return self._matrix

    def _rows(self, ids: Sequence[ProductId]) -> np.ndarray:
        if self._dense:
            rows = np.asarray(ids, dtype=np.int64).reshape(-1)
            return np.where((rows >= 0) & (rows < len(self._ids)), rows, -1)
        return lookup_rows(self._sorted_ids, self._by_id, np.asarray(ids, dtype=np.int64).reshape(-1))

    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        rows = self._rows(ids)  # -1 (unknown) picks the padding row: zeros, no vector; one gather, no mask copies
        return self._padded[rows], self._padded_has[rows]

    def similarity(self, query: np.ndarray, ids: Sequence[ProductId]) -> np.ndarray:
        rows = self._rows(ids)
        query = np.asarray(query, dtype=np.float32)
        safe = np.maximum(rows, 0)
        # Few ids (a request's candidates): gather them; many (full-catalog evaluation): one matrix product.
        scores = self._matrix[safe] @ query if len(rows) * 4 < len(self._ids) else (self._matrix @ query)[safe]
        return np.where(rows >= 0, scores, 0.0).astype(np.float32)

    def top(self, query: np.ndarray, k: int, where: VectorFilter) -> list[tuple[ProductId, float]]:
        keep = self._has_vector.copy()
        if where.only_available:
            keep &= self._available
        if where.categories:
            keep &= self._masks.mask(where.categories)
        excluded = self._rows(list(where.exclude))
        keep[excluded[excluded >= 0]] = False
        rows = np.flatnonzero(keep)
        query = np.asarray(query, dtype=np.float32)
        # A narrow filter (one category) is cheapest scored row by row; a wide one by one product with the whole
        # matrix (copying most rows out first would cost more than the multiplication itself).
        scores = self._matrix[rows] @ query if len(rows) * 4 < len(self._ids) else (self._matrix @ query)[rows]
        if len(rows) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            rows, scores = rows[top], scores[top]
        order = np.lexsort((rows, -scores))  # best first, ties by row for reproducible pages
        return [(int(self._ids[rows[i]]), float(scores[i])) for i in order]
