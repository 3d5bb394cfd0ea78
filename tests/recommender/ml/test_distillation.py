from __future__ import annotations

import numpy as np

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml import TeacherLabel, train_student
from dragonrec.recommender.ml.simulated_teacher import agreement


def test_teacher_labels_move_the_student_toward_the_teacher(tiny_config):
    # given: random browsing sequences, and a teacher with a taste the sequences never show:
    # among candidates, it rates products by a fixed preference order (lower id = better)
    rng = np.random.default_rng(0)
    n_items = 30
    seqs = [[(int(p), "view") for p in rng.integers(0, n_items, size=8)] for _ in range(200)]
    vecs = rng.normal(size=(n_items, 384)).astype(np.float32)

    def teacher_scores(cands: list[int]) -> list[float]:
        return [10.0 - 10.0 * c / n_items for c in cands]

    def label(seq) -> TeacherLabel:
        cands = [int(c) for c in rng.choice(n_items, size=8, replace=False)]
        hist = [HistoryEvent(p, e, float(i)) for i, (p, e) in enumerate(seq)]
        return TeacherLabel(history=hist, candidate_ids=cands, scores=teacher_scores(cands), confidence=1.0)

    labels = [label(s) for s in seqs]
    held_out = [label([(int(p), "view") for p in rng.integers(0, n_items, size=6)]) for _ in range(50)]
    tiny_config.max_epochs = 10
    tiny_config.distill_weight = 1.0

    # when
    results = {
        name: train_student(
            sequences=seqs, n_items=n_items, item_text_vectors=vecs, config=tiny_config, teacher_labels=lbs, seed=0
        )
        for name, lbs in (("without", []), ("with", labels))
    }

    # then: on histories the teacher never labelled, the student's candidate order agrees more with the teacher's
    agree = {name: agreement(r.model, held_out) for name, r in results.items()}
    assert agree["with"]["kendall_tau"] > agree["without"]["kendall_tau"] + 0.3
    assert agree["with"]["top1"] > agree["without"]["top1"]
    assert results["with"].history[-1].kd < results["with"].history[0].kd
