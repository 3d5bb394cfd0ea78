"""Fixtures for the recommender's Django side: small real catalogs with real MiniLM embeddings in pgvector."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Django imports live inside the fixtures: the Django-free suites under core/, evaluation/, ml/ and teacher/ also
# run with `-p no:django`, and this conftest is loaded for them too.


@dataclass
class Shop:
    products: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.products[key]


TINY_CATALOG = {
    # key: (category path, title, description)
    "shoe_road": ("Sports > Running > Running Shoes", "Road Runner 5 Running Shoes", "Cushioned road running shoe."),
    "shoe_trail": ("Sports > Running > Running Shoes", "TrailBlaze Running Shoes", "Grippy trail running shoe."),
    "shirt_run": ("Sports > Running > Running Apparel", "Quick-Dry Running Shirt", "Breathable top for runners."),
    "bottle": ("Sports > Running > Water Bottles", "Running Hydration Bottle", "Handheld bottle for long runs."),
    "socks_run": ("Sports > Running > Running Apparel", "Cushioned Running Socks", "Blister-free running socks."),
    "coffee": ("Home > Kitchen > Coffee Makers", "Drip Coffee Maker", "Brews 12 cups of coffee."),
    "kettle": ("Home > Kitchen > Kettles", "Electric Kettle 1.7L", "Boils water fast."),
    "pan": ("Home > Kitchen > Cookware", "Nonstick Frying Pan", "28 cm pan for eggs."),
    "monitor": ("Electronics > Monitors", "27-inch 4K Monitor", "IPS display for work."),
    "keyboard": ("Electronics > Keyboards", "Mechanical Keyboard", "Tactile switches."),
    "mouse": ("Electronics > Mice", "Wireless Mouse", "Ergonomic mouse."),
    "cable": ("Electronics > Cables", "USB-C to DisplayPort Cable", "Connect a laptop to a monitor."),
}


def make_tiny_shop() -> Shop:
    from dragonrec.catalog.factories import CategoryFactory, ProductFactory
    from dragonrec.recommender.services.embeddings import product_embeddings_refresh_all

    categories: dict[str, Any] = {}
    products = {}
    for key, (path, title, description) in TINY_CATALOG.items():
        parent = None
        for depth, name in enumerate(path.split(" > ")):
            sub = " > ".join(path.split(" > ")[: depth + 1])
            if sub not in categories:
                categories[sub] = CategoryFactory(name=name, parent=parent)
            parent = categories[sub]
        products[key] = ProductFactory(sku=key.upper(), title=title, description=description, category=parent)
    product_embeddings_refresh_all()
    return Shop(products)


@pytest.fixture
def tiny_shop(db: None) -> Shop:
    return make_tiny_shop()


@pytest.fixture(scope="module")
def demo_shop(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo catalog and generated events, embedded and aggregated, rolled back after the module."""
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("dragonrec_demo_data", "--skip-train", stdout=_Null(), stderr=_Null())
            yield None
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


class _Null:
    def write(self, *_: Any) -> None:
        pass

    def flush(self) -> None:
        pass
