"""A shopper's own data: export it (GET /api/me/data/, a read in recommender.selectors) and erase it
(DELETE /api/me/data/, `dragonrec_forget`).

A shopper is a signed-in user, an anonymous session id, or both (a signed-in browser still carries its anonymous
cookie). The session id matches only rows with no user: an anonymous caller never reaches an account's rows, even
those recorded under the same browser id. Erasure removes their events and preferences (tracking),
served lists, teacher judgments about them, and their Redis state (fatigue rings and click sets, cached teacher
scores, the teacher's cached answers for their prompts), and records a hash of each shopper key so training
runs leave the shopper out even if a buffered list or an in-flight judgment about them lands later.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import transaction

from dragonrec.recommender.models import ExperimentShopperDay, TeacherJudgment
from dragonrec.recommender.selectors import shopper_data_export, shopper_impressions, shopper_keys
from dragonrec.recommender.services.deletion import (
    DeletionReport,
    recorded_rows_delete,
    rows_delete,
    shopper_redis_delete,
)
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.tracking.services import shopper_tracking_erase

logger = logging.getLogger(__name__)

# the export is a read (recommender.selectors); named here too, beside the erasure, for the API and the command
__all__ = ["shopper_data_erase", "shopper_data_export"]


def shopper_data_erase(*, user_id: int | None, session_id: str, requested_by: str = "shopper") -> DeletionReport:
    """Erase one shopper's data (see the module docstring) through the one deletion path (services.deletion), as
    retention deletes old rows. Bulk deletes throughout: a shopper with 10,000 events
    and their lists is erased in a few seconds at most."""
    if not user_id and not session_id:
        raise ValueError("nothing to erase: neither a user nor a session id")
    keys = shopper_keys(user_id=user_id, session_id=session_id)
    # Lists still in the Redis buffer would be written after the delete below; write them first (best effort: a
    # flush running elsewhere holds the lock, and what it writes later is skipped by training via the record).
    with contextlib.suppress(Exception):
        impressions_flush(reschedule=False)
    with transaction.atomic():
        tracked = shopper_tracking_erase(user_id=user_id, session_id=session_id, requested_by=requested_by)
        report = DeletionReport(events=tracked.events, preferences=tracked.preferences)
        judgments = TeacherJudgment.objects.filter(user_key__in=keys)
        answer_keys = [k for k in judgments.values_list("cache_key", flat=True).distinct() if k]
        targets = [
            ("impressions", shopper_impressions(user_id=user_id, session_id=session_id)),
            ("judgments", judgments),
        ]
        recorded_rows_delete(targets, report=report)
        # the experiments' per-shopper partial sums are keyed by the same shopper key (no per-shopper data is left)
        rows_delete(ExperimentShopperDay.objects.filter(shopper__in=keys))
    report.redis_keys = shopper_redis_delete(keys, answer_keys)
    return report
