"""The default product model. Recommender code never imports it: it goes through DRAGONREC_PRODUCT_MODEL and a
product adapter, so a shop can plug in its own model instead."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.text import slugify

from dragonrec.categories import SEPARATOR


class Category(models.Model):
    """A node of the category tree. `path` ("Electronics > Monitors") is denormalised because recommendation
    code groups and filters by it on every request."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    path = models.CharField(max_length=1000, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["parent", "slug"], name="dragonrec_category_unique_slug")]

    def __str__(self) -> str:
        return self.path

    def save(self, *args: object, **kwargs: object) -> None:
        # path/depth are derived data, kept in step with the tree here so admin edits stay consistent.
        self.slug = self.slug or slugify(self.name)[:220]
        self.path = f"{self.parent.path}{SEPARATOR}{self.name}" if self.parent else self.name
        self.depth = self.parent.depth + 1 if self.parent else 0
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=200, blank=True, db_index=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    stock_quantity = models.IntegerField(default=0)
    in_stock = models.BooleanField(default=True, db_index=True)
    is_active = models.BooleanField(default=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Weighted full-text vector of the normalised title, brand, category path and description (dragonrec.textsearch),
    # written by catalog.search.product_search_index_update whenever those change (Saleor's `search_vector`).
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        # Like auth.User: a shop that sets DRAGONREC_PRODUCT_MODEL to its own model does not get this table.
        swappable = "DRAGONREC_PRODUCT_MODEL"
        indexes = [
            models.Index(fields=["category", "is_active", "in_stock"], name="dragonrec_prod_cat_avail"),
            GinIndex(fields=["search_vector"], name="dragonrec_prod_search"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"

    @property
    def category_path(self) -> str:
        return self.category.path if self.category_id and self.category else ""
