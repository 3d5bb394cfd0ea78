"""factory_boy factories for the default catalog; host projects may import them in their own tests."""

from __future__ import annotations

from decimal import Decimal

import factory

from dragonrec.catalog.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("path",)

    name = factory.Sequence(lambda n: f"Category {n}")
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path} > {o.name}" if o.parent else o.name)


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    description = ""
    brand = "Acme"
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("19.99")
    stock_quantity = 10
    in_stock = True
    is_active = True
