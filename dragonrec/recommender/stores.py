"""ORM/pgvector implementations of the three store interfaces (recommender.core.stores), used by serving.

The evaluation harness uses the in-memory ones (recommender.core.memory); both feed the same Pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, Max
from pgvector.django import CosineDistance

from dragonrec.categories import category_q
from dragonrec.recommender.adapters import DefaultProductAdapter, product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.pipeline import ScoredMemo
from dragonrec.recommender.core.stores import HistoryStore, ProductStore, VectorFilter, VectorIndex
from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId
from dragonrec.recommender.models import CategoryComplement, ProductComplement, ProductEmbedding, TrendingScore
from dragonrec.tracking.selectors import history_recent


class CatalogSnapshot:
    """The catalog as the ranking code reads it, held in each serving process: products, trending, complements and
    the embedding matrix, in the same in-memory stores the evaluation harness uses.

    Why: a request touches a few hundred products, their vectors and several aggregate lists; as ORM queries
    that is ~25 round trips (~60 ms on 2 cores), from memory it is microseconds. The snapshot is rebuilt when one
    cheap version query (max timestamps and row counts of the source tables) changes, checked at most every
    SNAPSHOT_TTL_S seconds, so a stock change or a new product shows within seconds.
    """

    def __init__(self, *, adapter: DefaultProductAdapter, model_name: str, dim: int) -> None:
        products = [adapter.to_product(row) for row in adapter.queryset().values(*adapter.values_fields())]
        trending = dict(TrendingScore.objects.values_list("product_id", "score"))
        complements: dict[int, list[tuple[int, float]]] = {}
        for pid, other_id, score in ProductComplement.objects.order_by("product_id", "-score").values_list(
            "product_id", "complement_id", "score"
        ):
            complements.setdefault(pid, []).append((other_id, score))
        categories: dict[str, list[tuple[str, float]]] = {}
        for path, other, score in CategoryComplement.objects.order_by("category_path", "-manual", "-score").values_list(
            "category_path", "complement_path", "score"
        ):
            categories.setdefault(path, []).append((other, score))
        self.products = InMemoryProductStore(
            products, trending=trending, complements=complements, category_complements=categories
        )
        rows = ProductEmbedding.objects.filter(model_name=model_name).values_list("product_id", "vector")
        ids, vectors = [], []
        for pid, vector in rows.iterator(chunk_size=5000):
            ids.append(int(pid))
            vectors.append(np.asarray(vector, dtype=np.float32))
        matrix = np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
        self.index = InMemoryVectorIndex(ids, matrix, products=products)
        self.size = len(products)
        # API renderings of products (PRODUCT_SERIALIZER output), filled on first use: they go stale exactly when
        # the snapshot does, so they live and die with it.
        self.rendered: dict[ProductId, Any] = {}
        # Scored candidates computed from this snapshot (core.pipeline.Pipeline.scored): dropped with it.
        ttl = float(recommender_settings.SCORED_CANDIDATES_TTL_S)
        self.scored: ScoredMemo | None = (
            ScoredMemo(ttl_s=ttl, max_entries=int(recommender_settings.SCORED_CANDIDATES_MAX)) if ttl > 0 else None
        )


# One thread checks and, if the catalog changed, rebuilds; meanwhile the other threads keep serving the previous
# snapshot instead of queueing behind the rebuild (seconds for a large catalog, and a trending recompute changes the
# version every 15 minutes). Only a process with no snapshot at all makes its requests wait.
_snapshots: ProcessCache[str, tuple[tuple[Any, ...], CatalogSnapshot]] = ProcessCache(
    "catalog snapshot", ttl_s=lambda: float(recommender_settings.SNAPSHOT_TTL_S), stale_while_refresh=True
)
SNAPSHOT_KEY = "catalog"  # one snapshot per process: the version names the embedding model it was built for


def _snapshot_version(adapter: DefaultProductAdapter, model_name: str) -> tuple[Any, ...]:
    qs = adapter.queryset()
    products = qs.aggregate(n=Count("pk"), last=Max(adapter.updated_field))
    embeddings = ProductEmbedding.objects.filter(model_name=model_name).aggregate(
        n=Count("id"), last=Max("embedded_at")
    )
    trending = TrendingScore.objects.aggregate(n=Count("id"), last=Max("computed_at"))
    pairs = ProductComplement.objects.aggregate(n=Count("id"), last=Max("computed_at"))
    categories = CategoryComplement.objects.aggregate(n=Count("id"), last=Max("computed_at"))
    return (
        model_name,
        *products.values(),
        *embeddings.values(),
        *trending.values(),
        *pairs.values(),
        *categories.values(),
    )


def catalog_snapshot(*, model_name: str, dim: int) -> CatalogSnapshot:
    """The process's snapshot, checked against the database at most every SNAPSHOT_TTL_S seconds and rebuilt when
    one cheap version query (max timestamps and row counts of the source tables) changed."""

    def refresh(previous: tuple[tuple[Any, ...], CatalogSnapshot] | None) -> tuple[tuple[Any, ...], CatalogSnapshot]:
        adapter = product_adapter()
        version = _snapshot_version(adapter, model_name)
        if previous is not None and previous[0] == version:
            return previous
        return version, CatalogSnapshot(adapter=adapter, model_name=model_name, dim=dim)

    return _snapshots.get(SNAPSHOT_KEY, refresh)[1]


def current_snapshot() -> CatalogSnapshot | None:
    """The process's snapshot as last refreshed (by this request's pipeline), without a version check."""
    cached = _snapshots.peek(SNAPSHOT_KEY)
    return cached[1] if cached is not None else None


def scored_memo(products: ProductStore) -> ScoredMemo | None:
    """The memo of scored candidates of the snapshot behind serving's product store (None: another store, or off)."""
    return products.snapshot.scored if isinstance(products, OrmProductStore) else None


def products_from_db(ids: Iterable[ProductId]) -> dict[ProductId, Product]:
    """Products straight from the database, for batch jobs (Celery) that must not see a stale snapshot."""
    adapter = product_adapter()
    ids = list(ids)
    rows = adapter.queryset().filter(pk__in=ids).values(*adapter.values_fields()) if ids else []
    return {int(row["pk"]): adapter.to_product(row) for row in rows}


def serving_stores() -> tuple[OrmProductStore, PgVectorIndex]:
    """The product store and vector index one request uses (backed by this process's snapshot)."""
    from dragonrec.recommender.services.embeddings import embedder_get

    embedder = embedder_get()
    snapshot = catalog_snapshot(model_name=embedder.name, dim=embedder.dim)
    index = PgVectorIndex(
        model_name=embedder.name,
        dim=embedder.dim,
        snapshot=snapshot,
        exact_max=int(recommender_settings.EXACT_SEARCH_MAX_PRODUCTS),
    )
    return OrmProductStore(snapshot), index


class OrmProductStore(ProductStore):
    """Serving's product store: reads the process's catalog snapshot (see CatalogSnapshot)."""

    def __init__(self, snapshot: CatalogSnapshot) -> None:
        self.snapshot = snapshot

    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        return self.snapshot.products.get_many(ids)

    def trending(self, *, limit: int, categories: Sequence[str] = ()) -> list[tuple[ProductId, float]]:
        return self.snapshot.products.trending(limit=limit, categories=categories)

    def complements(self, product_id: ProductId, *, limit: int) -> list[tuple[ProductId, float]]:
        return self.snapshot.products.complements(product_id, limit=limit)

    def category_complements(self, category: str, *, limit: int) -> list[tuple[str, float]]:
        return self.snapshot.products.category_complements(category, limit=limit)


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
    """Cosine nearest neighbours through pgvector's HNSW index, with availability and category filters.

    With a `snapshot` and a catalog of at most EXACT_SEARCH_MAX_PRODUCTS products, searches run exactly in memory
    instead (a 50k x 384 matrix product takes a few milliseconds, less than the round trip); above that, and
    always without a snapshot, pgvector's HNSW index answers.
    """

    def __init__(
        self,
        *,
        model_name: str,
        dim: int,
        adapter: DefaultProductAdapter | None = None,
        snapshot: CatalogSnapshot | None = None,
        exact_max: int = 0,
    ) -> None:
        self.model_name = model_name
        self.dim = dim
        self.adapter = adapter or product_adapter()
        self.snapshot = snapshot
        self.in_memory = snapshot is not None and snapshot.size <= exact_max

    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        if self.snapshot is not None:
            return self.snapshot.index.vectors(ids)
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

    def top(self, query: np.ndarray, k: int, where: VectorFilter) -> list[tuple[ProductId, float]]:
        if self.in_memory:
            assert self.snapshot is not None
            return self.snapshot.index.top(query, k, where)
        qs = ProductEmbedding.objects.filter(model_name=self.model_name)
        if where.only_available:
            qs = qs.filter(product__in=self.adapter.available().values("pk"))
        if where.categories:
            qs = qs.filter(
                product__in=self.adapter.queryset()
                .filter(category_q(self.adapter.category_path_field, where.categories))
                .values("pk")
            )
        excluded = list(where.exclude)
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
