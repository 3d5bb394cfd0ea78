"""Reads of the catalog."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import Count, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from dragonrec.catalog.models import Category, Product
from dragonrec.catalog.search import product_search_filter
from dragonrec.categories import category_q, category_within


class PriceBoundField(forms.DecimalField):
    """A price bound: any finite number, read as the price column can compare it (2 decimals, 12 digits).

    A lower bound rounds up and an upper bound down to the cent (prices have no fractions of a cent, so the
    answer is exact), and magnitudes beyond the column clamp to its range: `1e-999999` means "at least 0.01",
    `1e999999` "more than any price". Before, both failed while the query was built (a 500). NaN/Infinity: 400."""

    LIMIT = Decimal("9999999999.99")

    def __init__(self, *args: Any, rounding: str = ROUND_HALF_UP, **kwargs: Any) -> None:
        self.rounding = rounding
        super().__init__(*args, **kwargs)

    # django-stubs' DecimalField.to_python already breaks IntegerField's `int | None`; ours keeps DecimalField's.
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value == "":  # given but empty: a client bug, not "no bound" (absent is None)
            raise forms.ValidationError("May not be empty; leave the parameter out for no bound.", code="empty")
        return super().to_python(value)

    def clean(self, value: Any) -> Decimal | None:
        number = super().clean(value)
        if number is None:
            return None
        bounded: Decimal = max(-self.LIMIT, min(self.LIMIT, number))
        return bounded.quantize(Decimal("0.01"), rounding=self.rounding)


@extend_schema_field(OpenApiTypes.NUMBER)  # any finite number (see PriceBoundField), not the column's pattern
class PriceFilter(django_filters.Filter):
    field_class = PriceBoundField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["rounding"] = ROUND_CEILING if kwargs.get("lookup_expr") == "gte" else ROUND_FLOOR
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is an error. Django's NullBooleanField reads `null` or `maybe` as
    "no filter", so a client's typo silently returned every product."""

    TRUE, FALSE = {"true", "1"}, {"false", "0"}

    def to_python(self, value: Any) -> bool | None:
        if value is None:
            return None
        if value == "":
            raise forms.ValidationError("May not be empty; leave the parameter out for no filter.", code="empty")
        text = str(value).strip().lower()
        if text in self.TRUE or text in self.FALSE:
            return text in self.TRUE
        raise forms.ValidationError("Expected true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ProductFilter(django_filters.FilterSet):
    """Query parameters of GET /api/products/."""

    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Words in title, brand, category or description (best match first), or an exact sku.",
    )
    category = django_filters.CharFilter(
        method="filter_category", help_text="Category id, or a path prefix ('Electronics > Monitors')."
    )
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact")
    min_price = PriceFilter(field_name="price", lookup_expr="gte")
    max_price = PriceFilter(field_name="price", lookup_expr="lte")
    in_stock = StrictBooleanFilter(field_name="in_stock")

    class Meta:
        model = Product
        fields = ["search", "category", "brand", "min_price", "max_price", "in_stock"]

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        # ranked full-text search over the stored vector (catalog.search), best match first
        return product_search_filter(queryset, value)

    def filter_category(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        # ASCII digits only: str.isdigit() is also true for '²' or '٣', which int() then refuses (a 500), and a
        # 30-digit id is out of the column's range
        if value.isascii() and value.isdigit():
            node = Category.objects.filter(id=int(value)).first() if len(value) <= 18 else None
            if node is None:
                return queryset.none()
            value = node.path
        value = value.strip()
        return queryset.filter(category_q("category__path", [value]))


def product_list(*, filters: dict[str, str] | None = None, active_only: bool = True) -> QuerySet[Product]:
    qs = Product.objects.select_related("category")
    if active_only:
        qs = qs.filter(is_active=True)
    filtered: QuerySet[Product] = ProductFilter(filters or {}, queryset=qs).qs
    return filtered


def product_get(*, product_id: int, active_only: bool = True) -> Product | None:
    qs = Product.objects.select_related("category")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.filter(id=product_id).first()


def category_list() -> list[dict[str, object]]:
    """Every category with the number of active products in it or below it, ordered by path. Two queries whatever
    the tree's size: a storefront's navigation asks on every page load."""
    direct = dict(
        Product.objects.filter(is_active=True, category__isnull=False)
        .values("category__path")
        .annotate(n=Count("id"))
        .values_list("category__path", "n")
    )
    rows = [dict(row) for row in Category.objects.order_by("path").values("id", "name", "path", "parent_id", "depth")]
    for row in rows:
        path = str(row["path"])
        row["product_count"] = sum(n for p, n in direct.items() if category_within(p, [path]))
    return rows
