"""Served lists for tests, written the way the flush writes them (services.impressions.impressions_write): the
compact storage and, while consumers move to it (issue #24), the old per-item tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.utils import timezone

from dragonrec.recommender.services.impressions import impression_record_build, impressions_write


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
) -> uuid.UUID:
    """Store a list served `age` ago; `items` are (product id, score, source, propensity) in shown order."""
    request_id = uuid.uuid4()
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
    record["created_at"] = (timezone.now() - age).isoformat()
    impressions_write([record])
    return request_id
