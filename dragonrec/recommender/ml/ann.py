"""Top-k inner-product search over the student's item vectors: exact below a catalogue size, HNSW above.

    >>> index = ItemIndex.build(student.item_vectors(), config=RetrievalConfig(exact_max_items=20_000))
    >>> dense_ids, scores = index.search(user_vector, k=200)   # best first; hidden items never come back
    >>> index.add(new_item_vectors)      # products added between versions (Student.add_items) get the next dense ids
    >>> index.hide([17, 42])             # deactivated products: left out of every search until shown again
    >>> index.save(directory); ItemIndex.load(directory, vectors)

Why in-process faiss HNSW (Malkov & Yashunin, TPAMI 2018) and not a pgvector column (bench/student_scale.py has
the figures): the student's vectors change with every model version (nightly, and hourly through the online update),
so a pgvector column would mean rewriting and re-indexing a million rows per version inside the shop's database,
while an in-process index is built once by the training job, shipped inside the artifact and read by every serving
process; and a query in process costs ~0.3-1.2 ms (10k-1M items) where a pgvector round trip costs a connection, SQL
planning and the network (100k items, top 200: pgvector HNSW p50 1.24 ms with recall@10 1.000 and a 21.5 s build,
faiss 0.46 ms with 0.997 and 11.9 s). Inner-product HNSW directly: the usual MIPS-to-L2 reduction (an extra coordinate
sqrt(max_norm^2 - |x|^2), Bachrach et al. 2014) gave far worse recall on student-like vectors (0.35 vs 0.99 recall@10
at the same ef on 100k items), because the extra coordinate dominates the distances.

Exact search (one float32 matrix-vector product + argpartition) returns the true top-k and, below
`exact_max_items`, costs less than it is worth approximating (see RetrievalConfig).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dragonrec.recommender.core.defaults import DEFAULTS

log = logging.getLogger(__name__)

INDEX_FILE = "ann_index.faiss"
HIDDEN_FILE = "ann_hidden.npy"


@dataclass(frozen=True)
class RetrievalConfig:
    """How the student retrieves. Defaults measured by bench/student_scale.py (docs/configuration.md, STUDENT_ANN)."""

    # Up to this many items the search is exact. Exact top-200 costs ~0.04 ms of CPU per 1k items at hidden 128
    # (0.19 ms at 10k, 4.1 ms at 100k, 41 ms at 1M), HNSW 0.14 / 0.46 / 1.1 ms: HNSW is a little faster from 10k
    # on, but up to 20k exact costs under ~0.5 ms and never misses an item (and Beauty-sized catalogues, 12k, keep
    # the exact figures of the offline benches), so exact stays the answer there.
    exact_max_items: int = DEFAULTS["STUDENT_ANN"]["exact_max_items"]
    # HNSW graph degree and build beam: at 1M items m=16 / ef_construction=80 gave recall@10 0.994 against exact
    # (0.987 for a random-weight student's own user vectors); 32 / 100 gave 0.999 at 100k but builds ~2x slower, and
    # the graph is rebuilt with every version (hourly at most)
    m: int = DEFAULTS["STUDENT_ANN"]["m"]
    ef_construction: int = DEFAULTS["STUDENT_ANN"]["ef_construction"]
    # query-time beam width; raised to the k asked when a request wants more (faiss needs >= k)
    ef_search: int = DEFAULTS["STUDENT_ANN"]["ef_search"]
    build_threads: int = 0  # threads while building (0 = what faiss/OpenMP has)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ItemIndex:
    """Dense-id-keyed top-k inner-product search; exact or HNSW (`kind`). Not thread-safe for writes (add/hide):
    the serving process changes it only when it loads a new version or hides a product it found inactive."""

    def __init__(self, vectors: np.ndarray, *, config: RetrievalConfig, hnsw: Any = None) -> None:
        self.config = config
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._hnsw: Any = hnsw  # faiss.IndexHNSWFlat when the catalogue is above exact_max_items (faiss's stubs lag)
        self._hidden = np.zeros(len(self.vectors), dtype=bool)
        # how many are hidden, kept in step with `_hidden`: a search must not scan a million flags to learn it
        self._n_hidden = 0
        # (faiss selector of the visible ids, the bitmap it points into), rebuilt when `hidden` changes; one tuple
        # swapped whole, so a search in another thread keeps the bitmap it uses alive
        self._selector: tuple[Any, np.ndarray] | None = None

    # ----- building -----
    @classmethod
    def build(cls, vectors: np.ndarray, *, config: RetrievalConfig | None = None) -> ItemIndex:
        config = config or RetrievalConfig()
        index = cls(vectors, config=config)
        if len(index.vectors) > config.exact_max_items:
            index._hnsw = index._new_hnsw()
            index._add_to_hnsw(index.vectors)
        return index

    def _new_hnsw(self) -> Any:
        import faiss

        hnsw = faiss.IndexHNSWFlat(self.dim, self.config.m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = self.config.ef_construction
        hnsw.hnsw.efSearch = self.config.ef_search
        return hnsw

    def _add_to_hnsw(self, vectors: np.ndarray) -> None:
        import faiss

        threads_before = faiss.omp_get_max_threads()
        if self.config.build_threads:
            faiss.omp_set_num_threads(self.config.build_threads)
        started = time.perf_counter()
        try:
            self._hnsw.add(np.ascontiguousarray(vectors, dtype=np.float32))
        finally:
            faiss.omp_set_num_threads(threads_before)
        log.info("student item index: %d vectors added to HNSW in %.1fs", len(vectors), time.perf_counter() - started)

    @property
    def kind(self) -> str:
        return "exact" if self._hnsw is None else "hnsw"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vectors)

    # ----- catalogue changes between versions -----
    def add(self, vectors: np.ndarray) -> None:
        """Append items (the next dense ids, in order). Crossing exact_max_items builds the HNSW graph once."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if not len(vectors):
            return
        self.vectors = np.concatenate([self.vectors, vectors])
        self._hidden = np.concatenate([self._hidden, np.zeros(len(vectors), dtype=bool)])
        self._selector = None
        if self._hnsw is not None:
            self._add_to_hnsw(vectors)
        elif len(self.vectors) > self.config.exact_max_items:
            self._hnsw = self._new_hnsw()
            self._add_to_hnsw(self.vectors)

    def hide(self, dense_ids: np.ndarray | list[int]) -> None:
        """Leave these items out of every search (deactivated products); unknown ids are ignored."""
        self._set_hidden(dense_ids, True)

    def show(self, dense_ids: np.ndarray | list[int]) -> None:
        """Undo `hide` (a product put back on sale)."""
        self._set_hidden(dense_ids, False)

    def _set_hidden(self, dense_ids: np.ndarray | list[int], value: bool) -> None:
        ids = np.asarray(dense_ids, dtype=np.int64).reshape(-1)
        ids = ids[(ids >= 0) & (ids < len(self._hidden))]
        if len(ids) and bool((self._hidden[ids] != value).any()):
            self._hidden[ids] = value
            self._n_hidden = int(self._hidden.sum())
            self._selector = None

    @property
    def hidden(self) -> np.ndarray:
        """Dense ids currently hidden."""
        return np.flatnonzero(self._hidden)

    # ----- search -----
    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(dense ids, scores), best first, at most k, never a hidden item."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        k = min(int(k), len(self._hidden) - self._n_hidden)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._hnsw is None:
            return self._exact(q, k)
        return self._approximate(q, k)

    def search_exact(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The true top-k, whatever the index kind (what recall is measured against)."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        k = min(int(k), len(self._hidden) - self._n_hidden)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return self._exact(q, k)

    def _exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors @ q
        if self._n_hidden:
            scores[self._hidden] = -np.inf
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top]

    def _approximate(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        params: Any = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = max(self.config.ef_search, k)
        selector = self._selector
        if selector is None and self._n_hidden:
            # a bitmap of the visible ids (1 bit per item, 125 kB per million): HNSW skips the others while it
            # searches, so k visible items still come back
            bitmap = np.packbits(~self._hidden, bitorder="little")
            selector = (faiss.IDSelectorBitmap(len(self._hidden), faiss.swig_ptr(bitmap)), bitmap)
            self._selector = selector
        if selector is not None:
            params.sel = selector[0]
        distances, labels = self._hnsw.search(q[None, :], k, params=params)
        keep = labels[0] >= 0
        return labels[0][keep].astype(np.int64), distances[0][keep]

    # ----- persistence -----
    def save(self, directory: str | Path) -> None:
        """Write the HNSW graph (and the hidden ids) next to the student's weights; an exact index is rebuilt from
        the vectors at load, so it writes nothing but the hidden ids."""
        d = Path(directory)
        if self._hnsw is not None:
            import faiss

            faiss.write_index(self._hnsw, str(d / INDEX_FILE))
        np.save(d / HIDDEN_FILE, self.hidden)

    @classmethod
    def load(cls, directory: str | Path, vectors: np.ndarray, *, config: RetrievalConfig | None = None) -> ItemIndex:
        """The saved index for these vectors, or a fresh build when none was saved, it was built for another number
        of items, or the configuration now wants the other kind (exact vs HNSW)."""
        config = config or RetrievalConfig()
        d = Path(directory)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index: ItemIndex | None = None
        path = d / INDEX_FILE
        if len(vectors) > config.exact_max_items and path.exists():
            import faiss

            hnsw: Any = faiss.read_index(str(path))
            if hnsw.ntotal == len(vectors) and hnsw.d == vectors.shape[1]:
                hnsw.hnsw.efSearch = config.ef_search
                index = cls(vectors, config=config, hnsw=hnsw)
            else:
                log.warning("item index in %s is for %d items, not %d: rebuilding", d, hnsw.ntotal, len(vectors))
        if index is None:
            index = cls.build(vectors, config=config)
        if (d / HIDDEN_FILE).exists():
            index.hide(np.load(d / HIDDEN_FILE))
        return index
