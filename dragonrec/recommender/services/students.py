"""The student in serving: which version is active, loading it once per process, switching without a restart."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.artifacts import artifact_local_path

if TYPE_CHECKING:
    from dragonrec.recommender.ml.ann import RetrievalConfig
    from dragonrec.recommender.ml.student import Student

logger = logging.getLogger(__name__)

# (version, its student or None when that version's artifact failed to load); None: no active version
_active: ProcessCache[str, tuple[str, Student | None] | None] = ProcessCache(
    "active student", ttl_s=lambda: float(recommender_settings.MODEL_REFRESH_S)
)
_versions: ProcessCache[str, Student] = ProcessCache("experiment arm students")


def active_student_ranker(*, products: ProductStore, index: VectorIndex) -> Ranker | None:
    """A ranker over the active version's student, reloaded when another version becomes active (checked every
    MODEL_REFRESH_S seconds per process, so serving processes switch without a restart). The student is shared by
    the process; the ranker is this request's, scoring products newer than the student from `index`'s text."""
    active = _active.get("active", _active_student)
    if active is None or active[1] is None:
        return None
    return _ranker(active[1], version=active[0], index=index)


def _active_student(previous: tuple[str, Student | None] | None) -> tuple[str, Student | None] | None:
    row = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).only("version", "artifact").first()
    if row is None:
        return None
    if previous is not None and previous[0] == row.version:
        return previous
    try:
        return row.version, load_student(row)
    except Exception:  # a broken artifact must not take serving down: fall back to the embedding ranker
        logger.exception("could not load student %s; serving without it", row.version)
        return row.version, None


def load_student(version: ModelVersion) -> Student:
    from dragonrec.recommender.ml.student import Student

    student = Student.load(artifact_local_path(version))
    student.retrieval = student_retrieval_config()
    student.item_index()  # read (or build) the retrieval index now, not in the first request that needs it
    return student


def student_retrieval_config() -> RetrievalConfig:
    """STUDENT_ANN (with the defaults of the keys a host project left out) as the ML layer's RetrievalConfig."""
    from dragonrec.recommender.ml.ann import RetrievalConfig

    conf = {**DEFAULTS["STUDENT_ANN"], **recommender_settings.STUDENT_ANN}
    return RetrievalConfig(
        exact_max_items=int(conf["exact_max_items"]),
        m=int(conf["m"]),
        ef_construction=int(conf["ef_construction"]),
        ef_search=int(conf["ef_search"]),
    )


def student_training_overrides() -> dict[str, Any]:
    """STUDENT_TRAINING as StudentConfig fields (loss, sampled_above_items, n_negatives, device, prefix_targets)."""
    conf = {**DEFAULTS["STUDENT_TRAINING"], **recommender_settings.STUDENT_TRAINING}
    return {
        "loss": str(conf["loss"]),
        "sampled_above_items": int(conf["sampled_above_items"]),
        "n_negatives": int(conf["negatives"]),
        "device": str(conf["device"]),
        "prefix_targets": bool(conf["prefix_targets"]),
    }


def inactive_products(product_ids: Iterable[int]) -> set[int]:
    """Those of `product_ids` that are deactivated or gone from the catalogue: what a new version's retrieval index
    leaves out (ml.Student.set_inactive)."""
    from dragonrec.recommender.adapters import product_adapter

    adapter = product_adapter()
    active = set(adapter.queryset().filter(**{adapter.active_field: True}).values_list("pk", flat=True))
    return {int(p) for p in product_ids if int(p) not in active}


class _NoArtifact(LookupError):
    """An arm names a version without an artifact: nothing is cached, so the arm picks it up once it exists."""


def version_student_ranker(version: str, *, products: ProductStore, index: VectorIndex) -> Ranker | None:
    """A given (not necessarily active) version's ranker, its student loaded once per process: an experiment arm's
    model."""

    def load(_: Student | None) -> Student:
        row = ModelVersion.objects.filter(version=version).only("version", "artifact").first()
        if row is None or not row.artifact:
            raise _NoArtifact(version)
        return load_student(row)

    try:
        student = _versions.get(version, load)
    except _NoArtifact:
        logger.warning("experiment arm names student %s, which has no artifact; serving the active model", version)
        return None
    return _ranker(student, version=version, index=index)


def _ranker(student: Student, *, version: str, index: VectorIndex) -> Ranker:
    from dragonrec.recommender.ml.ranker import StudentRanker

    return StudentRanker(student, index=index, version=version)
