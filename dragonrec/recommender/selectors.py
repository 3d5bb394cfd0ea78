"""Reads of the recommender."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q

from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import Impression, TeacherJudgment
from dragonrec.tracking.identity import shopper_key
from dragonrec.tracking.selectors import shopper_tracking_export


def products_by_ids(ids: list[int]) -> dict[int, Any]:
    """Product model instances for the API's output, one query (category joined when the model has one)."""
    qs = product_adapter().queryset().filter(pk__in=ids)
    if any(f.name == "category" for f in qs.model._meta.get_fields()):
        qs = qs.select_related("category")
    return {p.pk: p for p in qs}


def products_rendered(ids: list[int]) -> dict[int, Any]:
    """The API rendering (RECOMMENDER['PRODUCT_SERIALIZER']) of each product, from the serving snapshot's cache;
    products not rendered yet cost one query and one serializer pass for all of them."""
    from dragonrec.recommender.stores import current_snapshot

    snapshot = current_snapshot()
    cache: dict[int, Any] = snapshot.rendered if snapshot is not None else {}
    missing = [pid for pid in ids if pid not in cache]
    if missing:
        instances = list(products_by_ids(missing).values())
        # One serializer for the whole list: DRF builds a ModelSerializer's fields per instance otherwise.
        rendered = recommender_settings.PRODUCT_SERIALIZER(instances, many=True).data
        for instance, data in zip(instances, rendered, strict=True):
            cache[instance.pk] = dict(data)  # plain dict: a ReturnDict would keep the serializer alive
    return {pid: cache[pid] for pid in ids if pid in cache}


def teacher_payload(*, request_id: uuid.UUID | str) -> dict[str, Any] | None:
    """What the teacher judges for a served list: its items as candidates, in the context it was made for."""
    impression = Impression.objects.filter(request_id=request_id).first()
    if impression is None:
        return None
    candidates = list(impression.items.order_by("position").values_list("product_id", flat=True))
    return {
        **impression.context,
        # a per-product list (goes well with) is judged in its page's context, not the shopper's
        **impression.context.get("teacher", {}),
        "request_id": str(impression.request_id),
        "candidates": candidates[: recommender_settings.TEACHER_CANDIDATES],
    }


def shopper_keys(*, user_id: int | None, session_id: str) -> list[str]:
    """The shopper keys of a signed-in user and/or an anonymous session (what judgments and aggregates are keyed by)."""
    keys = [shopper_key(user_id=user_id, session_id="")] if user_id else []
    return keys + ([shopper_key(user_id=None, session_id=session_id)] if session_id else [])


def shopper_impressions(*, user_id: int | None, session_id: str) -> Any:
    """The served lists of a shopper: a signed-in user's, and an anonymous session's that belong to no account."""
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
    keys = shopper_keys(user_id=user_id, session_id=session_id)
    impressions = []
    for impression in (
        shopper_impressions(user_id=user_id, session_id=session_id).prefetch_related("items").order_by("created_at")
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
