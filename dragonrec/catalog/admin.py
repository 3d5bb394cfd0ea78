from __future__ import annotations

from typing import Any

from django import forms
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


def _site_path(value: str) -> bool:
    return value.startswith("/") and not value.startswith("//")


class ImageAddressField(forms.URLField):
    """A full URL, or a path on this site ("/static/dragonrec/demo/products/mugs.svg": the demo's own pictures),
    which a plain URLField refuses, so that a demo product could not be saved in the admin at all."""

    def to_python(self, value: Any) -> str | None:
        text = str(value or "").strip()
        return text if _site_path(text) else super().to_python(value)

    def run_validators(self, value: Any) -> None:
        if not _site_path(str(value)):
            super().run_validators(value)


class ProductAdminForm(forms.ModelForm):
    """The admin builds its form from this one (its fields are the ModelAdmin's)."""

    image_url = ImageAddressField(required=False, max_length=1000, assume_scheme="https")  # image CDNs are https

    def _get_validation_exclusions(self) -> set[str]:
        # The model field's own URLValidator would refuse the site path the form field accepted.
        return {*super()._get_validation_exclusions(), "image_url"}  # type: ignore[misc]  # not in django-stubs


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
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
