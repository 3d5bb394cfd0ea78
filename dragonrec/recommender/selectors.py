"""Reads of the recommender."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import ServedList, ServedOutcome, TeacherJudgment
from dragonrec.tracking.identity import shopper_key
from dragonrec.tracking.selectors import histories_before, shopper_tracking_export


def products_by_ids(ids: list[int]) -> dict[int, Any]:
    """Product model instances for the API's output, one query (category joined when the model has one)."""
    qs = product_adapter().queryset().filter(pk__in=ids)
    if any(f.name == "category" for f in qs.model._meta.get_fields()):
        qs = qs.select_related("category")
    return {p.pk: p for p in qs}


RENDERED_KEPT = 50_000  # renderings a process keeps of a large catalog (~1-2 KB each)
_renderers = threading.local()


def _product_renderer() -> Any:
    """One PRODUCT_SERIALIZER per thread, its fields built once: a ModelSerializer introspects the model to build
    them for every new serializer (~7% of a 1M worker's GIL time when each list made one: its products are new to
    the process). Per thread, not per process: a shop's own serializer may keep state between fields (a method
    field caching on `self`), which gunicorn's threads must not share. Rendering reads the fields only; no context
    is passed, as before."""
    serializer_class = recommender_settings.PRODUCT_SERIALIZER
    held: dict[type, Any] | None = getattr(_renderers, "by_class", None)
    if held is None:
        held = _renderers.by_class = {}
    renderer = held.get(serializer_class)
    if renderer is None:
        renderer = held[serializer_class] = serializer_class()
    return renderer


def products_rendered(ids: list[int]) -> dict[int, Any]:
    """The API rendering (RECOMMENDER['PRODUCT_SERIALIZER']) of each product, from the serving snapshot's cache;
    products not rendered yet cost one serializer pass for all of them, over instances from the snapshot's rows (a
    large catalog: stores.ProductRows) or else from one query."""
    from dragonrec.recommender.stores import current_snapshot

    snapshot = current_snapshot()
    cache: dict[int, Any] = snapshot.rendered if snapshot is not None else {}
    missing = [pid for pid in ids if pid not in cache]
    if missing:
        held = snapshot.catalog.instances(missing) if snapshot is not None else {}
        unknown = [pid for pid in missing if pid not in held]
        instances = [*held.values(), *(products_by_ids(unknown).values() if unknown else ())]
        renderer = _product_renderer()
        # plain dicts: the serializer's OrderedDict-like return types are not needed once rendered
        fresh = {instance.pk: dict(renderer.to_representation(instance)) for instance in instances}
        if snapshot is not None and snapshot.catalog.lazy and len(cache) >= RENDERED_KEPT:
            # a large catalog's lists show ever new products: the first rendered go, a quarter at a time (the
            # product's rows render it again in ~0.1 ms); list() copies the keys at once, whatever other threads do
            for pid in list(cache)[: len(cache) // 4]:
                cache.pop(pid, None)
        cache.update(fresh)
        return {pid: fresh[pid] if pid in fresh else cache[pid] for pid in ids if pid in fresh or pid in cache}
    return {pid: cache[pid] for pid in ids if pid in cache}


def teacher_payload(*, request_id: uuid.UUID | str) -> dict[str, Any] | None:
    """What the teacher judges for a served list: its items as candidates, in the context it was made for."""
    served = ServedList.objects.filter(request_id=request_id).only("request_id", "item_ids", "context").first()
    if served is None:
        return None
    context = served.context or {}  # kept for the lists that asked for a judgment (ServedList's docstring)
    return {
        **context,
        # a per-product list (goes well with) is judged in its page's context, not the shopper's
        **context.get("teacher", {}),
        "request_id": str(served.request_id),
        "candidates": list(served.item_ids)[: recommender_settings.TEACHER_CANDIDATES],
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
    return ServedList.objects.filter(owner)


def shopper_data_export(*, user_id: int | None, session_id: str) -> dict[str, Any]:
    """Everything DragonRec holds about one shopper, as JSON-able data."""
    keys = shopper_keys(user_id=user_id, session_id=session_id)
    lists = list(
        shopper_impressions(user_id=user_id, session_id=session_id).select_related("policy").order_by("served_at")
    )
    items = served_items(lists)

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    impressions = [
        {
            "request_id": str(served.request_id),
            "created_at": served.served_at.isoformat(),
            "scenario": served.scenario,
            "ranker": served.policy.ranker,
            "items": [
                {
                    "product_id": item.product_id,
                    "position": item.position,
                    "clicked_at": when(item.clicked_at),
                    "carted_at": when(item.carted_at),
                    "purchased_at": when(item.purchased_at),
                }
                for item in items[served.request_id]
            ],
        }
        for served in lists
    ]
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


@dataclass(frozen=True)
class ServedItem:
    """An item of a stored list with what came of it: the per-item view consumers read."""

    position: int  # 1-based, as shown
    product_id: int
    score: float
    source: str
    propensity: float
    clicked_at: datetime | None = None
    carted_at: datetime | None = None
    purchased_at: datetime | None = None

    @property
    def reward(self) -> float:
        """Purchase 1.0 > add to cart 0.5 > click 0.2 > nothing 0: what fine-tuning optimises."""
        if self.purchased_at:
            return 1.0
        if self.carted_at:
            return 0.5
        return 0.2 if self.clicked_at else 0.0


_OUTCOME_FIELD = {
    ServedOutcome.Kind.CLICK: "clicked_at",
    ServedOutcome.Kind.CART: "carted_at",
    ServedOutcome.Kind.PURCHASE: "purchased_at",
}


def served_items(lists: Iterable[ServedList]) -> dict[uuid.UUID, list[ServedItem]]:
    """The items of stored lists in shown order, with their outcomes: one query for the outcomes of all of them
    (pruned to the lists' days by `served_at`)."""
    lists = list(lists)
    if not lists:
        return {}
    times: dict[tuple[uuid.UUID, int], dict[str, datetime]] = {}
    outcomes = ServedOutcome.objects.filter(
        request_id__in=[sl.request_id for sl in lists],
        served_at__gte=min(sl.served_at for sl in lists),
        served_at__lte=max(sl.served_at for sl in lists),
    ).values_list("request_id", "position", "kind", "at")
    for request_id, position, kind, at in outcomes:
        times.setdefault((request_id, position), {})[_OUTCOME_FIELD[ServedOutcome.Kind(kind)]] = at
    out: dict[uuid.UUID, list[ServedItem]] = {}
    for sl in lists:
        propensities = sl.propensity_list()
        scores = sl.scores_list()
        names = sl.source_names()
        out[sl.request_id] = [
            ServedItem(
                position=i + 1,
                product_id=int(product_id),
                score=scores[i],
                source=names[i],
                propensity=float(propensities[i]),
                **times.get((sl.request_id, i + 1), {}),
            )
            for i, product_id in enumerate(sl.item_ids)
        ]
    return out


# The shopper's events a request recorded with each list (services/recommendations.py keeps the last 20): what an
# export or a learner reads back from events as the list's history (histories_before), since no list stores it.
HISTORY_SHOWN = 20
_PAGE = 500  # lists a round trip: a few hundred KB of arrays


@dataclass(frozen=True)
class ServedPage:
    """A stored list read back for learning: its items with outcomes and the history it was made from."""

    served: ServedList
    items: list[ServedItem]
    history: list[tuple[int, str]]


def served_pages(lists: Iterable[ServedList]) -> Iterator[ServedPage]:
    """`lists` (a queryset or any iterable, in the order wanted) with items, outcomes and histories: three
    statements per _PAGE lists."""
    chunk: list[ServedList] = []

    def drain() -> Iterator[ServedPage]:
        items = served_items(chunk)
        histories = histories_before([(sl.user_id, sl.session_id, sl.served_at) for sl in chunk], limit=HISTORY_SHOWN)
        for sl, history in zip(chunk, histories, strict=True):
            yield ServedPage(served=sl, items=items[sl.request_id], history=history)
        chunk.clear()

    for served in lists:
        chunk.append(served)
        if len(chunk) >= _PAGE:
            yield from drain()
    if chunk:
        yield from drain()


def clicked_lists(*, since: datetime, newest_first: bool = True) -> Any:
    """Lists with a click after `since` (a ServedList queryset; a subquery on the outcomes, pruned by time)."""
    clicked = ServedOutcome.objects.filter(kind=ServedOutcome.Kind.CLICK, at__gt=since).values("request_id")
    lists = ServedList.objects.filter(request_id__in=clicked).defer("context")
    return lists.order_by("-served_at" if newest_first else "served_at", "request_id")
