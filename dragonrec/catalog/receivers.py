"""Keeps the search index in step with saves (one-line calls into catalog.search)."""

from __future__ import annotations

from typing import Any

from dragonrec.catalog.models import Category, Product
from dragonrec.catalog.search import product_search_index_update, product_search_index_update_category

TEXT_FIELDS = frozenset({"title", "brand", "description", "category", "category_id"})


def product_saved(sender: type[Product], instance: Product, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is None or TEXT_FIELDS & set(update_fields):  # a stock-only save changes no searchable text
        product_search_index_update(ids=[instance.pk])


def category_saved(sender: type[Category], instance: Category, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new category has no products yet
        product_search_index_update_category(category=instance)
