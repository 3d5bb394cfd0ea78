"""The demo generator's view of the catalog (popularity, price position, rising products) and its shoppers'
profiles: who wants what, how price-sensitive, how often back. See ``sessions`` for the behaviour model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dragonrec.catalog.demo.data import load_behaviour

ZIPF_EXPONENT = 1.3  # popularity of the rank-r product in its category is proportional to r ** -ZIPF_EXPONENT
RISING_PRODUCTS = 6  # products whose popularity surges over the last week


class DemoCatalog:
    """Index of the product list used by the simulator."""

    def __init__(self, products: Sequence[dict[str, Any]], complements: dict[str, list[str]], seed: int) -> None:
        if not products:
            raise ValueError("generate_sessions() needs at least one product")
        self.skus = [str(p["item_id"]) for p in products]
        if len(set(self.skus)) != len(self.skus):
            raise ValueError("product item_id values must be unique")
        self.category_of = [str(p["category"]) for p in products]
        self.in_stock = np.array([int(p.get("stock", 0)) > 0 for p in products])
        self.consumable = np.array([bool((p.get("attributes") or {}).get("consumable")) for p in products])
        self.price = np.array([max(float(p.get("price", 1.0)), 0.01) for p in products])

        grouped: dict[str, list[int]] = defaultdict(list)
        for i, category in enumerate(self.category_of):
            grouped[category].append(i)
        self.members = {category: np.array(indices, dtype=int) for category, indices in grouped.items()}
        self.categories = list(self.members)
        self.department = {c: c.split(" > ")[0] for c in self.categories}

        # Complements restricted to categories that exist, without self-loops.
        self.complements = {
            c: [x for x in complements.get(c, []) if x in self.members and x != c] for c in self.categories
        }

        size = np.array([len(self.members[c]) for c in self.categories], dtype=float)
        traffic_table = load_behaviour().category_traffic
        boost = np.array([traffic_table.get(c.split(" > ")[-1], 1.0) for c in self.categories])
        self.traffic = boost * np.sqrt(size)
        self.traffic /= self.traffic.sum()

        # Log-price z-scores within each category (for price preference) and Zipf-like bestseller ranks: a random
        # draw that favours mainstream, mid-priced products over the extremes of the category's price range.
        pop_rng = np.random.default_rng([seed, 1])
        self.popularity = np.zeros(len(products))
        self.price_z = np.zeros(len(products))
        for members in self.members.values():
            log_price = np.log(self.price[members])
            spread = log_price.std()
            z = (log_price - log_price.mean()) / spread if spread > 0 else np.zeros(len(members))
            self.price_z[members] = z
            appeal = pop_rng.gumbel(size=len(members)) - 0.8 * np.abs(z + 0.2)
            ranks = np.empty(len(members))
            ranks[np.argsort(-appeal)] = np.arange(1, len(members) + 1)
            self.popularity[members] = 1.0 / ranks**ZIPF_EXPONENT

        # A few in-stock products that are taking off right now (mostly bestsellers-to-be, not current #1s).
        candidates = np.flatnonzero(self.in_stock & (self.popularity < 1.0))
        n_rising = min(RISING_PRODUCTS, len(candidates))
        self.rising = np.zeros(len(products), dtype=bool)
        if n_rising:
            self.rising[pop_rng.choice(candidates, size=n_rising, replace=False)] = True

        # Product weights for "wandering" views: category traffic times in-category popularity.
        traffic_of = dict(zip(self.categories, self.traffic, strict=True))
        bestsellers = np.array([traffic_of[c] for c in self.category_of]) * self.popularity
        self.bestsellers = bestsellers / bestsellers.sum()


@dataclass
class ShopperProfile:
    user: str | None
    interests: list[str]
    interest_weights: np.ndarray
    price_beta: float  # > 0 prefers cheaper items within a category, < 0 prefers premium ones
    activity: float
    consumables_bought: list[int] = field(default_factory=list)


def make_shopper(rng: np.random.Generator, catalog: DemoCatalog, user: str | None) -> ShopperProfile:
    n_interests = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2]))
    first = catalog.categories[int(rng.choice(len(catalog.categories), p=catalog.traffic))]
    interests = [first]
    while len(interests) < n_interests:
        roll = rng.random()
        pool: list[str] = []
        if roll < 0.45:
            pool = [c for c in catalog.complements[first] if c not in interests]
        elif roll < 0.75:
            pool = [c for c in catalog.categories if catalog.department[c] == catalog.department[first]]
            pool = [c for c in pool if c not in interests]
        if not pool:
            pool = [c for c in catalog.categories if c not in interests]
        if not pool:
            break
        weights = np.array([catalog.traffic[catalog.categories.index(c)] for c in pool])
        interests.append(pool[int(rng.choice(len(pool), p=weights / weights.sum()))])
    interest_weights = np.array([1.0, 0.55, 0.35][: len(interests)])
    price_beta = float(rng.normal(0.35, 0.5))
    activity = float(rng.lognormal(0.0, 0.8))
    return ShopperProfile(user, interests, interest_weights / interest_weights.sum(), price_beta, activity)
