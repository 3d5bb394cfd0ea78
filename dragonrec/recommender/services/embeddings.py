"""Product embeddings in pgvector: computed once per distinct text, refreshed when a product changes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from django.db.models import Exists, OuterRef
from django.utils import timezone

from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.core.embedder import Embedder, SentenceTransformerEmbedder
from dragonrec.recommender.models import ProductEmbedding

# MiniLM takes ~1 s to load: once per process and model; no test data changes it, so it survives cache resets
_embedders: ProcessCache[str | None, Embedder] = ProcessCache("embedder", survives_reset=True)


def embedder_get() -> Embedder:
    """The process-wide embedder of the EMBEDDING_MODEL setting."""
    model = recommender_settings.EMBEDDING_MODEL
    return _embedders.get(model, lambda _: SentenceTransformerEmbedder(model))


def embedding_model_name() -> str:
    return embedder_get().name


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dirty_products_queryset(*, model_name: str):  # type: ignore[no-untyped-def]
    """Products without an embedding for `model_name`, or changed since it was computed."""
    adapter = product_adapter()
    current = ProductEmbedding.objects.filter(product_id=OuterRef("pk"), model_name=model_name)
    fresh = current.filter(embedded_at__gte=OuterRef(adapter.updated_field))
    return adapter.queryset().filter(~Exists(fresh))


def product_embeddings_refresh(
    *,
    product_ids: Iterable[int] | None = None,
    force: bool = False,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Embed up to `batch_size` dirty products (or the given ones); returns (embedded, skipped as unchanged).

    Idempotent: the text hash means a product whose text did not change is never re-encoded, only re-stamped.
    """
    adapter = product_adapter()
    embedder = embedder_get()
    batch_size = batch_size or recommender_settings.EMBED_BATCH_SIZE
    if product_ids is not None:
        qs = adapter.queryset().filter(pk__in=list(product_ids))
    elif force:
        qs = adapter.queryset()
    else:
        qs = dirty_products_queryset(model_name=embedder.name)
    rows = list(qs.order_by("pk").values(*adapter.text_fields())[:batch_size])
    if not rows:
        return 0, 0
    texts = {int(r["pk"]): adapter.to_text(r) for r in rows}
    hashes = {pid: text_hash(t) for pid, t in texts.items()}
    known = dict(
        ProductEmbedding.objects.filter(model_name=embedder.name, product_id__in=list(texts)).values_list(
            "product_id", "text_hash"
        )
    )
    todo = [pid for pid in texts if force or known.get(pid) != hashes[pid]]
    unchanged = [pid for pid in texts if pid not in todo]
    if unchanged:
        # same text, product row touched (stock, price): only the stamp moves, so it stops looking dirty
        ProductEmbedding.objects.filter(model_name=embedder.name, product_id__in=unchanged).update(
            embedded_at=timezone.now()
        )
    if todo:
        vectors = embedder.encode([texts[pid] for pid in todo])
        objs = [
            ProductEmbedding(product_id=pid, model_name=embedder.name, vector=vectors[i], text_hash=hashes[pid])
            for i, pid in enumerate(todo)
        ]
        ProductEmbedding.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["product", "model_name"],
            update_fields=["vector", "text_hash", "embedded_at"],
        )
    if progress:
        progress(len(rows))
    return len(todo), len(unchanged)


def product_embeddings_refresh_all(*, force: bool = False, progress: Callable[[int], None] | None = None) -> int:
    """Embed every dirty product (or all with `force`), batch after batch; returns how many were encoded."""
    embedded_total = 0
    adapter = product_adapter()
    if force:
        ids = list(adapter.queryset().order_by("pk").values_list("pk", flat=True))
        step = recommender_settings.EMBED_BATCH_SIZE
        for start in range(0, len(ids), step):
            embedded, _ = product_embeddings_refresh(
                product_ids=ids[start : start + step], force=True, progress=progress
            )
            embedded_total += embedded
        return embedded_total
    while True:
        embedded, skipped = product_embeddings_refresh(progress=progress)
        embedded_total += embedded
        if embedded + skipped == 0:
            return embedded_total
