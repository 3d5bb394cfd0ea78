"""The shop's own `catalog` app: same label as DragonRec's old one, and tables named catalog_*."""

from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return self.name

    def full_path(self) -> str:
        return f"{self.parent.full_path()} > {self.name}" if self.parent else self.name


class Product(models.Model):
    """A print-catalogue entry (not what is sold): a name clash with DragonRec's catalog.Product on purpose."""

    code = models.CharField(max_length=20, unique=True)

    def __str__(self) -> str:
        return self.code
