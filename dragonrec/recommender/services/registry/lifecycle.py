"""One model lifecycle for both schedules, the nightly retrain (registry.training) and the hourly online update
(services.online):

    train or update -> candidate -> gate -> promoted or kept, the decision recorded -> guardrail / rollback

    >>> version = model_version_create(status=ModelVersion.Status.TRAINING, kind=..., parent=active, ...)
    >>> lifecycle_run(version=version, build=lambda: Built(student=..., train=..., gate=...), promote=True)

`candidate_store` is where a run becomes a candidate (its artifact stored) or fails (the error recorded on the
version, then raised). `model_version_promote_if_better` is the one promotion entry point (both schedules, the
admin's action, `recommender_promote`): the held-out gate for every version, and for an online update the off-policy
check on recent held-out served lists too; the decision is recorded on the version whatever the outcome. The
guardrail (services.guardrail) then watches what was promoted and rolls it back, recording why the same way
(`decision_record`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.artifacts import artifact_save
from dragonrec.recommender.services.model_report import version_quality_record
from dragonrec.recommender.services.offpolicy_check import offpolicy_passes
from dragonrec.recommender.services.registry.gate import GateScorer, gate_passes, gate_reason
from dragonrec.recommender.services.registry.selectors import Pairs
from dragonrec.recommender.services.registry.versions import model_version_activate

if TYPE_CHECKING:  # torch is imported where a student is built or loaded, not with this module
    from dragonrec.recommender.ml.student import Student

logger = logging.getLogger(__name__)

ERROR_CHARS = 500  # of a failed run's error, in its decision: enough for the exception and its message


@dataclass
class Built:
    """What a run (a training, an update) built: the student and what to record with it. `train` and `gate` are the
    split its quality figures are computed on (the gate shoppers as of its data cutoff)."""

    student: Student
    train: list[list[HistoryEvent]]
    gate: Pairs
    metrics: dict[str, Any] = field(default_factory=dict)
    training_log: list[dict[str, Any]] = field(default_factory=list)
    data_snapshot: dict[str, Any] = field(default_factory=dict)  # added to what the version was created with


def decision_record(version: ModelVersion, outcome: str) -> None:
    """Append a dated line to the version's decisions (the caller saves): every step of the lifecycle that decides
    something about a version says so here, in one format."""
    version.decision = f"{version.decision}\n[{timezone.now():%Y-%m-%d %H:%M} UTC] {outcome}".strip()


def candidate_store(*, version: ModelVersion, build: Callable[[], Built]) -> Built:
    """Run `build` for a version created as `training`; store its artifact and make it a candidate. When anything
    fails, the version is marked failed with the error recorded in its decision, and the error raised."""
    try:
        built = build()
        with tempfile.TemporaryDirectory() as tmp:
            built.student.save(Path(tmp))
            version.artifact = artifact_save(local_dir=Path(tmp), version=version.version)
        version.metrics = {**version.metrics, **built.metrics}
        version.data_snapshot = {**version.data_snapshot, **built.data_snapshot}
        version.training_log = built.training_log
        version.status = ModelVersion.Status.CANDIDATE
        version.save()
    except Exception as exc:
        version.status = ModelVersion.Status.FAILED
        decision_record(version, f"failed: {type(exc).__name__}: {exc}"[:ERROR_CHARS])
        version.save(update_fields=["status", "decision"])
        raise
    return built


def lifecycle_run(
    *, version: ModelVersion, build: Callable[[], Built], promote: bool, students: dict[int, Student] | None = None
) -> ModelVersion:
    """The whole lifecycle of a run: build and store the candidate, record its gate figures beside popularity and
    item-kNN for the owner's page, then (with `promote`) the promotion decision. `students` are versions already
    loaded (the online update's parent), so the checks do not load them again."""
    built = candidate_store(version=version, build=build)
    version_quality_record(version=version, student=built.student, train=built.train, gate=built.gate)
    if promote:
        model_version_promote_if_better(version=version, students={**(students or {}), version.pk: built.student})
    version.refresh_from_db()
    return version


@transaction.atomic
def model_version_promote_if_better(
    *,
    version: ModelVersion,
    scorer: Callable[[ModelVersion], float | None] | None = None,
    students: dict[int, Student] | None = None,
) -> bool:
    """The promotion decision: activate `version` only if it beats the version active *now* (locked until the
    decision) by STUDENT_PROMOTION_MARGIN on the gate split, both scored there by `scorer` (default: GateScorer, the
    held-out shoppers of `version`'s training data), and, for an online update, only if the off-policy check passes
    too. An active version that cannot be scored does not block; a candidate that cannot be scored is not promoted.
    The figures go to `version.metrics`, the outcome and its reasons to `version.decision`, whatever the outcome."""
    students = dict(students or {})
    active = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    if active is not None and active.pk == version.pk:
        return True
    if active is None:
        decision_record(version, "promoted: no version was active")
        version.save(update_fields=["decision"])
        model_version_activate(version=version)
        return True
    passed = gate_passes(version=version, active=active, scorer=scorer or GateScorer(version, students=students))
    reasons = [gate_reason(version=version, active=active, passed=passed)]
    if version.kind == ModelVersion.Kind.ONLINE:
        offpolicy_ok, offpolicy_reason = offpolicy_passes(version=version, active=active, students=students)
        passed = passed and offpolicy_ok
        reasons.append(offpolicy_reason)
    decision_record(version, f"{'promoted' if passed else 'kept as a candidate'}: {'; '.join(reasons)}")
    version.save(update_fields=["metrics", "decision"])
    logger.info("%s %s", version.version, version.decision.rsplit("\n", 1)[-1])
    if passed:
        model_version_activate(version=version)
    return passed
