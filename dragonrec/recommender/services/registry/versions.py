"""Model versions as rows: numbered, activated (the previous one archived, recorded on both), force-activated past
the gate (recorded), rolled back, and failed when their worker was lost."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dragonrec.recommender.models import ModelVersion

logger = logging.getLogger(__name__)


def _next_version() -> str:
    numbers = [int(v[1:]) for v in ModelVersion.objects.values_list("version", flat=True) if v[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1}"


VERSION_ATTEMPTS = 20  # concurrent trainings retry on the unique version; 20 collisions in a row means a bug


def model_version_create(**fields: Any) -> ModelVersion:
    """A new version row with the next free number. Two trainings starting together may read the same maximum:
    the unique constraint on `version` rejects the second insert, which retries with a fresh number."""
    for attempt in range(VERSION_ATTEMPTS):
        try:
            with transaction.atomic():
                return ModelVersion.objects.create(version=_next_version(), **fields)
        except IntegrityError:
            if attempt == VERSION_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def model_versions_fail_stuck(*, older_than: timedelta) -> int:
    """Mark `training` runs started more than `older_than` ago as failed; how many. A worker killed mid-training
    (OOM, a lost machine, SIGKILL) never reaches the `except` that records the failure, and the hard time limit
    means no live run can be that old, so such a row would otherwise say "training" forever."""
    cutoff = timezone.now() - older_than
    stuck = ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING, created_at__lt=cutoff)
    count = stuck.update(status=ModelVersion.Status.FAILED, notes="worker lost: still training past the time limit")
    if count:
        logger.warning("marked %s training run(s) older than %s as failed", count, older_than)
    return count


def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one serving (the previous active one is archived). Serving processes pick it up within
    MODEL_REFRESH_S seconds, without a restart."""
    if version.status == ModelVersion.Status.FAILED or not version.artifact:
        raise ValueError(f"{version.version} has no usable artifact")
    now = timezone.now()
    replaced = list(
        ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).exclude(pk=version.pk)
    )
    # the only way an active version stops serving: recorded on both, so the history reads from either side
    for old in replaced:
        old.status = ModelVersion.Status.ARCHIVED
        old.decision = f"{old.decision}\n[{now:%Y-%m-%d %H:%M} UTC] replaced by {version.version}".strip()
        old.save(update_fields=["status", "decision"])
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = now
    if replaced:
        version.decision = (
            f"{version.decision}\n[{now:%Y-%m-%d %H:%M} UTC] activated, replacing {replaced[0].version}".strip()
        )
    version.save(update_fields=["status", "activated_at", "decision"])
    return version


@transaction.atomic
def model_version_force_activate(*, version: ModelVersion, by: str, reason: str = "") -> ModelVersion:
    """Activate `version` past the promotion gate: an explicit act, recorded in the version's notes (who, when,
    both scores) and the log, so a worse model serving is never a silent accident."""
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exclude(pk=version.pk).first()
    theirs = f"{active.version} at {active.valid_ndcg10}" if active is not None else "no active version"
    entry = (
        f"[{timezone.now():%Y-%m-%d %H:%M} UTC] force-activated by {by} past the promotion gate "
        f"(valid NDCG@10 {version.valid_ndcg10} vs {theirs}){': ' + reason if reason else ''}"
    )
    version.notes = f"{version.notes}\n{entry}".strip()
    version.save(update_fields=["notes"])
    logger.warning("%s", entry.replace("force-activated", f"{version.version} force-activated"))
    return model_version_activate(version=version)


@transaction.atomic
def model_version_rollback() -> ModelVersion:
    """Re-activate the most recently active earlier version."""
    current = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    previous = (
        ModelVersion.objects.filter(status=ModelVersion.Status.ARCHIVED, activated_at__isnull=False)
        .exclude(pk=current.pk if current else None)  # type: ignore[misc]  # pk=None is IS NULL: excludes nothing
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise ValueError("no earlier active version to roll back to")
    return model_version_activate(version=previous)
