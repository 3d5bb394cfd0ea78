"""The load-test fast path for product embeddings: a vector per leaf category (a seeded random unit vector) plus
noise, for every product without an embedding. MiniLM embeds ~100 products a second on 2 cores, so a generated
catalog of a million products would take days; these vectors give the ANN index and the similarity queries a
realistic shape (products of a category close together) at COPY speed.

They are marked, so nobody mistakes them for text embeddings: `text_hash` is SYNTHETIC_HASH (never a real
SHA-256). `recommender_embed --all` replaces them with real ones."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
from django.db import connection

from dragonrec.bulk import PGCOPY_HEADER, PGCOPY_TRAILER, bulk_load, copy_binary
from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.models import EMBEDDING_DIM, ProductEmbedding
from dragonrec.recommender.services.embeddings import dirty_products_queryset, embedding_model_name

SYNTHETIC_HASH = "synthetic"
NOISE = 0.5  # a product's distance from its category's centre: same-category cosine ~0.8, across ~0
CHUNK = 50_000  # products per COPY chunk: ~80 MB of binary rows
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _centre(path: str, seed: int) -> np.ndarray:
    vector = np.random.default_rng([seed, zlib.crc32(path.encode())]).standard_normal(EMBEDDING_DIM)
    return vector / np.linalg.norm(vector)


def product_embeddings_synthetic(*, seed: int = 0) -> int:
    """Write synthetic vectors for every product that has no (fresh) embedding; returns how many."""
    model = embedding_model_name()
    adapter = product_adapter()
    rows = list(dirty_products_queryset(model_name=model).order_by("pk").values_list("pk", adapter.category_path_field))
    if not rows:
        return 0
    rng = np.random.default_rng(seed)
    centres: dict[str, np.ndarray] = {}
    name, hashed = model.encode(), SYNTHETIC_HASH.encode()
    row_type = np.dtype(
        [
            ("fields", ">i2"), ("l_pk", ">i4"), ("pk", ">i8"), ("l_name", ">i4"), ("name", f"S{len(name)}"),
            ("l_vec", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (EMBEDDING_DIM,)),
            ("l_hash", ">i4"), ("hash", f"S{len(hashed)}"), ("l_at", ">i4"), ("at", ">i8"),
        ]
    )  # fmt: skip
    now_us = int((datetime.now(UTC) - PG_EPOCH).total_seconds() * 1e6)

    def chunks() -> Iterator[bytes]:
        yield PGCOPY_HEADER
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            block = np.zeros(len(part), dtype=row_type)
            paths = [str(path or "") for _, path in part]
            base = np.stack([centres.setdefault(p, _centre(p, seed)) for p in paths])
            noise = rng.standard_normal((len(part), EMBEDDING_DIM))
            noise *= NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
            vectors = base + noise
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            block["fields"], block["l_pk"], block["pk"] = 5, 8, [pk for pk, _ in part]
            block["l_name"], block["name"] = len(name), name
            block["l_vec"], block["dim"], block["vec"] = 4 + 4 * EMBEDDING_DIM, EMBEDDING_DIM, vectors
            block["l_hash"], block["hash"] = len(hashed), hashed
            block["l_at"], block["at"] = 8, now_us
            yield block.tobytes()
        yield PGCOPY_TRAILER

    table = ProductEmbedding._meta.db_table
    with connection.cursor() as cursor:
        # products re-embedded here had a stale row (or none): the fresh one replaces it
        cursor.execute(
            f"DELETE FROM {table} WHERE model_name = %s AND product_id = ANY(%s)", [model, [pk for pk, _ in rows]]
        )
    with bulk_load(table, rows=len(rows)):
        copy_binary(table, "product_id, model_name, vector, text_hash, embedded_at", chunks())
    return len(rows)
