"""The student model registry: train a version on tracking data (+ teacher judgments), store its artifact through
Django's storage API, and promote it only when it beats the active version (Gorse's master/tasks.go rule).

Along its seams: `selectors` (a version's training data, the gate split, the compare page's figures), `gate` (the
held-out comparison), `versions` (activation, force-activation, rollback), `lifecycle` (the one path every run takes:
candidate -> gate -> promoted or kept, recorded) and `training` (the nightly retrain).
"""

from __future__ import annotations

from dragonrec.recommender.services.registry.gate import GateScorer, gate_passes, gate_reason, ndcg10
from dragonrec.recommender.services.registry.lifecycle import (
    Built,
    candidate_store,
    decision_record,
    lifecycle_run,
    model_version_promote_if_better,
)
from dragonrec.recommender.services.registry.selectors import (
    COMPARED,
    GATE_SALT,
    GATE_SHARE,
    MIN_VALID_HISTORY,
    Pairs,
    is_gate_shopper,
    item_table,
    reward_labels,
    teacher_labels,
    training_sequences,
    training_split,
    versions_comparison,
)
from dragonrec.recommender.services.registry.training import student_train_and_register
from dragonrec.recommender.services.registry.versions import (
    model_version_activate,
    model_version_create,
    model_version_force_activate,
    model_version_rollback,
    model_versions_fail_stuck,
)

__all__ = [
    "COMPARED",
    "GATE_SALT",
    "GATE_SHARE",
    "MIN_VALID_HISTORY",
    "Built",
    "GateScorer",
    "Pairs",
    "candidate_store",
    "decision_record",
    "gate_passes",
    "gate_reason",
    "is_gate_shopper",
    "item_table",
    "lifecycle_run",
    "model_version_activate",
    "model_version_create",
    "model_version_force_activate",
    "model_version_promote_if_better",
    "model_version_rollback",
    "model_versions_fail_stuck",
    "ndcg10",
    "reward_labels",
    "student_train_and_register",
    "teacher_labels",
    "training_sequences",
    "training_split",
    "versions_comparison",
]
