"""The nightly retrain: a new version trained on all tracking events (+ teacher judgments and rewarded lists),
through the one model lifecycle (registry.lifecycle)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.model_report import training_log_rows
from dragonrec.recommender.services.registry.gate import ndcg10
from dragonrec.recommender.services.registry.lifecycle import Built, lifecycle_run
from dragonrec.recommender.services.registry.selectors import (
    item_table,
    reward_labels,
    teacher_labels,
    training_sequences,
    training_split,
)
from dragonrec.recommender.services.registry.versions import model_version_create
from dragonrec.recommender.services.students import (
    inactive_products,
    student_retrieval_config,
    student_training_overrides,
)
from dragonrec.tracking.selectors import events_span

if TYPE_CHECKING:  # torch is imported when a training runs, not with this module
    from dragonrec.recommender.ml.model import StudentConfig

logger = logging.getLogger(__name__)


def student_train_and_register(
    *, promote: bool = True, notes: str = "", seed: int = 0, config: StudentConfig | None = None, progress: bool = False
) -> ModelVersion | None:
    """Train a new version on all tracking events (+ teacher judgments), register it as a candidate, and promote
    it when it beats the active version on the same validation data. Returns None when there is too little data."""
    from dragonrec.recommender.ml.model import StudentConfig
    from dragonrec.recommender.ml.student import Student

    sequences = training_sequences()
    n_events = sum(len(s) for s in sequences.values())
    if n_events < recommender_settings.STUDENT_MIN_EVENTS:
        logger.info("student training skipped: %s events < STUDENT_MIN_EVENTS", n_events)
        return None
    product_ids, vectors = item_table()
    if not product_ids:
        logger.info("student training skipped: no product embeddings yet")
        return None
    train, valid, gate = training_split(sequences)
    labels = teacher_labels()
    rewards = reward_labels()
    config = config or StudentConfig(
        time_budget_s=float(recommender_settings.STUDENT_TIME_BUDGET_S), **student_training_overrides()
    )
    span = events_span()
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    version = model_version_create(
        status=ModelVersion.Status.TRAINING,
        architecture={
            "backbone": "gpt2",
            "hidden": config.hidden,
            "layers": config.n_layers,
            "heads": config.n_heads,
            "max_len": config.max_len,
            "text_dim": config.text_dim,
        },
        hyperparameters=config.to_dict(),
        data_snapshot={
            "events": n_events,
            "sequences": len(sequences),
            "products": len(product_ids),
            "teacher_labels": len(labels),
            "reward_labels": len(rewards),
            "valid_users": len(valid),
            "gate_users": len(gate),
            # the gate split is rebuilt from the events received by then (GateScorer)
            "gate_received_until": span["received"].isoformat() if span["received"] else None,
            "first_event": span["first"].isoformat() if span["first"] else None,
            "last_event": span["last"].isoformat() if span["last"] else None,
        },
        parent=active,
        notes=notes,
    )

    def build() -> Built:
        student = Student.fit(
            sequences=train,
            product_ids=product_ids,
            text_vectors=vectors,
            config=config,
            valid=valid,
            teacher_labels=labels + rewards,
            version=version.version,
            seed=seed,
            progress=progress,
        )
        # the version's retrieval index (saved in the artifact) as serving will search it, without what is off sale
        student.retrieval = student_retrieval_config()
        student.set_inactive(inactive_products(product_ids))
        return Built(
            student=student,
            train=train,
            gate=gate,
            metrics={
                "valid_ndcg@10": ndcg10(student, valid),  # early-stopped on: optimistic, for the training curve only
                "gate_ndcg@10": ndcg10(student, gate) if gate else None,
                "train_seconds": student.meta.get("train_seconds"),
                "best_epoch": student.meta.get("best_epoch"),
            },
            training_log=training_log_rows(student.meta.get("history", [])),
        )

    return lifecycle_run(version=version, build=build, promote=promote)
