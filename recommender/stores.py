"""ORM/pgvector implementations of the three store interfaces (recommender.core.stores), used by serving.

The evaluation harness uses the in-memory ones (recommender.core.memory); both feed the same Pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from pgvector.django import CosineDistance

from recommender.adapters import DefaultProductAdapter, product_adapter
from recommender.core.stores import HistoryStore, ProductStore, VectorIndex
from recommender.core.types import HistoryEvent, Product, ProductId
from recommender.models import CategoryComplement, ProductComplement, ProductEmbedding, TrendingScore
from tracking.selectors import history_recent

CATEGORY_SEPARATOR = " > "


def _category_q(field: str, prefixes: Sequence[str]) -> Q:
    q = Q()
    for prefix in prefixes:
        q |= Q(**{field: prefix}) | Q(**{f"{field}__startswith": prefix + CATEGORY_SEPARATOR})
    return q


class OrmProductStore(ProductStore):
    def __init__(self, adapter: DefaultProductAdapter | None = None) -> None:
        self.adapter = adapter or product_adapter()

    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        ids = list(ids)
        if not ids:
            return {}
        rows = self.adapter.queryset().filter(pk__in=ids).values(*self.adapter.values_fields())
        return {int(row["pk"]): self.adapter.to_product(row) for row in rows}

    def trending(self, *, limit: int, categories: Sequence[str] = ()) -> list[tuple[ProductId, float]]:
        available = self.adapter.available().values("pk")
        qs = TrendingScore.objects.filter(product__in=available)
        if categories:
            qs = qs.filter(_category_q("category_path", categories))
        return [(int(pid), float(s)) for pid, s in qs.order_by("-score").values_list("product_id", "score")[:limit]]

    def complements(self, product_id: ProductId, *, limit: int) -> list[tuple[ProductId, float]]:
        qs = ProductComplement.objects.filter(product_id=product_id).order_by("-score")
        return [(int(pid), float(s)) for pid, s in qs.values_list("complement_id", "score")[:limit]]

    def category_complements(self, category: str, *, limit: int) -> list[tuple[str, float]]:
        qs = CategoryComplement.objects.filter(category_path=category).order_by("-manual", "-score")
        return [(path, float(s)) for path, s in qs.values_list("complement_path", "score")[:limit]]


class OrmHistoryStore(HistoryStore):
    def recent(self, user_key: str, *, limit: int) -> list[HistoryEvent]:
        kind, _, key = user_key.partition(":")
        if kind == "u" and key.isdigit():
            rows = history_recent(user_id=int(key), limit=limit)
        elif kind == "s" and key:
            rows = history_recent(session_id=key, limit=limit)
        else:
            return []
        return [HistoryEvent(product_id=int(pid), event_type=t, timestamp=ts.timestamp()) for pid, t, ts in rows]


class PgVectorIndex(VectorIndex):
    """Cosine nearest neighbours through pgvector's HNSW index, with availability and category filters."""

    def __init__(self, *, model_name: str, dim: int, adapter: DefaultProductAdapter | None = None) -> None:
        self.model_name = model_name
        self.dim = dim
        self.adapter = adapter or product_adapter()

    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        matrix = np.zeros((len(ids), self.dim), dtype=np.float32)
        mask = np.zeros(len(ids), dtype=bool)
        if not ids:
            return matrix, mask
        position = {pid: i for i, pid in enumerate(ids)}
        rows = ProductEmbedding.objects.filter(model_name=self.model_name, product_id__in=list(position)).values_list(
            "product_id", "vector"
        )
        for pid, vector in rows:
            i = position[int(pid)]
            matrix[i] = np.asarray(vector, dtype=np.float32)
            mask[i] = True
        return matrix, mask

    def search(
        self,
        query: np.ndarray,
        *,
        k: int,
        exclude: Iterable[ProductId] = (),
        only_available: bool = True,
        categories: Sequence[str] = (),
    ) -> list[tuple[ProductId, float]]:
        if k <= 0:
            return []
        qs = ProductEmbedding.objects.filter(model_name=self.model_name)
        if only_available:
            qs = qs.filter(product__in=self.adapter.available().values("pk"))
        if categories:
            qs = qs.filter(product__in=self.adapter.queryset().filter(
                _category_q(self.adapter.category_path_field, categories)).values("pk"))  # fmt: skip
        excluded = list(exclude)
        if excluded:
            qs = qs.exclude(product_id__in=excluded)
        vector = [float(x) for x in np.asarray(query, dtype=np.float32).ravel()]
        qs = qs.annotate(distance=CosineDistance("vector", vector)).order_by("distance")
        with transaction.atomic(), connection.cursor() as cursor:
            # Filters applied after an HNSW scan can leave fewer than k rows; pgvector 0.8's iterative scan keeps
            # scanning until k rows pass them. relaxed_order may swap near-ties, so we re-sort below.
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(40, min(1000, 2 * k))])
            rows = list(qs.values_list("product_id", "distance")[:k])
        rows.sort(key=lambda r: r[1])
        return [(int(pid), 1.0 - float(distance)) for pid, distance in rows]
