"""Entry point for the offline evaluation harness: train a student on a leave-one-out split, return its ranker.

>>> ranker = build_student_ranker(split, item_vectors=vecs, seed=0, progress=True)
>>> ranker.score(Context(history=split.test_input(user)), all_product_ids)
>>> student = split_student(split, item_vectors=vecs, seed=0, cache_dir=Path("/tmp/students"))  # trained once
>>> baseline = build_bsarec_ranker(split, seed=0)   # BSARec (AAAI 2024), published hyperparameters, same trainer
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId
from dragonrec.recommender.ml.model import StudentConfig, bsarec_config
from dragonrec.recommender.ml.ranker import StudentRanker
from dragonrec.recommender.ml.student import Student

log = logging.getLogger(__name__)


# What training needs of the harness's split (evaluation.dataset.Split), as protocols: the ML layer does not import
# the evaluation layer that imports it.
class SplitDataset(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def products(self) -> Sequence[Product]: ...  # dense ids: products[i].id == i
    @property
    def n_items(self) -> int: ...


class Split(Protocol):
    @property
    def dataset(self) -> SplitDataset: ...
    @property
    def train(self) -> Mapping[str, Sequence[HistoryEvent]]: ...  # user -> history without the last two events
    @property
    def valid_target(self) -> Mapping[str, ProductId]: ...


def _cache_key(split: Split, item_vectors: np.ndarray, seed: int, config: StudentConfig) -> str:
    """What the trained weights depend on: the training events, the text vectors, the config and the seed."""
    digest = hashlib.sha1()
    for user in sorted(split.train):
        digest.update(user.encode())
        digest.update(np.array([e.product_id for e in split.train[user]], dtype=np.int64).tobytes())
        digest.update(np.array([split.valid_target[user]], dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(item_vectors, dtype=np.float32).tobytes())
    settings = config.to_dict() | {"time_budget_s": None, "num_threads": None}  # they change speed, not the model
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return f"{split.dataset.name}-seed{seed}-{digest.hexdigest()[:12]}"


def _train_counts(split: Split) -> np.ndarray:
    ids = [e.product_id for events in split.train.values() for e in events]
    return np.bincount(ids, minlength=split.dataset.n_items).astype(np.float64)


def split_student(
    split: Split,
    *,
    item_vectors: np.ndarray,
    seed: int,
    progress: bool = False,
    config: StudentConfig | None = None,
    cache_dir: Path | None = None,
) -> Student:
    """Train on split.train (every user), early-stop on split.valid_target (full-ranking NDCG@10 of the next item
    after each training history), with the StudentConfig defaults unless `config` is given.

    item_vectors: (n_items, 384) MiniLM text vectors in dense-id order (products[i].id == i) — the same vectors
    the serving VectorIndex holds. With `cache_dir`, a student trained on the same data, config and seed is loaded
    from there instead of trained again (benches run several rankers and ablations on one student).
    """
    config = config or StudentConfig()
    folder = Path(cache_dir) / _cache_key(split, item_vectors, seed, config) if cache_dir else None
    if folder is not None and (folder / "student.json").exists():
        log.info("student for %s loaded from %s", split.dataset.name, folder)
        student = Student.load(folder)
        if student.train_counts is None:  # cached before artifacts carried them: the same training events
            student.train_counts = _train_counts(split)
        return student
    ds = split.dataset
    users = sorted(split.train)
    valid = [(split.train[u], split.valid_target[u]) for u in users if u in split.valid_target]
    student = Student.fit(
        sequences=[split.train[u] for u in users],
        product_ids=[p.id for p in ds.products],
        text_vectors=item_vectors,
        config=config,
        valid=valid,
        seed=seed,
        version=f"{ds.name}-seed{seed}",
        progress=progress,
    )
    log.info("student for %s: %s", ds.name, student.meta)
    if folder is not None:
        student.save(folder)
    return student


def build_student_ranker(
    split: Split,
    *,
    item_vectors: np.ndarray,
    seed: int,
    progress: bool,
    config: StudentConfig | None = None,
    cache_dir: Path | None = None,
) -> Ranker:
    """The bare student (see `split_student`) as a ranker scoring from ctx.history."""
    student = split_student(
        split, item_vectors=item_vectors, seed=seed, progress=progress, config=config, cache_dir=cache_dir
    )
    return StudentRanker(student)


def build_bsarec_ranker(
    split: Split, *, seed: int, progress: bool = False, config: StudentConfig | None = None
) -> Ranker:
    """BSARec as a harness baseline: trained by `split_student` (the student's own trainer, data, validation and
    early stopping) with its published Beauty hyperparameters (model.bsarec_config) and ids alone: its text
    vectors are zeros, so no product text reaches it, as in the paper."""
    config = config or bsarec_config()
    text = np.zeros((split.dataset.n_items, config.text_dim), dtype=np.float32)
    student = split_student(split, item_vectors=text, seed=seed, progress=progress, config=config)
    ranker = StudentRanker(student)
    ranker.name = "bsarec"
    return ranker
