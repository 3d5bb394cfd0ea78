"""The student in serving: which version is active, loading it once per process, switching without a restart."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.artifacts import artifact_local_path

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, Any] = {"checked": 0.0, "version": None, "ranker": None}


def active_student_ranker(*, products: Any, index: Any) -> Ranker | None:
    """The active version's ranker, reloaded when another version becomes active (checked every MODEL_REFRESH_S
    seconds per process, so serving processes switch without a restart)."""
    now = time.monotonic()
    with _lock:
        if now - _state["checked"] < recommender_settings.MODEL_REFRESH_S and _state["checked"]:
            return _state["ranker"]
        _state["checked"] = now
        active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).only("version", "artifact").first()
        if active is None:
            _state.update(version=None, ranker=None)
            return None
        if active.version == _state["version"]:
            return _state["ranker"]
        try:
            _state["ranker"] = load_student_ranker(active)
            _state["version"] = active.version
        except Exception:  # a broken artifact must not take serving down: fall back to the embedding ranker
            logger.exception("could not load student %s; serving without it", active.version)
            _state.update(version=active.version, ranker=None)
        return _state["ranker"]


def reset_cache() -> None:
    with _lock:
        _state.update(checked=0.0, version=None, ranker=None)


def load_student_ranker(version: ModelVersion) -> Ranker:
    from dragonrec.recommender.ml.ranker import StudentRanker
    from dragonrec.recommender.ml.student import Student

    student = Student.load(artifact_local_path(version))
    return StudentRanker(student, version=version.version)


_versions: dict[str, Ranker] = {}


def version_student_ranker(version: str, *, products: Any, index: Any) -> Ranker | None:
    """A given (not necessarily active) version's ranker, loaded once per process: an experiment arm's model."""
    with _lock:
        cached = _versions.get(version)
    if cached is not None:
        return cached
    row = ModelVersion.objects.filter(version=version).only("version", "artifact").first()
    if row is None or not row.artifact:
        logger.warning("experiment arm names student %s, which has no artifact; serving the active model", version)
        return None
    ranker = load_student_ranker(row)
    ranker.index = index  # type: ignore[attr-defined]  # products newer than the student are scored from text
    with _lock:
        _versions[version] = ranker
    return ranker
