"""The admin's preview: what a given shopper (or a product page, or a history and preferences stated by hand) would
be served, and what each arm of a running experiment would serve instead; read-only.

    >>> page = recommendation_preview(scenario="home", shopper="alice")            # a username or a session id
    >>> page["served"].items[0].reason, page["arms"][1]["added"]

It calls the very function the API calls (services.recommendations.recommendation_list) with `preview=`, which
records nothing: no impression, so no fatigue, no reward, no teacher call. The home page explores (its tail is
drawn per list): the same `request_id` reproduces a served list's draw exactly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from dragonrec.recommender.core.types import HistoryEvent, Preferences
from dragonrec.recommender.services.experiments import running_experiments
from dragonrec.recommender.services.recommendations import Preview, ServedList, recommendation_list
from dragonrec.recommender.services.recommendations import RecommendationError as PreviewError
from dragonrec.tracking.identity import shopper_key_for

__all__ = ["PreviewError", "ShopperRef", "recommendation_preview", "shopper_find", "stated_history"]

EVENT_TYPES = ("view", "click", "add_to_cart", "purchase")


@dataclass(frozen=True)
class ShopperRef:
    user: Any | None
    session_id: str
    label: str


def shopper_find(text: str) -> ShopperRef:
    """A shopper by username, `u:<user id>`, or an anonymous session id (`s:<id>` or the bare id)."""
    text = text.strip()
    users = get_user_model()._default_manager
    if text.startswith("u:") and text[2:].isdigit():
        user = users.filter(pk=int(text[2:])).first()
        if user is None:
            raise PreviewError(f"no user with id {text[2:]}")
        return ShopperRef(user, "", f"user {user}")
    user = users.filter(username=text).first() if text else None
    if user is not None:
        return ShopperRef(user, "", f"user {user}")
    session_id = text.removeprefix("s:")
    return ShopperRef(None, session_id, f"session {session_id}" if session_id else "a new visitor")


def stated_history(text: str) -> list[HistoryEvent]:
    """'12, 40:add_to_cart, 7:purchase' (oldest first; a bare id is a view) as history events."""
    events = []
    for k, part in enumerate(p.strip() for p in text.replace("\n", ",").split(",")):
        if not part:
            continue
        pid, _, kind = part.partition(":")
        kind = kind.strip() or "view"
        if not pid.strip().isdigit() or kind not in EVENT_TYPES:
            raise PreviewError(f"{part!r}: write a product id, optionally :{'|:'.join(EVENT_TYPES)}")
        events.append(HistoryEvent(product_id=int(pid), event_type=kind, timestamp=float(k)))
    return events


def recommendation_preview(
    *,
    scenario: str,
    shopper: str = "",
    product_id: int | None = None,
    n: int | None = None,
    history: list[HistoryEvent] | None = None,
    preferences: Preferences | None = None,
    request_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The list `shopper` would get on `scenario` (the API's list, computed by the API's function), and for the
    experiment running on that scenario, each arm's list with what it adds and drops compared with it."""
    ref = shopper_find(shopper)
    request_id = request_id or uuid.uuid4()
    preview = Preview(history=history, preferences=preferences)

    def served_for(preview: Preview) -> ServedList:
        return recommendation_list(
            scenario=scenario,
            user=ref.user,
            session_id=ref.session_id,
            product_id=product_id,
            n=n,
            request_id=request_id,
            preview=preview,
        )

    served = served_for(preview)
    arms = []
    for experiment, experiment_arms in running_experiments():
        if scenario not in experiment.scenarios or experiment.kind != experiment.Kind.AB:
            continue
        for arm in experiment_arms:
            other = served_for(Preview(history=history, preferences=preferences, assignment=(experiment, arm)))
            mine = [i.product_id for i in served.items]
            theirs = [i.product_id for i in other.items]
            arms.append(
                {
                    "experiment": experiment.name,
                    "arm": arm.name,
                    "policy": arm.policy,
                    "share": arm.share,
                    "is_shoppers": served.arm == arm.name,
                    "served": other,
                    "added": [pid for pid in theirs if pid not in mine],
                    "dropped": [pid for pid in mine if pid not in theirs],
                }
            )
    return {
        "shopper": ref,
        "user_key": shopper_key_for(user=ref.user, session_id=ref.session_id),
        "served": served,
        "arms": arms,
        "request_id": request_id,
    }


def served_rows(served: ServedList, products: dict[int, Any]) -> list[dict[str, Any]]:
    """Table rows for a served list: position, product, score, source, reason."""
    return [
        {
            "position": item.position,
            "product_id": item.product_id,
            "title": (products.get(item.product_id) or {}).get("title", f"product {item.product_id}"),
            "score": item.score,
            "source": item.source,
            "reason": item.reason,
            "propensity": item.propensity,
        }
        for item in served.items
    ]
