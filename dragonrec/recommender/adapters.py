"""The one place that knows the host's product model. A shop with its own model sets DRAGONREC_PRODUCT_MODEL and
points RECOMMENDER["PRODUCT_ADAPTER"] at a subclass that maps its fields (see docs/extending.md)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Model, QuerySet

from dragonrec.recommender.core.text import product_text
from dragonrec.recommender.core.types import Product


def product_model() -> type[Model]:
    return apps.get_model(settings.DRAGONREC_PRODUCT_MODEL)


class DefaultProductAdapter:
    """Maps catalog.Product (or any model with the same field names) to the ranking code's plain Product.

    Override the `*_field` names or the methods for another model. Field names are used in queries, so they must
    be real (possibly related, with `__`) fields.
    """

    title_field = "title"
    brand_field = "brand"
    description_field = "description"
    category_path_field = "category__path"
    price_field = "price"
    in_stock_field = "in_stock"
    active_field = "is_active"
    updated_field = "updated_at"  # the embedder re-embeds a product whose row changed after its embedding
    sku_field: str | None = "sku"  # how exports name a product (None: "prod_<id>")
    attributes_field: str | None = "attributes"  # a JSON field with {"consumable": true, ...}; None if you have none

    def queryset(self) -> QuerySet[Any]:
        return product_model()._default_manager.all()

    def available(self, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
        qs = self.queryset() if qs is None else qs
        return qs.filter(**{self.active_field: True, self.in_stock_field: True})

    def values_fields(self) -> list[str]:
        return [
            "pk",
            self.title_field,
            self.brand_field,
            self.category_path_field,
            self.price_field,
            self.in_stock_field,
            self.active_field,
            *([self.attributes_field] if self.attributes_field else []),
        ]

    def to_product(self, row: dict[str, Any]) -> Product:
        price = row.get(self.price_field)
        attributes = (row.get(self.attributes_field) if self.attributes_field else None) or {}
        return Product(
            id=int(row["pk"]),
            title=str(row.get(self.title_field) or ""),
            category=str(row.get(self.category_path_field) or ""),
            brand=str(row.get(self.brand_field) or ""),
            price=float(price) if price is not None else None,
            in_stock=bool(row.get(self.in_stock_field, True)),
            is_active=bool(row.get(self.active_field, True)),
            consumable=bool(attributes.get("consumable")) if isinstance(attributes, dict) else False,
        )

    def text_fields(self) -> list[str]:
        return ["pk", self.title_field, self.brand_field, self.category_path_field, self.description_field]

    def to_text(self, row: dict[str, Any]) -> str:
        return product_text(
            title=str(row.get(self.title_field) or ""),
            brand=str(row.get(self.brand_field) or ""),
            category=str(row.get(self.category_path_field) or ""),
            description=str(row.get(self.description_field) or ""),
        )


def product_adapter() -> DefaultProductAdapter:
    from dragonrec.recommender.conf import recommender_settings

    adapter: DefaultProductAdapter = recommender_settings.PRODUCT_ADAPTER()
    return adapter
