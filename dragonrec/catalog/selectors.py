"""Reads of the catalog."""

from __future__ import annotations

import django_filters
from django.db.models import Count, Q, QuerySet

from dragonrec.catalog.models import CATEGORY_SEPARATOR, Category, Product


class ProductFilter(django_filters.FilterSet):
    """Query parameters of GET /api/products/."""

    search = django_filters.CharFilter(method="filter_search", help_text="Words in title, description, brand or sku.")
    category = django_filters.CharFilter(
        method="filter_category", help_text="Category id, or a path prefix ('Electronics > Monitors')."
    )
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
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
        if value.isdigit():
            node = Category.objects.filter(id=int(value)).first()
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


def category_list() -> list[dict[str, object]]:
    """Every category with the number of active products in it or below it, ordered by path. Two queries whatever
    the tree's size: a storefront's navigation asks on every page load."""
    direct = dict(
        Product.objects.filter(is_active=True, category__isnull=False)
        .values("category__path")
        .annotate(n=Count("id"))
        .values_list("category__path", "n")
    )
    rows = list(Category.objects.order_by("path").values("id", "name", "path", "parent_id", "depth"))
    for row in rows:
        path = str(row["path"])
        below = path + CATEGORY_SEPARATOR
        row["product_count"] = sum(n for p, n in direct.items() if p == path or p.startswith(below))
    return rows
