"""The shop's few products: monitors, keyboards, mice, cables, and some kitchen goods."""

from decimal import Decimal

from catalog.models import Category
from django.core.management.base import BaseCommand

from shop.models import Product

PRODUCTS = {
    "Monitors": [
        ("Vista 27 inch 4K IPS monitor", "Vista"),
        ("Vista 24 inch full HD office monitor", "Vista"),
        ("Orbit 32 inch curved gaming monitor", "Orbit"),
    ],
    "Keyboards": [("Orbit mechanical keyboard, brown switches", "Orbit"), ("Vista slim wireless keyboard", "Vista")],
    "Mice": [("Orbit wireless ergonomic mouse", "Orbit"), ("Vista silent office mouse", "Vista")],
    "Cables": [("DisplayPort 1.4 cable, 2 m", "Linka"), ("HDMI 2.1 cable, 3 m", "Linka")],
    "Cookware": [("Cast iron skillet 28 cm", "Ferro"), ("Stainless steel saucepan 2 l", "Ferro")],
    "Tea": [("Sencha green tea, 100 g", "Leaf & Co"), ("Earl grey loose tea, 250 g", "Leaf & Co")],
}
PARENT = {"Monitors": "Computers", "Keyboards": "Computers", "Mice": "Computers", "Cables": "Computers"}


class Command(BaseCommand):
    def handle(self, *args: object, **options: object) -> None:
        for section, items in PRODUCTS.items():
            parent, _ = Category.objects.get_or_create(name=PARENT.get(section, "Kitchen"), parent=None)
            category, _ = Category.objects.get_or_create(name=section, parent=parent)
            for i, (name, maker) in enumerate(items):
                Product.objects.get_or_create(
                    name=name,
                    defaults={
                        "maker": maker,
                        "blurb": f"{name} by {maker}.",
                        "section": category,
                        "section_path": category.full_path(),
                        "cost": Decimal("19.99") + 10 * i,
                    },
                )
        self.stdout.write(f"{Product.objects.count()} products")
