"""A shopper's own data: export it (GET /api/me/data/) and erase it (DELETE /api/me/data/, `dragonrec_forget`).

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
from typing import Any

from django.db import transaction
from django.db.models import Q

from dragonrec.recommender.models import ExperimentShopperDay, Impression, TeacherJudgment
from dragonrec.recommender.services.deletion import (
    DeletionReport,
    recorded_rows_delete,
    rows_delete,
    shopper_redis_delete,
)
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.tracking.identity import shopper_key
from dragonrec.tracking.selectors import shopper_tracking_export
from dragonrec.tracking.services import shopper_tracking_erase

logger = logging.getLogger(__name__)


def _keys(*, user_id: int | None, session_id: str) -> list[str]:
    keys = [shopper_key(user_id=user_id, session_id="")] if user_id else []
    return keys + ([shopper_key(user_id=None, session_id=session_id)] if session_id else [])


def _impressions(*, user_id: int | None, session_id: str) -> Any:
    owner = Q(pk__in=[])
    if user_id:
        owner |= Q(user_id=user_id)
    if session_id:
        # anonymous lists only: a signed-in shopper's lists carry their browser's id as well, and belong to the
        # account, not to whoever presents that id
        owner |= Q(session_id=session_id, user__isnull=True)
    return Impression.objects.filter(owner)


def shopper_data_export(*, user_id: int | None, session_id: str) -> dict[str, Any]:
    """Everything DragonRec holds about one shopper, as JSON-able data."""
    keys = _keys(user_id=user_id, session_id=session_id)
    impressions = []
    for impression in (
        _impressions(user_id=user_id, session_id=session_id).prefetch_related("items").order_by("created_at")
    ):
        impressions.append(
            {
                "request_id": str(impression.request_id),
                "created_at": impression.created_at.isoformat(),
                "scenario": impression.scenario,
                "ranker": impression.ranker,
                "items": [
                    {
                        "product_id": item.product_id,
                        "position": item.position,
                        "clicked_at": item.clicked_at.isoformat() if item.clicked_at else None,
                        "carted_at": item.carted_at.isoformat() if item.carted_at else None,
                        "purchased_at": item.purchased_at.isoformat() if item.purchased_at else None,
                    }
                    for item in impression.items.all()
                ],
            }
        )
    judgments = [
        {
            "created_at": row["created_at"].isoformat(),
            "request_id": str(row["request_id"]) if row["request_id"] else None,
            "model": row["model"],
            "history": row["history"],
            "candidates": row["candidates"],
            "scores": row["scores"],
            "reasons": row["reasons"],
        }
        for row in TeacherJudgment.objects.filter(user_key__in=keys)
        .order_by("created_at")
        .values("created_at", "request_id", "model", "history", "candidates", "scores", "reasons")
    ]
    return {
        "user_id": user_id,
        "session_id": session_id,
        **shopper_tracking_export(user_id=user_id, session_id=session_id),
        "impressions": impressions,
        "judgments": judgments,
    }


def shopper_data_erase(*, user_id: int | None, session_id: str, requested_by: str = "shopper") -> DeletionReport:
    """Erase one shopper's data (see the module docstring) through the one deletion path (services.deletion), as
    retention deletes old rows. Bulk deletes throughout: a shopper with 10,000 events
    and their lists is erased in a few seconds at most."""
    if not user_id and not session_id:
        raise ValueError("nothing to erase: neither a user nor a session id")
    keys = _keys(user_id=user_id, session_id=session_id)
    # Lists still in the Redis buffer would be written after the delete below; write them first (best effort: a
    # flush running elsewhere holds the lock, and what it writes later is skipped by training via the record).
    with contextlib.suppress(Exception):
        impressions_flush(reschedule=False)
    with transaction.atomic():
        tracked = shopper_tracking_erase(user_id=user_id, session_id=session_id, requested_by=requested_by)
        report = DeletionReport(events=tracked.events, preferences=tracked.preferences)
        judgments = TeacherJudgment.objects.filter(user_key__in=keys)
        answer_keys = [k for k in judgments.values_list("cache_key", flat=True).distinct() if k]
        targets = [("impressions", _impressions(user_id=user_id, session_id=session_id)), ("judgments", judgments)]
        recorded_rows_delete(targets, report=report)
        # the experiments' per-shopper partial sums are keyed by the same shopper key (no per-shopper data is left)
        rows_delete(ExperimentShopperDay.objects.filter(shopper__in=keys))
    report.redis_keys = shopper_redis_delete(keys, answer_keys)
    return report
