"""Reads of the recommender."""

from __future__ import annotations

import uuid
from typing import Any

from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import Impression


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
        "request_id": str(impression.request_id),
        "candidates": candidates[: recommender_settings.TEACHER_CANDIDATES],
    }
