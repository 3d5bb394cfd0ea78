"""The promotion gate: NDCG@10 of the candidate and of the version active at promotion time, both scored on the
held-out last events of the gate shoppers as of the candidate's training data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.registry.selectors import Pairs, training_sequences, training_split
from dragonrec.recommender.services.students import load_student

if TYPE_CHECKING:  # torch is imported where a student is loaded, not with this module
    from dragonrec.recommender.ml.student import Student

logger = logging.getLogger(__name__)


def ndcg10(student: Student, pairs: Pairs) -> float:
    """Full-ranking NDCG@10 of the held-out events (core.metrics: ties count against the target)."""
    from dragonrec.recommender.ml.metrics import student_ranking_metrics

    return student_ranking_metrics(student, pairs, ks=(10,))["ndcg@10"]


class GateScorer:
    """NDCG@10 of any version on one gate split: the held-out last events of the gate shoppers as of the candidate's
    training data (rebuilt from the events received by then), so the candidate and whichever version is active at
    promotion time are compared on the same pairs, which neither was early-stopped on."""

    def __init__(self, candidate: ModelVersion, *, students: dict[int, Student] | None = None) -> None:
        self.candidate = candidate
        self.students = dict(students or {})
        self._pairs: Pairs | None = None

    @property
    def pairs(self) -> Pairs:
        if self._pairs is None:
            cutoff = self.candidate.data_snapshot.get("gate_received_until")
            until = datetime.fromisoformat(cutoff) if cutoff else None
            self._pairs = training_split(training_sequences(received_until=until))[2] if until else []
        return self._pairs

    def __call__(self, version: ModelVersion) -> float | None:
        """The version's gate NDCG@10, or None when it cannot be evaluated (no gate pairs, unloadable artifact)."""
        if not self.pairs:
            return None
        try:
            student = self.students.get(version.pk)
            if student is None:
                student = load_student(version)
            return ndcg10(student, self.pairs)
        except Exception:  # an unloadable artifact must not crash the gate; the caller decides
            logger.exception("could not evaluate %s on the gate split", version.version)
            return None


def gate_passes(*, version: ModelVersion, active: ModelVersion, scorer: Callable[[ModelVersion], float | None]) -> bool:
    """The gate's comparison alone (the caller holds the lock on `active`): whether `version` beats `active` by
    STUDENT_PROMOTION_MARGIN on the gate split, recorded in `version.metrics` either way."""
    mine, theirs = scorer(version), scorer(active)
    if mine is not None:
        version.metrics["gate_ndcg@10"] = mine
    version.metrics.update({"gate_compared_with": active.version, "active_gate_ndcg@10": theirs})
    version.save(update_fields=["metrics"])
    margin = float(recommender_settings.STUDENT_PROMOTION_MARGIN)
    if mine is None or (theirs is not None and mine <= theirs + margin):
        logger.info("%s fails the gate: NDCG@10 %s vs %s's %s", version.version, mine, active.version, theirs)
        return False
    return True


def gate_reason(*, version: ModelVersion, active: ModelVersion, passed: bool) -> str:
    """The gate's comparison in words, for the recorded decision."""
    return (
        f"gate {'passes' if passed else 'fails'}: NDCG@10 {_figure(version.metrics.get('gate_ndcg@10'))} vs "
        f"{active.version}'s {_figure(version.metrics.get('active_gate_ndcg@10'))}"
    )


def _figure(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"
