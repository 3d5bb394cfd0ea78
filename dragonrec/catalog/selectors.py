"""Reads of the catalog."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from dragonrec.catalog.models import CATEGORY_SEPARATOR, Category, Product


class PriceFilter(django_filters.NumberFilter):
    """A price bound shaped like the price column (12 digits, 2 decimals): `1e-999999`, `NaN` or a 400-digit
    number is a 400 with a reason instead of a failure while the query is built."""

    field_class = forms.DecimalField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


class ProductFilter(django_filters.FilterSet):
    """Query parameters of GET /api/products/."""

    search = django_filters.CharFilter(method="filter_search", help_text="Words in title, description, brand or sku.")
    category = django_filters.CharFilter(
        method="filter_category", help_text="Category id, or a path prefix ('Electronics > Monitors')."
    )
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact")
    min_price = PriceFilter(field_name="price", lookup_expr="gte")
    max_price = PriceFilter(field_name="price", lookup_expr="lte")
    in_stock = django_filters.BooleanFilter(field_name="in_stock")

    class Meta:
        model = Product
        fields = ["search", "category", "brand", "min_price", "max_price", "in_stock"]

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        for word in value.split()[:8]:  # bound the query: 8 words is more than any storefront search box sends
            queryset = queryset.filter(
                Q(title__icontains=word) | Q(description__icontains=word) | Q(brand__icontains=word) | Q(sku=word)
            )
        return queryset

    def filter_category(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        # ASCII digits only: str.isdigit() is also true for '²' or '٣', which int() then refuses (a 500), and a
        # 30-digit id is out of the column's range
        if value.isascii() and value.isdigit():
            node = Category.objects.filter(id=int(value)).first() if len(value) <= 18 else None
            if node is None:
                return queryset.none()
            value = node.path
        value = value.strip()
        return queryset.filter(Q(category__path=value) | Q(category__path__startswith=value + CATEGORY_SEPARATOR))


def product_list(*, filters: dict[str, str] | None = None, active_only: bool = True) -> QuerySet[Product]:
    qs = Product.objects.select_related("category")
    if active_only:
        qs = qs.filter(is_active=True)
    return ProductFilter(filters or {}, queryset=qs).qs


def product_get(*, product_id: int, active_only: bool = True) -> Product | None:
    qs = Product.objects.select_related("category")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.filter(id=product_id).first()
