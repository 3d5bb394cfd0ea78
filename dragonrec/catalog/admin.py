from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from dragonrec.catalog.models import Category, Product
from dragonrec.catalog.services import products_set_active


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "depth", "product_count"]
    search_fields = ["name", "path"]
    list_filter = ["depth"]
    autocomplete_fields = ["parent"]

    @admin.display(description="products")
    def product_count(self, obj: Category) -> int:
        return obj.products.count()


class StockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("out", "Out of stock"), ("low", "Low (1-5)"), ("ok", "More than 5")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        value = self.value()
        if value == "out":
            return queryset.filter(stock_quantity__lte=0)
        if value == "low":
            return queryset.filter(stock_quantity__gte=1, stock_quantity__lte=5)
        if value == "ok":
            return queryset.filter(stock_quantity__gt=5)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "brand", "category", "price", "currency", "stock_quantity", "in_stock", "is_active"]
    list_filter = ["is_active", "in_stock", StockFilter, "category", "brand"]
    search_fields = ["sku", "title", "brand", "description"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate", "deactivate", "mark_out_of_stock"]
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # image CDNs are https

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        n = products_set_active(ids=queryset.values_list("id", flat=True), active=True)
        self.message_user(request, f"{n} products activated.", messages.SUCCESS)

    @admin.action(
        description="Deactivate selected products (hidden from the API and recommendations)", permissions=["change"]
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        n = products_set_active(ids=queryset.values_list("id", flat=True), active=False)
        self.message_user(request, f"{n} products deactivated.", messages.SUCCESS)

    @admin.action(description="Mark selected products out of stock", permissions=["change"])
    def mark_out_of_stock(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        from django.utils import timezone

        n = queryset.update(stock_quantity=0, in_stock=False, updated_at=timezone.now())
        self.message_user(request, f"{n} products marked out of stock.", messages.SUCCESS)
