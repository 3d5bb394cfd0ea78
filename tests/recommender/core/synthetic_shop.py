"""A small synthetic shop for the ranking-core tests: 8 leaf categories, titles that share words within a category
(so the hashing embedder puts them close), and sessions where phones go with cases and chargers, running shoes with
socks, kettles with tea, plus one bestseller bought with everything (popular, but nobody's complement)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dragonrec.recommender.core.embedder import HashingEmbedder
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.types import PURCHASE, VIEW, HistoryEvent, Product

CATALOG: dict[str, list[str]] = {
    "Electronics > Phones": ["Galaxy phone 128GB", "Pixel phone 256GB", "Moto phone 64GB", "Nokia phone dual sim"],
    "Electronics > Phone Cases": ["Galaxy phone case leather", "Pixel phone case clear", "Rugged phone case black"],
    "Electronics > Chargers": ["USB-C fast charger 30W", "Wireless charger pad", "Car charger dual USB"],
    "Sports > Running > Shoes": ["Road running shoes", "Trail running shoes", "Racing running shoes"],
    "Sports > Running > Socks": ["Running socks cushioned", "Running socks merino", "Compression running socks"],
    "Home > Kitchen > Kettles": ["Electric kettle steel", "Glass electric kettle", "Travel kettle mini"],
    "Home > Kitchen > Tea": ["Green tea leaves", "Black tea bags", "Herbal tea mix"],
    "Books > Fiction": ["Bestseller mystery novel"],
}
CONSUMABLE_CATEGORIES = {"Home > Kitchen > Tea", "Sports > Running > Socks"}
COMPLEMENT_PAIRS = [
    ("Electronics > Phones", "Electronics > Phone Cases"),
    ("Electronics > Phones", "Electronics > Chargers"),
    ("Sports > Running > Shoes", "Sports > Running > Socks"),
    ("Home > Kitchen > Kettles", "Home > Kitchen > Tea"),
]


@dataclass
class Shop:
    products: list[Product]
    by_title: dict[str, Product]
    store: InMemoryProductStore
    index: InMemoryVectorIndex
    embedder: HashingEmbedder
    sessions: list[list[HistoryEvent]]

    def id(self, title: str) -> int:
        return self.by_title[title].id

    def in_category(self, category: str) -> list[int]:
        return [p.id for p in self.products if p.category == category]

    def category_of(self, product_id: int) -> str:
        return self.products[product_id].category


def make_products() -> list[Product]:
    products = []
    for category, titles in CATALOG.items():
        for title in titles:
            products.append(
                Product(id=len(products), title=title, category=category, consumable=category in CONSUMABLE_CATEGORIES)
            )
    return products


def make_sessions(products: list[Product], *, n: int = 120, seed: int = 0) -> list[list[HistoryEvent]]:
    """Each session: view a product of one side of a complement pair, buy it, buy one of the other side; a third of
    them also buy the bestseller (so it co-occurs with everything, and is the most popular item)."""
    rng = np.random.default_rng(seed)
    by_category: dict[str, list[Product]] = {}
    for product in products:
        by_category.setdefault(product.category, []).append(product)
    bestseller = by_category["Books > Fiction"][0]
    sessions = []
    for s in range(n):
        left, right = COMPLEMENT_PAIRS[s % len(COMPLEMENT_PAIRS)]
        first = by_category[left][rng.integers(len(by_category[left]))]
        second = by_category[right][rng.integers(len(by_category[right]))]
        events = [(first, VIEW), (first, PURCHASE), (second, PURCHASE)]
        if s % 3 == 0:
            events.insert(int(rng.integers(0, 4)), (bestseller, PURCHASE))
        if s % 2 == 0:  # the bestseller is also bought on its own, in sessions of its own
            sessions.append([HistoryEvent(bestseller.id, PURCHASE, float(s * 100))])
        sessions.append([HistoryEvent(p.id, kind, float(s * 100 + t)) for t, (p, kind) in enumerate(events)])
    return sessions


def make_shop(*, products: list[Product] | None = None, sessions: list[list[HistoryEvent]] | None = None) -> Shop:
    products = products or make_products()
    sessions = make_sessions(products) if sessions is None else sessions
    embedder = HashingEmbedder(dim=128)
    vectors = embedder.encode([f"{p.title}. {p.category}" for p in products])
    store = InMemoryProductStore.from_sessions(products, sessions)
    index = InMemoryVectorIndex([p.id for p in products], vectors, products=products)
    return Shop(products, {p.title: p for p in products}, store, index, embedder, sessions)
