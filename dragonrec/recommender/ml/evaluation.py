"""Entry point for the offline evaluation harness: train a student on a leave-one-out split, return its ranker.

>>> ranker = build_student_ranker(split, item_vectors=vecs, seed=0, progress=True)
>>> ranker.score(Context(history=split.test_input(user)), all_product_ids)
"""

from __future__ import annotations

import logging

import numpy as np

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.evaluation.dataset import Split
from dragonrec.recommender.ml.model import StudentConfig
from dragonrec.recommender.ml.ranker import StudentRanker
from dragonrec.recommender.ml.student import Student

log = logging.getLogger(__name__)


def build_student_ranker(
    split: Split,
    *,
    item_vectors: np.ndarray,
    seed: int,
    progress: bool,
    config: StudentConfig | None = None,
) -> Ranker:
    """Train on split.train (every user), early-stop on split.valid_target (full-ranking NDCG@10 of the next item
    after each training history), with the StudentConfig defaults unless `config` is given.

    item_vectors: (n_items, 384) MiniLM text vectors in dense-id order (products[i].id == i) — the same vectors
    the serving VectorIndex holds. The returned ranker scores from ctx.history.
    """
    ds = split.dataset
    users = sorted(split.train)
    product_ids = [p.id for p in ds.products]
    valid = [(split.train[u], split.valid_target[u]) for u in users if u in split.valid_target]
    student = Student.fit(
        sequences=[split.train[u] for u in users],
        product_ids=product_ids,
        text_vectors=item_vectors,
        config=config,
        valid=valid,
        seed=seed,
        version=f"{ds.name}-seed{seed}",
        progress=progress,
    )
    log.info("student for %s: %s", ds.name, student.meta)
    return StudentRanker(student)
