"""Served lists for tests, written the way the flush writes them (services.impressions.impressions_write), and read
back item by item."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from dragonrec.recommender.models import ServedList, ServedOutcome
from dragonrec.recommender.selectors import ServedItem, served_items
from dragonrec.recommender.services.impressions import impression_record_build, impressions_write
from dragonrec.tracking.factories import EventFactory


def stored_list(
    items: Sequence[tuple[int, float, str, float]],
    *,
    session_id: str = "",
    user_id: int | None = None,
    age: timedelta = timedelta(0),
    scenario: str = "home",
    ranker: str = "trending",
    model_version: str = "",
    experiment: str = "",
    arm: str = "",
    context: dict[str, Any] | None = None,
    request_id: uuid.UUID | None = None,
    history: Sequence[int] = (),
) -> uuid.UUID:
    """Store a list served `age` ago; `items` are (product id, score, source, propensity) in shown order;
    `history`: products the shopper viewed just before (view events, oldest first: what the list was made from)."""
    request_id = request_id or uuid.uuid4()
    served_at = timezone.now() - age
    for back, product_id in enumerate(reversed(history), start=1):
        EventFactory(user_id=user_id, session_id=session_id, product_id=product_id, type="view",
                     timestamp=served_at - timedelta(seconds=back))  # fmt: skip
    record = impression_record_build(
        request_id=request_id,
        user_id=user_id,
        session_id=session_id,
        scenario=scenario,
        anchor_ids=[],
        ranker=ranker,
        model_version=model_version,
        context=context or {},
        items=[(pid, position, score, source, p) for position, (pid, score, source, p) in enumerate(items, start=1)],
        experiment=experiment,
        arm=arm,
    )
    record["created_at"] = served_at.isoformat()
    impressions_write([record])
    return request_id


def served_outcomes(
    request_id: uuid.UUID | str,
    position: int,
    *,
    clicked_at: datetime | None = None,
    carted_at: datetime | None = None,
    purchased_at: datetime | None = None,
) -> None:
    """Record what came of the item at `position` (1-based) of a stored list, as attribution does."""
    served = ServedList.objects.get(request_id=request_id)
    for kind, at in ((1, clicked_at), (2, carted_at), (3, purchased_at)):
        if at is not None:
            ServedOutcome.objects.create(
                request_id=served.request_id, served_at=served.served_at, position=position, kind=kind, at=at
            )


def served_item(request_id: uuid.UUID | str, position: int) -> ServedItem:
    """The item at `position` (1-based) of a stored list, with its outcomes."""
    served = ServedList.objects.get(request_id=request_id)
    return served_items([served])[served.request_id][position - 1]
