"""The three small interfaces the ranking code talks to instead of the ORM.

Serving passes ORM/pgvector implementations (`dragonrec.recommender.stores`); evaluation passes the in-memory ones from
`dragonrec.recommender.core.memory`. Keep these narrow: every method here must be cheap in both worlds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId


class ProductStore(ABC):
    """Products plus the cheap aggregates serving reads (trending, complements), all by product id."""

    @abstractmethod
    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        """Products by id; unknown ids are left out."""

    @abstractmethod
    def trending(self, *, limit: int, categories: Sequence[str] = ()) -> list[tuple[ProductId, float]]:
        """Best (product id, trend score) first, only available products; `categories` are category-path
        prefixes to restrict to (any of them)."""

    @abstractmethod
    def complements(self, product_id: ProductId, *, limit: int) -> list[tuple[ProductId, float]]:
        """Products that go with `product_id` (learned co-purchase/view-then-buy), best first."""

    @abstractmethod
    def category_complements(self, category: str, *, limit: int) -> list[tuple[str, float]]:
        """Leaf categories that go with `category` (full path), best first."""


class HistoryStore(ABC):
    @abstractmethod
    def recent(self, user_key: str, *, limit: int) -> list[HistoryEvent]:
        """The most recent `limit` events of a user ("u:<pk>") or session ("s:<id>"), oldest first."""


@dataclass(frozen=True)
class VectorFilter:
    """Which products a vector search may return."""

    exclude: tuple[ProductId, ...] = ()
    only_available: bool = True  # only products the shop sells now
    categories: tuple[str, ...] = ()  # category-path prefixes (any of them); empty: every category


class VectorIndex(ABC):
    """Unit-normalised product embeddings with nearest-neighbour search (cosine similarity)."""

    dim: int

    @abstractmethod
    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        """(matrix of shape (len(ids), dim), boolean mask of which ids have a vector); rows without one are 0."""

    def search(
        self,
        query: np.ndarray,
        *,
        k: int,
        exclude: Iterable[ProductId] = (),
        only_available: bool = True,
        categories: Sequence[str] = (),
    ) -> list[tuple[ProductId, float]]:
        """Top-k (id, cosine similarity) for a query vector, best first, never returning `exclude`d ids, and
        still returning k rows when filters remove some (over-fetch or iterative scan)."""
        if k <= 0:
            return []
        return self.top(query, k, VectorFilter(tuple(exclude), only_available, tuple(categories)))

    @abstractmethod
    def top(self, query: np.ndarray, k: int, where: VectorFilter) -> list[tuple[ProductId, float]]:
        """`search` for k >= 1, its filters in one value: what an implementation provides."""

    def similarity(self, query: np.ndarray, ids: Sequence[ProductId]) -> np.ndarray:
        """Cosine similarity of `query` to each id (0 where an id has no vector), shape (len(ids),).

        Rankers score through this; the default gathers `vectors`, implementations may do better (the in-memory
        index multiplies its whole matrix once, which is what full-catalog evaluation needs).
        """
        matrix, _ = self.vectors(ids)
        return matrix @ np.asarray(query, dtype=np.float32)
