"""Reads of the recommender."""

from __future__ import annotations

from typing import Any

from recommender.adapters import product_adapter


def products_by_ids(ids: list[int]) -> dict[int, Any]:
    """Product model instances for the API's output, one query (category joined when the model has one)."""
    qs = product_adapter().queryset().filter(pk__in=ids)
    if any(f.name == "category" for f in qs.model._meta.get_fields()):
        qs = qs.select_related("category")
    return {p.pk: p for p in qs}
