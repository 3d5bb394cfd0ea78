from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dragonrec.recommender.core.embedder import HashingEmbedder, SentenceTransformerEmbedder, cached_encode


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=16)
        self.calls = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
        return super().encode(texts)


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    vectors = HashingEmbedder(dim=32).encode(["red running shoes", "red running shoes", "coffee", ""])

    assert vectors.dtype == np.float32 and vectors.shape == (4, 32)
    assert np.allclose(vectors[0], vectors[1])
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0)
    assert np.allclose(vectors[3], 0.0)  # an empty text has no direction


def test_cached_encode_embeds_once_and_keys_on_model_and_texts(tmp_path: Path) -> None:
    embedder = CountingEmbedder()

    first = cached_encode(embedder, ["a b", "c"], tmp_path)
    second = cached_encode(embedder, ["a b", "c"], tmp_path)
    cached_encode(embedder, ["a", "b c"], tmp_path)  # same characters, other texts: a new key

    assert embedder.calls == 2
    assert np.array_equal(first, second)
    assert len(list(tmp_path.glob("*.npy"))) == 2
    assert not list(tmp_path.glob("*.tmp"))


def test_minilm_loads_offline_and_puts_related_products_close() -> None:
    embedder = SentenceTransformerEmbedder()

    vectors = embedder.encode(["trail running shoes", "lightweight jogging sneakers", "espresso coffee machine"])

    assert embedder.dim == 384 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
