from django.db import models


class Product(models.Model):
    """What the shop sells, with the shop's own field names."""

    name = models.CharField(max_length=200)
    maker = models.CharField(max_length=100, blank=True)
    blurb = models.TextField(blank=True)
    section = models.ForeignKey("catalog.Category", null=True, on_delete=models.SET_NULL, related_name="items")
    section_path = models.CharField(max_length=300, blank=True)  # "Computers > Monitors", kept by the shop's admin
    cost = models.DecimalField(max_digits=10, decimal_places=2)
    available = models.BooleanField(default=True)
    published = models.BooleanField(default=True)
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name
