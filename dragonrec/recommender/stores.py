"""ORM/pgvector implementations of the three store interfaces (recommender.core.stores), used by serving.

The evaluation harness uses the in-memory ones (recommender.core.memory); both feed the same Pipeline.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import tempfile
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Func, Max, Model, QuerySet, TextField
from django.db.models.functions import Cast
from pgvector.django import CosineDistance

from dragonrec.bulk import PGCOPY_HEADER, PGCOPY_TRAILER
from dragonrec.categories import category_q, category_within
from dragonrec.recommender.adapters import DefaultProductAdapter, product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.caching import ProcessCache, TtlMemo
from dragonrec.recommender.core.memory import (
    InMemoryProductStore,
    InMemoryVectorIndex,
    TrendOrder,
    lookup_rows,
)
from dragonrec.recommender.core.pipeline import ScoredMemo
from dragonrec.recommender.core.stores import HistoryStore, ProductStore, VectorFilter, VectorIndex
from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId
from dragonrec.recommender.models import CategoryComplement, ProductComplement, ProductEmbedding, TrendingScore
from dragonrec.tracking.selectors import history_recent


class ProductRows:
    """The fields PRODUCT_SERIALIZER renders, for every product of a large catalog, so that rendering a list's
    products needs no query (at 1M products, `products_rendered`'s query and model instances were ~7% of a
    worker's GIL time: a list shows products no list in this process showed before). PostgreSQL writes each row as
    JSON text (json_build_array: no Python object per field while the part is built), 32 rows to a zlib block
    (~27 bytes a product at 1M generated products, ~180 raw); rendering a product inflates its block (~40 us) and
    builds an unsaved model instance for the serializer, so what comes out is the serializer's own answer.

    Only for a ModelSerializer of the product model whose fields are plain columns (`fields_for`); the objects
    behind foreign keys (the category) are read once per part.
    """

    BLOCK = 32
    TYPES = {"AutoField", "BigAutoField", "CharField", "TextField", "SlugField", "EmailField", "URLField",
             "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
             "PositiveSmallIntegerField", "BooleanField", "FloatField", "DecimalField", "JSONField", "DateTimeField",
             "ForeignKey"}  # fmt: skip

    def __init__(self, model: type[Model], fields: list[Any]) -> None:
        self.model = model
        self.fields = fields
        self.blocks: list[bytes] = []
        self._pending: list[str] = []
        self._related = {
            f.attname: f.related_model._default_manager.in_bulk()
            for f in fields
            if f.get_internal_type() == "ForeignKey"
        }

    @classmethod
    def fields_for(cls, model: type[Model]) -> list[Any] | None:
        serializer = recommender_settings.PRODUCT_SERIALIZER
        meta = getattr(serializer, "Meta", None)
        if meta is None or getattr(meta, "model", None) is not model or not hasattr(meta, "fields"):
            return None
        names = meta.fields
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.primary_key or names == "__all__" or f.name in names or f.attname in names
        ]
        return fields if all(f.get_internal_type() in cls.TYPES for f in fields) else None

    def expression(self) -> Any:
        """Each row as JSON text (decimals as their text: a JSON number would lose their scale)."""
        columns = [
            Cast(f.attname, TextField()) if f.get_internal_type() == "DecimalField" else F(f.attname)
            for f in self.fields
        ]
        return Cast(Func(*columns, function="json_build_array"), TextField())

    def add(self, texts: Iterable[str]) -> None:
        self._pending.extend(texts)
        while len(self._pending) >= self.BLOCK:
            self._seal(self._pending[: self.BLOCK])
            del self._pending[: self.BLOCK]

    def done(self) -> None:
        if self._pending:
            self._seal(self._pending)
        self._pending = []

    def _seal(self, texts: list[str]) -> None:
        self.blocks.append(zlib.compress("\n".join(texts).encode(), 1))

    def instances(self, rows: Sequence[int]) -> list[Model]:
        """Unsaved model instances of these rows, as the database would give them."""
        lines: dict[int, list[bytes]] = {}
        found = []
        names = [f.attname for f in self.fields]
        for row in rows:
            block, at = divmod(row, self.BLOCK)
            if block not in lines:
                lines[block] = zlib.decompress(self.blocks[block]).split(b"\n")
            values = json.loads(lines[block][at])
            for i, field in enumerate(self.fields):
                value = values[i]
                if value is not None:
                    kind = field.get_internal_type()
                    if kind == "DecimalField":
                        values[i] = Decimal(value)
                    elif kind == "DateTimeField":
                        values[i] = datetime.fromisoformat(value)
                    elif kind == "FloatField":
                        values[i] = float(value)
            instance = self.model.from_db(None, names, values)
            for attname, objects in self._related.items():
                field = next(f for f in self.fields if f.attname == attname)
                field.set_cached_value(instance, objects.get(getattr(instance, attname)))
            found.append(instance)
        return found


class CatalogProducts:
    """The products part of a snapshot: every product's id, availability and category as columns, and the products
    themselves (`get_many`).

    At most EXACT_SEARCH_MAX_PRODUCTS products (not `lazy`) it holds every Product object, as it always did. Above,
    a Python object per product is what made a million-product snapshot slow and large (measured at 1M: ~40 s to
    build the objects, ~920 MB per process), so it keeps columns instead: with the default adapter, every field a
    Product has (title and brand as one UTF-8 blob and codes, price, stock, activity, consumable: ~50 bytes a
    product, ~50 MB at 1M), so `get_many` builds the few hundred products a request touches from memory, as a small
    catalog reads them, with no query (loading them from the database per list was ~13% of a 1M worker's GIL time).
    An adapter that maps products its own way (`to_product` / `values_fields` overridden) keeps the old way: the
    missing ones are loaded by one query. Either way up to LARGE_CATALOG_CACHED objects are remembered for as long
    as this part lives (it is rebuilt when any product changes).
    """

    LARGE_CATALOG_CACHED = 50_000

    def __init__(self, adapter: DefaultProductAdapter, *, lazy: bool) -> None:
        self.adapter = adapter
        self.lazy = lazy
        self.columnar = False  # products built from this part's columns (a large catalog, the default adapter)
        self.rows: ProductRows | None = None  # what the API renders of each product (a large catalog)
        self._objects: dict[ProductId, Product] = {}
        self._lock = threading.Lock()
        if not self.lazy:
            products = [adapter.to_product(row) for row in adapter.queryset().values(*adapter.values_fields())]
            self._objects = {p.id: p for p in products}
            self.ids = np.array([p.id for p in products], dtype=np.int64)
            self.available = np.array([p.is_active and p.in_stock for p in products], dtype=bool)
            paths, codes = np.unique(np.asarray([p.category for p in products], dtype=object), return_inverse=True)
        else:
            kind = type(adapter)
            # the columns stand for to_product's rows only when the adapter maps them the default way
            self.columnar = (
                kind.to_product is DefaultProductAdapter.to_product
                and kind.values_fields is DefaultProductAdapter.values_fields
            )
            fields: list[Any] = ["pk", adapter.active_field, adapter.in_stock_field, adapter.category_path_field]
            if self.columnar:
                # the price as PostgreSQL's double (numeric -> float8 parses the decimal's text, as float() does)
                fields += [adapter.title_field, adapter.brand_field, Cast(adapter.price_field, FloatField())]
                fields += [f"{adapter.attributes_field}__consumable"] if adapter.attributes_field else [None]
                render = ProductRows.fields_for(adapter.queryset().model)
                if render is not None:
                    self.rows = ProductRows(adapter.queryset().model, render)
                    fields.append(self.rows.expression())
                fields = [f for f in fields if f is not None]
            rows = adapter.queryset().order_by("pk").values_list(*fields).iterator(chunk_size=20_000)
            # column by column, a chunk of rows at a time: a million rows as Python tuples at once left the
            # process's heap hundreds of MB larger for good
            parts: list[list[Any]] = [[] for _ in range(9)]
            path_codes: dict[str, int] = {}
            brand_codes: dict[str, int] = {}
            while chunk := list(itertools.islice(rows, 20_000)):
                columns = list(zip(*chunk, strict=True))
                parts[0].append(np.asarray(columns[0], dtype=np.int64))
                parts[1].append(np.asarray(columns[1], dtype=bool))
                parts[2].append(np.asarray(columns[2], dtype=bool))
                parts[3].append(np.asarray([path_codes.setdefault(c or "", len(path_codes)) for c in columns[3]]))
                if self.columnar:
                    titles = [str(t or "").encode() for t in columns[4]]
                    parts[4].append(b"".join(titles))
                    parts[5].append(np.fromiter(map(len, titles), dtype=np.int64, count=len(titles)))
                    parts[6].append(
                        np.asarray([brand_codes.setdefault(str(b or ""), len(brand_codes)) for b in columns[5]])
                    )
                    parts[7].append(np.asarray([np.nan if v is None else v for v in columns[6]], dtype=np.float64))
                    consumable = columns[7] if adapter.attributes_field else [None] * len(chunk)
                    parts[8].append(np.asarray([bool(v) for v in consumable], dtype=bool))
                    if self.rows is not None:
                        self.rows.add(columns[-1])
            del chunk

            def joined(i: int, dtype: Any) -> np.ndarray:
                return np.concatenate(parts[i]).astype(dtype, copy=False) if parts[i] else np.zeros(0, dtype=dtype)

            self.ids = joined(0, np.int64)
            self.is_active = joined(1, bool)
            self.in_stock = joined(2, bool)
            self.available = self.is_active & self.in_stock
            # the distinct paths sorted, each row's code into them (what np.unique gives)
            found = np.asarray(list(path_codes), dtype=object)
            order = np.argsort(found) if len(found) else np.zeros(0, dtype=np.int64)
            paths, codes = found[order], np.argsort(order)[joined(3, np.int64)]
            if self.columnar:
                self._title_blob = b"".join(parts[4])
                self._title_at = np.concatenate([[0], np.cumsum(joined(5, np.int64))]).astype(np.int64)
                self._brands: tuple[list[str], np.ndarray] = (list(brand_codes), joined(6, np.int32))
                self._price = joined(7, np.float64)
                self._consumable = joined(8, bool)
                self._category_codes = np.asarray(codes, dtype=np.int32)
                self._paths: list[str] = paths.tolist()
            del parts
            if self.rows is not None:
                self.rows.done()
        self.categories: tuple[np.ndarray, np.ndarray] = (paths, codes)
        self._known = np.sort(self.ids)
        # API renderings of products (PRODUCT_SERIALIZER output), filled on first use: they go stale exactly when
        # the products do, so they live and die with this part.
        self.rendered: dict[ProductId, Any] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        if not self.lazy:
            return {i: self._objects[i] for i in ids if i in self._objects}
        ids = list(ids)
        missing = [i for i in ids if i not in self._objects]
        if missing:
            wanted = np.asarray(missing, dtype=np.int64)
            at = np.minimum(np.searchsorted(self._known, wanted), max(len(self._known) - 1, 0))
            known = [int(i) for i in wanted[self._known[at] == wanted]] if len(self._known) else []
            if known:
                if self.columnar:
                    loaded = self._from_columns(known)
                else:
                    rows = self.adapter.queryset().filter(pk__in=known).values(*self.adapter.values_fields())
                    loaded = {int(row["pk"]): self.adapter.to_product(row) for row in rows}
                with self._lock:
                    if len(self._objects) + len(loaded) > self.LARGE_CATALOG_CACHED:
                        # the first loaded go (a dict keeps insertion order): emptying it all made every worker
                        # reload its popular products at once, a burst of queries each time it filled up
                        keep = list(self._objects.items())[len(self._objects) // 4 + len(loaded) :]
                        self._objects = dict(keep)
                    self._objects.update(loaded)
        objects = self._objects
        return {i: objects[i] for i in ids if i in objects}

    def instances(self, ids: Sequence[ProductId]) -> dict[ProductId, Model]:
        """Model instances of the known products for rendering, from this part's rows ({} when it has none)."""
        if self.rows is None or not len(self.ids):
            return {}
        wanted = np.asarray(ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        known = self.ids[at] == wanted
        rows = at[known].tolist()
        return dict(zip(wanted[known].tolist(), self.rows.instances(rows), strict=True))

    def _from_columns(self, ids: Sequence[ProductId]) -> dict[ProductId, Product]:
        """Known products built from the columns: what DefaultProductAdapter.to_product makes of their rows."""
        rows = np.searchsorted(self.ids, np.asarray(ids, dtype=np.int64))  # ids are sorted: pk order
        blob, (brands, paths) = self._title_blob, (self._brands[0], self._paths)
        # each column gathered at once (a NumPy scalar per field and product cost ~14 us a product)
        columns = zip(
            ids,
            self._title_at[rows].tolist(),
            self._title_at[rows + 1].tolist(),
            self._category_codes[rows].tolist(),
            self._brands[1][rows].tolist(),
            self._price[rows].tolist(),
            self.in_stock[rows].tolist(),
            self.is_active[rows].tolist(),
            self._consumable[rows].tolist(),
            strict=True,
        )
        found: dict[ProductId, Product] = {}
        for pid, start, stop, category, brand, price, in_stock, is_active, consumable in columns:
            found[pid] = Product(
                id=pid,
                title=blob[start:stop].decode(),
                category=paths[category],
                brand=brands[brand],
                price=None if price != price else price,  # NaN: no price
                in_stock=in_stock,
                is_active=is_active,
                consumable=consumable,
            )
        return found

    def all(self) -> Iterator[Product]:
        """Every product (the search vocabulary, batch jobs): from memory, or streamed from the database."""
        if not self.lazy:
            yield from self._objects.values()
            return
        if self.columnar:
            ids = self.ids.tolist()
            for start in range(0, len(ids), 5000):
                yield from self._from_columns(ids[start : start + 5000]).values()
            return
        rows = self.adapter.queryset().order_by("pk").values(*self.adapter.values_fields())
        for row in rows.iterator(chunk_size=5000):
            yield self.adapter.to_product(row)


class MappedVectors:
    """The embedding matrix of a large catalog in files mapped read-only into every serving process: the OS keeps
    one copy of their pages for all gunicorn workers (and stacks) on the machine, out of the Python heap. A request's
    `vectors(ids)` for its few hundred candidates is a gather from them, no round trip.

    Nearest neighbours: an inverted-file index over the same rows. The rows are stored grouped by their nearest of
    ~sqrt(n) k-means centroids; beside them, a faiss IndexIVFScalarQuantizer over the same groups holds each row in
    8 bits a dimension (SQ8, a quarter of the floats' bytes, scanned with SIMD), written with the vectors and mapped
    read-only as well (faiss's IO_FLAG_MMAP_IFC: every process shares its pages, ~375 MB at 1M x 384). A search
    scores the centroids, scans the NPROBE closest groups' 8-bit rows with the filter as a bitmap (IDSelectorBitmap),
    then scores the best few hundred again from the float rows (measured at 1M: CPU p50 ~2 ms, recall@10 0.99 at 48
    groups, where reading 12 groups of float rows took 13 ms for 0.91; bench/catalog_scale.py).
    Why not pgvector's HNSW index: measured here at 1M products, top-100 with the availability filter p50 71 ms,
    p95 313 ms per query (load ~10), and a list runs several searches. Why not an in-process HNSW graph (faiss, as
    the student's candidates): its build at 1M x 384 ran for more than 6 minutes at a sixth of a core here without
    finishing, and each process would hold its own 1.6 GB copy of the vectors.

    Written once per embedding version (rows unit-normalised) by the first process that needs it; the others wait
    for it under a file lock. Beside them, per version and product-category order, a category-ordered copy of the
    float rows (`ordered`) for category-restricted searches (LargeCatalogSearch).
    """

    NPROBE = 48  # groups scanned per search (of ~1,000 at 1M products): recall@10 in docs/scaling.md
    REFINE_MIN = 100  # rows the 8-bit scan proposes (at least; 2k for a larger k) for the float rows to rank
    SQ_TRAIN_ROWS = 65_536  # rows the 8-bit ranges are trained on
    KMEANS_SAMPLE = 64  # training rows per centroid
    KMEANS_ITERATIONS = 8

    def __init__(self, model_name: str, version: tuple[Any, ...], dim: int) -> None:
        directory = Path(recommender_settings.VECTOR_FILE_DIR or Path(tempfile.gettempdir()) / "dragonrec-vectors")
        directory.mkdir(parents=True, exist_ok=True)
        db = connection.settings_dict
        # two databases on one machine (two stacks, tests) must not share a file; a new version gets a new one
        owner = hashlib.sha1(repr((db.get("HOST"), db.get("PORT"), db.get("NAME"))).encode()).hexdigest()[:12]
        name = hashlib.sha1(repr((model_name, version)).encode()).hexdigest()[:12]
        base = directory / f"{owner}-{name}"
        paths = {part: base.with_suffix(f".{part}.npy") for part in ("ids", "centroids", "offsets", "vectors")}
        paths["sq8"] = base.with_suffix(".sq8.faiss")
        self._base, self._lock_path = base, directory / f"{owner}.lock"
        with open(self._lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not paths["vectors"].exists():
                self._write(model_name, dim, paths)
                for old in directory.glob(f"{owner}-*"):  # a process still mapping one keeps its pages
                    if old not in paths.values() and old.is_file():
                        old.unlink(missing_ok=True)
            elif not paths["sq8"].exists():  # vector files written before the 8-bit index existed
                self._write_index(paths)
        self.dim = dim
        self.ids = np.load(paths["ids"], mmap_mode="r")
        self.matrix = np.load(paths["vectors"], mmap_mode="r")
        self.centroids = np.load(paths["centroids"])
        self.offsets = np.load(paths["offsets"])
        import faiss

        # mapped, not read: its 8-bit rows stay in the page cache, one copy for every process
        self.index: Any = faiss.read_index(str(paths["sq8"]), faiss.IO_FLAG_MMAP_IFC)
        self._selectors: dict[int, tuple[np.ndarray, np.ndarray, Any]] = {}
        # rows by id: the file is in group order, lookups go through the ids sorted (16 bytes a product per process)
        self._by_id = np.argsort(self.ids, kind="stable")
        self._sorted_ids = np.asarray(self.ids)[self._by_id]

    @classmethod
    def _write(cls, model_name: str, dim: int, paths: dict[str, Path]) -> None:
        from dragonrec.recommender.core.embedder import normalize_rows

        table = ProductEmbedding._meta.db_table
        # binary COPY rows are fixed width for one dimension: field count, id, then the vector's own binary form
        row = np.dtype([("fields", ">i2"), ("l_pk", ">i4"), ("pk", ">i8"), ("l_vec", ">i4"), ("dim", ">i2"),
                        ("unused", ">i2"), ("vec", ">f4", (dim,))])  # fmt: skip
        raw_path = paths["vectors"].with_suffix(".copy")
        with connection.cursor() as cursor, open(raw_path, "wb") as raw:
            query = (
                f"COPY (SELECT product_id, vector FROM {table} WHERE model_name = %s AND vector_dims(vector) = %s "
                "ORDER BY product_id) TO STDOUT (FORMAT BINARY)"
            )
            with cursor.cursor.copy(query, [model_name, dim]) as copy:
                for data in copy:
                    raw.write(data)
        size, header = raw_path.stat().st_size, len(PGCOPY_HEADER)
        n = (size - header - len(PGCOPY_TRAILER)) // row.itemsize
        rows = np.memmap(raw_path, dtype=row, mode="r", offset=header, shape=(n,))

        def block(start: int, stop: int) -> np.ndarray:
            return normalize_rows(np.asarray(rows["vec"][start:stop], dtype=np.float32))

        chunk = 50_000
        # spherical k-means on a sample, then every row to its nearest centroid
        rng = np.random.default_rng(0)
        lists = max(1, min(4096, int(np.sqrt(n))))
        sample = np.sort(rng.choice(n, size=min(n, lists * cls.KMEANS_SAMPLE), replace=False))
        train = normalize_rows(np.asarray(rows["vec"][sample], dtype=np.float32)) if n else np.zeros((0, dim))
        centroids = train[rng.choice(len(train), size=lists, replace=False)] if n else np.zeros((1, dim))
        for _ in range(cls.KMEANS_ITERATIONS if n else 0):
            nearest = np.argmax(train @ centroids.T, axis=1)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, train)
            empty = ~sums.any(axis=1)
            sums[empty] = centroids[empty]  # a centroid that lost every row stays where it was
            centroids = normalize_rows(sums)
        assign = np.concatenate(
            [np.argmax(block(i, min(n, i + chunk)) @ centroids.T, axis=1) for i in range(0, n, chunk)] or [[]]
        ).astype(np.int64)
        order = np.argsort(assign, kind="stable")  # grouped by centroid, by id within a group
        offsets = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=len(centroids)))])
        tmp = {part: path.with_suffix(".tmp.npy") for part, path in paths.items()}
        np.save(tmp["ids"], np.asarray(rows["pk"][order], dtype=np.int64))
        np.save(tmp["centroids"], centroids.astype(np.float32))
        np.save(tmp["offsets"], offsets.astype(np.int64))
        out = np.lib.format.open_memmap(tmp["vectors"], mode="w+", dtype=np.float32, shape=(n, dim))
        for i in range(0, n, chunk):
            picked = order[i : i + chunk]
            out[i : i + len(picked)] = normalize_rows(np.asarray(rows["vec"][picked], dtype=np.float32))
        out.flush()
        del out
        raw_path.unlink()  # still mapped by `rows` until this returns: Linux frees it then
        for part in ("ids", "centroids", "offsets"):
            os.replace(tmp[part], paths[part])
        cls._write_index({**paths, "vectors": tmp["vectors"]})
        os.replace(tmp["vectors"], paths["vectors"])  # the vectors last: their file says all are there

    @classmethod
    def _write_index(cls, paths: dict[str, Path]) -> None:
        """The 8-bit inverted file over the vector file's groups (its rows keep their group: no k-means again)."""
        import faiss

        matrix = np.load(paths["vectors"], mmap_mode="r")
        centroids = np.ascontiguousarray(np.load(paths["centroids"]), dtype=np.float32)
        offsets = np.load(paths["offsets"])
        n, dim = matrix.shape
        quantizer = faiss.IndexFlatIP(dim)
        quantizer.add(centroids)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, len(centroids), faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(n, size=min(n, cls.SQ_TRAIN_ROWS), replace=False))
        if n:  # the quantizer is trained already: this trains the 8-bit ranges
            index.train(np.ascontiguousarray(matrix[sample], dtype=np.float32))
        groups = np.repeat(np.arange(len(centroids), dtype=np.int64), np.diff(offsets))
        for start in range(0, n, 50_000):
            # add_core with the group each row is stored in; the arrays are held in names: faiss reads them
            # through raw pointers after swig_ptr returns
            block = np.ascontiguousarray(matrix[start : start + 50_000], dtype=np.float32)
            rows = np.arange(start, start + len(block), dtype=np.int64)
            assigned = np.ascontiguousarray(groups[start : start + len(block)])
            index.add_core(len(block), faiss.swig_ptr(block), faiss.swig_ptr(rows), faiss.swig_ptr(assigned))
        tmp = paths["sq8"].with_suffix(".tmp.faiss")
        faiss.write_index(index, str(tmp))
        os.replace(tmp, paths["sq8"])

    def ordered(self, order: np.ndarray) -> np.ndarray:
        """The float rows in `order` (row numbers of this file), as a file of their own mapped read-only: a
        category-ordered copy makes a category's rows one contiguous slice (LargeCatalogSearch). Named by this
        version and a digest of the order, written once by the first process that asks for it (under the vector
        files' lock, beside them); an older order's copy of the same version is removed then (products moved to
        other categories), a process still mapping it keeps its pages."""
        order = np.ascontiguousarray(order, dtype=np.int64)
        digest = hashlib.blake2b(order.tobytes(), digest_size=8).hexdigest()
        path = self._base.with_name(f"{self._base.name}.order-{digest}.npy")
        with open(self._lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                tmp = path.with_suffix(".tmp.npy")
                n, dim = self.matrix.shape
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dim))
                for i in range(0, n, 50_000):
                    picked = order[i : i + 50_000]
                    # read in file order (the order within a category is by file row already, so mostly sequential)
                    out[i : i + len(picked)] = self.matrix[picked]
                out.flush()
                del out
                for old in self._base.parent.glob(f"{self._base.name}.order-*.npy"):
                    if old != tmp:
                        old.unlink(missing_ok=True)
                os.replace(tmp, path)
        mapped: np.ndarray = np.load(path, mmap_mode="r")
        return mapped

    def rows(self, ids: Sequence[ProductId]) -> np.ndarray:
        return lookup_rows(self._sorted_ids, self._by_id, np.asarray(ids, dtype=np.int64).reshape(-1))

    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows(ids)
        found = rows >= 0
        matrix = np.zeros((len(rows), self.dim), dtype=np.float32)
        matrix[found] = self.matrix[rows[found]]
        return matrix, found

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray, *, nprobe: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the k best `allowed` rows among the nprobe closest groups, widening the probe until k
        allowed rows were found (or every group was read); scores are the float rows' own."""
        import faiss

        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        nprobe, groups = nprobe or self.NPROBE, len(self.centroids)
        if not self.index.ntotal:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        selector = self._selector(allowed)
        while True:
            params = faiss.SearchParametersIVF()
            params.nprobe = min(nprobe, groups)
            params.sel = selector
            _, labels = self.index.search(query, max(2 * k, self.REFINE_MIN), params=params)
            rows = labels[0][labels[0] >= 0]
            if len(rows) >= k or nprobe >= groups:
                break
            nprobe *= 2
        if not len(rows):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows = np.sort(rows)  # the float rows read in file order
        scores = np.asarray(self.matrix[rows]) @ query[0]
        if len(rows) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            rows, scores = rows[top], scores[top]
        return rows, scores

    def _selector(self, allowed: np.ndarray) -> Any:
        """The filter as faiss reads it (a bitmap of the allowed rows), kept per mask: a search's filters are the
        few masks of its LargeCatalogSearch (available, every), and packing a million flags costs ~0.3 ms."""
        import faiss

        found = self._selectors.get(id(allowed))
        if found is None or found[0] is not allowed:
            bitmap = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
            found = (allowed, bitmap, faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap)))
            if len(self._selectors) >= 8:
                self._selectors.clear()
            self._selectors[id(allowed)] = found  # the mask is held too: its id stays its own
        return found[2]


class LargeCatalogSearch:
    """Nearest neighbours for a large catalog: the shared vectors' inverted file (MappedVectors) with this snapshot's
    products (availability, categories) as masks over its rows; rebuilt when either changes (a fraction of a second).

    A search restricted to categories (a category complement's few thousand products) is exact over their rows, read
    from a category-ordered copy of the vectors (MappedVectors.ordered: rows sorted by category path, by file row
    within one), so a category is one contiguous slice of a mapped file: one matrix-vector product, no gather and no
    per-process copy, its pages shared by every process. Gathering a category's scattered rows from the file was most
    of such a search (measured at 1M: a third of a complements list's wall time; a 128 MB per-process cache of
    gathered categories held ~20 of them). The copy follows the order: products moved to another category write a
    new one (seconds at 1M, once per machine), availability is a mask over the slice, so it never does."""

    NEIGHBOURS_MIN = 32  # neighbours kept per query and filter (more when a search asks for more)
    NEIGHBOURS_KEPT = 20_000  # queries whose neighbours a process keeps (~0.6 KB each at 32)

    def __init__(self, vectors: MappedVectors, catalog: CatalogProducts) -> None:
        self.vectors = vectors
        rows = lookup_rows(catalog.ids, np.arange(len(catalog.ids), dtype=np.int64), np.asarray(vectors.ids))
        known = rows >= 0
        self.every = known
        self.available = known & catalog.available[np.maximum(rows, 0)]
        paths, codes = catalog.categories
        # each file row's category (its path's code; a row without a product: one past the last path)
        self._paths = np.append(paths, "")
        row_codes = np.where(known, np.asarray(codes)[np.maximum(rows, 0)], len(paths))
        self._order = np.argsort(row_codes, kind="stable")  # category-ordered position -> file row
        self._code_at = np.concatenate([[0], np.cumsum(np.bincount(row_codes, minlength=len(self._paths)))])
        self._ordered: np.ndarray | None = None  # the category-ordered copy, mapped on the first such search
        self._in_order = {True: self.available[self._order], False: self.every[self._order]}
        self._ranges: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        self._lock = threading.Lock()
        self._neighbours: TtlMemo[tuple[bytes, tuple[str, ...], bool, int], tuple[np.ndarray, np.ndarray]] = TtlMemo(
            ttl_s=float("inf"), max_entries=self.NEIGHBOURS_KEPT
        )

    def top(self, query: np.ndarray, k: int, where: VectorFilter) -> list[tuple[ProductId, float]]:
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        excluded = set(where.exclude)
        # Lists ask for the same popular products' neighbours again and again (recent browsing, complements of the
        # same anchors), each shopper excluding their own few items: the best `want` before exclusion are kept per
        # query and filter for as long as this search lives (rebuilt when the products or the vectors change), and
        # a shopper's exclusions are taken out of them (want >= k + excluded: the same k as a search of its own).
        want = max(self.NEIGHBOURS_MIN, 1 << (k + len(excluded) - 1).bit_length())
        categories = tuple(sorted(set(where.categories)))
        # the query by a 16-byte digest (its 1.5 KB of bytes as the key made a kept query ~5 KB)
        key = (hashlib.blake2b(query.tobytes(), digest_size=16).digest(), categories, where.only_available, want)
        ids, scores = self._neighbours.get(key, lambda: self._top(query, want, categories, where.only_available))
        found = zip(ids.tolist(), scores.tolist(), strict=True)
        return [(pid, score) for pid, score in found if pid not in excluded][:k]

    def category_ordered(self) -> np.ndarray:
        """The category-ordered copy, mapped on the first category search (written then if no process has yet)."""
        with self._lock:
            if self._ordered is None:
                self._ordered = self.vectors.ordered(self._order)
            return self._ordered

    def _category_ranges(self, categories: tuple[str, ...]) -> list[tuple[int, int]]:
        """The slices [start, stop) of the category-ordered copy under any of these prefixes: the matching paths'
        codes, consecutive ones merged (a prefix's subcategories sort next to it, so usually one slice)."""
        found = self._ranges.get(categories)
        if found is None:
            matching = np.flatnonzero([category_within(str(p), categories) for p in self._paths[:-1]])
            found = []
            for code in matching.tolist():
                start, stop = int(self._code_at[code]), int(self._code_at[code + 1])
                if found and found[-1][1] == start:
                    found[-1] = (found[-1][0], stop)
                elif stop > start:
                    found.append((start, stop))
            self._ranges[categories] = found
        return found

    def _by_category(
        self, query: np.ndarray, categories: tuple[str, ...], only_available: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(file rows, scores) of every allowed row under the categories, exact: a slice of the ordered copy each."""
        ordered = self.category_ordered()
        allowed = self._in_order[only_available]
        rows, scores = [], []
        for start, stop in self._category_ranges(categories):
            keep = np.flatnonzero(allowed[start:stop])
            if len(keep) == stop - start:
                scores.append(np.asarray(ordered[start:stop]) @ query)
            elif len(keep) * 4 >= stop - start:  # mostly allowed: the whole slice, the others dropped after
                scores.append((np.asarray(ordered[start:stop]) @ query)[keep])
            else:
                scores.append(np.asarray(ordered[start + keep]) @ query)
            rows.append(self._order[start + keep])
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(rows), np.concatenate(scores)

    def _top(
        self, query: np.ndarray, k: int, categories: tuple[str, ...], only_available: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best, best first, ties by id (arrays: 12 bytes a neighbour kept, not ~100)."""
        if categories:
            rows, scores = self._by_category(query, categories, only_available)
            if len(rows) > k:  # a category holds thousands: only its best k become Python objects
                top = np.argpartition(-scores, k - 1)[:k]
                rows, scores = rows[top], scores[top]
        else:
            rows, scores = self.vectors.search(query, k, self.available if only_available else self.every)
        ids = np.asarray(self.vectors.ids)[rows]
        order = np.lexsort((ids, -scores))  # best first, ties by id
        return ids[order], scores[order]


def _exact_index(model_name: str, dim: int, products: CatalogProducts) -> InMemoryVectorIndex:
    rows = ProductEmbedding.objects.filter(model_name=model_name).values_list("product_id", "vector")
    ids, vectors = [], []
    for pid, vector in rows.iterator(chunk_size=5000):
        ids.append(int(pid))
        vectors.append(np.asarray(vector, dtype=np.float32))
    matrix = np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
    return InMemoryVectorIndex(ids, matrix, products=products.all())


class SnapshotProductStore(InMemoryProductStore):
    """The product store over a snapshot's parts: products, trend order, item and category complements (the
    in-memory store's reads, over parts that are built and reused separately)."""

    def __init__(
        self,
        catalog: CatalogProducts,
        trend: TrendOrder,
        complements: tuple[dict[ProductId, list[tuple[ProductId, float]]], dict[str, list[tuple[str, float]]]],
    ) -> None:
        self.catalog = catalog
        self.trend = trend
        self.complements_part = complements
        self._complements, self._category_complements = complements

    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        return self.catalog.get_many(ids)

    def all(self) -> Iterator[Product]:
        return self.catalog.all()


def _load_complements() -> tuple[dict[ProductId, list[tuple[ProductId, float]]], dict[str, list[tuple[str, float]]]]:
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
    return complements, categories


# The parts of a snapshot and the versions each depends on (keys of _snapshot_version). The trend order lists every
# product, so it follows the products too; the exact (small-catalog) index holds availability and categories.
PART_VERSIONS = {
    "products": ("products",),
    "trending": ("products", "trending"),
    "complements": ("complements",),
    "vectors": ("products", "embeddings"),
}


class CatalogSnapshot:
    """The catalog as the ranking code reads it, held in each serving process: products, trending, complements and
    the embedding vectors, in parts that are versioned and rebuilt separately.

    Why in memory: a request touches a few hundred products, their vectors and several aggregate lists; as ORM
    queries that is ~25 round trips (~60 ms on 2 cores), from memory it is microseconds. The snapshot is checked
    against one cheap version query per part (max timestamps and row counts of the source tables) at most every
    SNAPSHOT_TTL_S seconds, so a stock change or a new product shows within seconds; a part whose version did not
    change is taken over from the previous snapshot as it is (`built` names those rebuilt), so the trending refresh
    every 15 minutes reorders trending and leaves a million products and their vectors alone.

    Above EXACT_SEARCH_MAX_PRODUCTS products the products are columns loaded lazily (CatalogProducts) and the vectors
    a shared read-only file (MappedVectors); nearest neighbours come from the inverted-file index in those files
    (LargeCatalogSearch). pgvector's HNSW index answers only a PgVectorIndex built without a snapshot.
    """

    catalog: CatalogProducts
    products: SnapshotProductStore

    def __init__(
        self,
        *,
        adapter: DefaultProductAdapter,
        model_name: str,
        dim: int,
        versions: dict[str, tuple[Any, ...]] | None = None,
        previous: CatalogSnapshot | None = None,
    ) -> None:
        versions = versions if versions is not None else _snapshot_version(adapter, model_name)
        lazy = bool(versions["products"][-1])
        keys: dict[str, tuple[Any, ...]] = {
            part: tuple(versions[v] for v in depends) for part, depends in PART_VERSIONS.items()
        }
        if lazy:  # the shared vector file does not hold availability or categories: products do not matter to it
            keys["vectors"] = (versions["embeddings"], "file")
        self.part_keys = keys

        def reuse(part: str) -> bool:
            return previous is not None and previous.part_keys.get(part) == keys[part]

        assert previous is None or isinstance(previous, CatalogSnapshot)
        self.built: tuple[str, ...] = tuple(part for part in PART_VERSIONS if not reuse(part))
        catalog = previous.catalog if previous is not None and reuse("products") else None
        catalog = catalog or CatalogProducts(adapter, lazy=lazy)
        self.catalog = catalog
        if previous is not None and reuse("trending"):
            trend = previous.products.trend
        else:
            trend = TrendOrder(
                catalog.ids,
                catalog.available,
                catalog.categories,
                dict(TrendingScore.objects.values_list("product_id", "score")),
            )
        pairs = previous.products.complements_part if previous is not None and reuse("complements") else None
        self.products = SnapshotProductStore(catalog, trend, pairs or _load_complements())
        self.vectors: InMemoryVectorIndex | MappedVectors
        if previous is not None and reuse("vectors"):
            self.vectors = previous.vectors
        elif catalog.lazy:
            self.vectors = MappedVectors(model_name, versions["embeddings"], dim)
        else:
            self.vectors = _exact_index(model_name, dim, catalog)
        # exact in-memory search (small catalogs), else None: the large catalog's search answers
        self.index: InMemoryVectorIndex | None = self.vectors if isinstance(self.vectors, InMemoryVectorIndex) else None
        self.search: LargeCatalogSearch | None = None
        if isinstance(self.vectors, MappedVectors):
            same = previous is not None and previous.catalog is catalog and previous.vectors is self.vectors
            self.search = (
                previous.search if same and previous is not None else LargeCatalogSearch(self.vectors, catalog)
            )
        self.size = len(catalog)
        self.rendered = catalog.rendered
        # Scored candidates computed from this snapshot (core.pipeline.Pipeline.scored): dropped with it.
        ttl = float(recommender_settings.SCORED_CANDIDATES_TTL_S)
        self.scored: ScoredMemo | None = (
            ScoredMemo(ttl_s=ttl, max_entries=int(recommender_settings.SCORED_CANDIDATES_MAX)) if ttl > 0 else None
        )


# One thread checks and, if the catalog changed, rebuilds; meanwhile the other threads keep serving the previous
# snapshot instead of queueing behind the rebuild (seconds for a large catalog, and a trending recompute changes the
# version every 15 minutes). Only a process with no snapshot at all makes its requests wait.
# Above EXACT_SEARCH_MAX_PRODUCTS the version query itself counts a million rows (1.0-1.6 s of PostgreSQL under
# load): every process checking every 5 s was about half a core at 1M products, so a large catalog checks at most
# every SNAPSHOT_TTL_LARGE_S. Set from the last snapshot built: the TTL is read under the cache's lock.
_large_catalog = [False]


def _snapshot_ttl() -> float:
    ttl = float(recommender_settings.SNAPSHOT_TTL_S)
    return max(ttl, float(recommender_settings.SNAPSHOT_TTL_LARGE_S)) if _large_catalog[0] else ttl


_snapshots: ProcessCache[str, tuple[dict[str, tuple[Any, ...]], CatalogSnapshot]] = ProcessCache(
    "catalog snapshot", ttl_s=_snapshot_ttl, stale_while_refresh=True
)
SNAPSHOT_KEY = "catalog"  # one snapshot per process: the version names the embedding model it was built for


def _table_markers(models: Sequence[type[Model]]) -> dict[str, tuple[float, int]]:
    """Per table: the planner's row estimate and a change marker (rows inserted + deleted ever, this transaction's
    included), from the statistics PostgreSQL keeps anyway: one catalog read, nothing scanned."""
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples, pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_inserted("
            "c.oid) + pg_stat_get_tuples_deleted(c.oid) + pg_stat_get_xact_tuples_deleted(c.oid) FROM pg_class c "
            "WHERE c.oid = ANY(%s::text[]::regclass[])",
            [tables],
        )
        return {name: (float(estimate), int(changes)) for name, estimate, changes in cursor.fetchall()}


def _snapshot_version(adapter: DefaultProductAdapter, model_name: str) -> dict[str, tuple[Any, ...]]:
    """What each part of a snapshot depends on: per source table the newest timestamp (an index's last entry) and
    its rows. A small table's rows are counted; counting a large one (above SNAPSHOT_COUNT_MAX_ROWS rows by the
    planner's estimate) was 1.0-1.6 s of PostgreSQL under load at 1M products, so there the rows are stood for by
    PostgreSQL's insert + delete counters of the table: an insert or a delete (what a newest timestamp misses)
    still changes the version, at most a second late (a backend reports its counters when it goes idle, at most
    once a second). A rolled-back insert or a statistics reset changes it too: one needless rebuild."""
    qs = adapter.queryset()
    embeddings_qs = ProductEmbedding.objects.filter(model_name=model_name)
    sources: dict[str, tuple[QuerySet[Any], str]] = {
        "products": (qs, adapter.updated_field),
        "embeddings": (embeddings_qs, "embedded_at"),
        "trending": (TrendingScore.objects.all(), "computed_at"),
        "pairs": (ProductComplement.objects.all(), "computed_at"),
        "categories": (CategoryComplement.objects.all(), "computed_at"),
    }
    markers = _table_markers([source.model for source, _ in sources.values()])
    count_max = float(recommender_settings.SNAPSHOT_COUNT_MAX_ROWS)
    found: dict[str, tuple[Any, Any]] = {}
    for name, (source, stamp) in sources.items():
        estimate, changes = markers.get(source.model._meta.db_table, (-1.0, 0))
        if estimate > count_max:  # -1: never analysed, so counted
            found[name] = (("changes", changes), source.aggregate(last=Max(stamp))["last"])
        else:
            found[name] = tuple(source.aggregate(n=Count("pk"), last=Max(stamp)).values())
    products_n, _ = found["products"]
    if isinstance(products_n, tuple):  # estimated: large when the estimate is
        large = markers[qs.model._meta.db_table][0] > int(recommender_settings.EXACT_SEARCH_MAX_PRODUCTS)
    else:
        large = (products_n or 0) > int(recommender_settings.EXACT_SEARCH_MAX_PRODUCTS)
    return {
        "products": (*found["products"], large),
        "embeddings": (model_name, *found["embeddings"]),
        "trending": found["trending"],
        "complements": (*found["pairs"], *found["categories"]),
    }


def catalog_snapshot(*, model_name: str, dim: int) -> CatalogSnapshot:
    """The process's snapshot, checked against the database at most every SNAPSHOT_TTL_S seconds; the parts whose
    version changed are rebuilt, the others taken over (see CatalogSnapshot)."""

    def refresh(
        previous: tuple[dict[str, tuple[Any, ...]], CatalogSnapshot] | None,
    ) -> tuple[dict[str, tuple[Any, ...]], CatalogSnapshot]:
        adapter = product_adapter()
        version = _snapshot_version(adapter, model_name)
        if previous is not None and previous[0] == version:
            return previous
        snapshot = CatalogSnapshot(
            adapter=adapter,
            model_name=model_name,
            dim=dim,
            versions=version,
            previous=previous[1] if previous is not None else None,
        )
        _large_catalog[0] = snapshot.catalog.lazy
        return version, snapshot

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
        self.in_memory = snapshot is not None and snapshot.index is not None and snapshot.size <= exact_max

    def vectors(self, ids: Sequence[ProductId]) -> tuple[np.ndarray, np.ndarray]:
        if self.snapshot is not None:
            return self.snapshot.vectors.vectors(ids)
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
            assert self.snapshot is not None and self.snapshot.index is not None
            return self.snapshot.index.top(query, k, where)
        if self.snapshot is not None and self.snapshot.search is not None:
            return self.snapshot.search.top(query, k, where)
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
