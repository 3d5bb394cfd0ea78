"""One simulated shopping session of the demo generator: compare within a category, cart, cross-shop complements,
check out, replenish consumables. See ``sessions`` for the behaviour model."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import numpy as np

from dragonrec.catalog.demo.data import ADD_TO_CART, PURCHASE, REMOVE_FROM_CART, VIEW
from dragonrec.catalog.demo.shoppers import DemoCatalog, ShopperProfile


class ShoppingSession:
    """Simulates one session, appending events with strictly increasing timestamps."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalog: DemoCatalog,
        shopper: ShopperProfile,
        session_id: str,
        start: datetime,
        rising_boost: float,
    ) -> None:
        self.rng = rng
        self.catalog = catalog
        self.shopper = shopper
        self.session_id = session_id
        self.clock = start
        self.rising_boost = rising_boost
        self.events: list[tuple[datetime, int, str, int]] = []  # (timestamp, product index, type, quantity)
        self.cart: list[tuple[int, int]] = []  # (product index, quantity), in add order
        self.purchased: list[int] = []
        self.viewed: list[int] = []

    # -- primitives -----------------------------------------------------------------------------------------

    def _advance(self, median_s: float, sigma: float = 0.6, low: int = 2, high: int = 900) -> None:
        seconds = int(np.clip(round(self.rng.lognormal(math.log(median_s), sigma)), low, high))
        self.clock += timedelta(seconds=seconds)

    def _emit(self, index: int, kind: str, quantity: int = 1) -> None:
        self.events.append((self.clock, index, kind, quantity))

    def view(self, index: int) -> None:
        self._advance(40 if self.events else 1, low=1 if not self.events else 4)
        self._emit(index, VIEW)
        self.viewed.append(index)

    def add_to_cart(self, index: int) -> None:
        assert self.catalog.in_stock[index], "out-of-stock products cannot be added to a cart"
        self._advance(25, sigma=0.5)
        quantity = self._quantity(index)
        self._emit(index, ADD_TO_CART, quantity)
        self.cart.append((index, quantity))

    def remove_from_cart(self, index: int) -> None:
        line = next(line for line in self.cart if line[0] == index)
        self._advance(20, sigma=0.5)
        self._emit(index, REMOVE_FROM_CART, line[1])
        self.cart.remove(line)

    def checkout(self) -> None:
        self._advance(120, sigma=0.5, low=20)
        for index, quantity in self.cart:
            self._emit(index, PURCHASE, quantity)
            self.purchased.append(index)
            self.clock += timedelta(seconds=1)
        self.cart = []

    def _quantity(self, index: int) -> int:
        if self.catalog.consumable[index]:
            return int(self.rng.choice([1, 2, 3], p=[0.55, 0.3, 0.15]))
        if self.catalog.price[index] < 20:
            return int(self.rng.choice([1, 2], p=[0.85, 0.15]))
        return 1

    # -- choices --------------------------------------------------------------------------------------------

    def _weights(self, indices: np.ndarray) -> np.ndarray:
        c = self.catalog
        weights = c.popularity[indices] * np.exp(-self.shopper.price_beta * c.price_z[indices])
        boosted: np.ndarray = np.where(c.rising[indices], weights * self.rising_boost, weights)
        return boosted

    def pick(self, category: str, *, exclude: Iterable[int] = (), in_stock_only: bool = False) -> int | None:
        """Draw a product of ``category`` by popularity and the shopper's price preference."""
        members = self.catalog.members[category]
        excluded = set(exclude)
        mask = np.array([i not in excluded for i in members])
        if in_stock_only:
            mask &= self.catalog.in_stock[members]
        candidates = members[mask]
        if len(candidates) == 0:
            return None
        weights = self._weights(candidates)
        return int(candidates[int(self.rng.choice(len(candidates), p=weights / weights.sum()))])

    def choose_for_cart(self, options: Sequence[int]) -> int | None:
        """Pick the product to buy among those seen (in stock, not yet in the cart); the first seen gets an edge."""
        in_cart = {index for index, _ in self.cart}
        candidates = np.array(
            [i for i in dict.fromkeys(options) if self.catalog.in_stock[i] and i not in in_cart], dtype=int
        )
        if len(candidates) == 0:
            return None
        weights = self._weights(candidates)
        weights = np.where(candidates == options[0], weights * 1.5, weights)
        return int(candidates[int(self.rng.choice(len(candidates), p=weights / weights.sum()))])

    def big_ticket(self, index: int) -> float:
        """0 for items up to $30, rising to 1 at $1,000 (log scale)."""
        return float(np.clip((math.log10(self.catalog.price[index]) - 1.5) / 1.5, 0.0, 1.0))

    def choose_complements(self, category: str) -> list[str]:
        options = self.catalog.complements[category]
        if not options:
            return []
        k = min(len(options), int(self.rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15])))
        weights = 1.0 / np.arange(1, len(options) + 1)
        picked = self.rng.choice(len(options), size=k, replace=False, p=weights / weights.sum())
        return [options[int(i)] for i in sorted(picked)]

    # -- behaviour ------------------------------------------------------------------------------------------

    def browse_complements(self, category: str, *, buy_probability: float) -> bool:
        """View (and maybe cart) items from complement categories; True if anything was added."""
        added = False
        for complement in self.choose_complements(category):
            seen: list[int] = []
            for _ in range(int(self.rng.choice([1, 2, 3, 4], p=[0.25, 0.35, 0.25, 0.15]))):
                index = self.pick(complement, exclude=seen)
                if index is None:
                    break
                self.view(index)
                seen.append(index)
            if seen and self.rng.random() < buy_probability:
                choice = self.choose_for_cart(seen)
                if choice is not None:
                    self.add_to_cart(choice)
                    added = True
        return added

    def run(self, category: str) -> None:
        rng = self.rng
        logged_in = self.shopper.user is not None
        if logged_in and self.shopper.consumables_bought and rng.random() < 0.3:
            self.replenish()
            return

        anchor = self.pick(category)
        assert anchor is not None
        self.view(anchor)
        if rng.random() < 0.12:  # bounce
            if rng.random() < 0.5:
                other = self.pick(category, exclude=self.viewed)
                if other is not None:
                    self.view(other)
            return

        # Comparison shopping within the leaf category, occasionally going back to an earlier product.
        category_size = len(self.catalog.members[category])
        for _ in range(min(int(rng.poisson(5.0)) + 1, max(2, round(0.6 * category_size)))):
            if len(self.viewed) > 1 and rng.random() < 0.12:
                self.view(self.viewed[int(rng.integers(len(self.viewed)))])
                continue
            other = self.pick(category, exclude=self.viewed)
            if other is None:
                break
            self.view(other)

        main: int | None = None
        if rng.random() < (0.65 if logged_in else 0.5):
            main = self.choose_for_cart(self.viewed)
            if main is None:  # everything compared is sold out: look at one more that is in stock
                main = self.pick(category, exclude=self.viewed, in_stock_only=True)
                if main is not None:
                    self.view(main)
            if main is not None:
                self.add_to_cart(main)
                if rng.random() < 0.1:  # changes their mind and swaps for another option
                    self.remove_from_cart(main)
                    alternative = self.choose_for_cart([i for i in self.viewed if i != main])
                    main = None
                    if alternative is not None and rng.random() < 0.7:
                        self.add_to_cart(alternative)
                        main = alternative

        # Accessory shopping: likelier (and more often converting) after carting a big-ticket item.
        cross_shopped = False
        big_ticket = self.big_ticket(main) if main is not None else 0.0
        if rng.random() < (0.6 + 0.3 * big_ticket if main is not None else 0.15):
            cross_shopped = True
            self.browse_complements(category, buy_probability=0.55 + 0.25 * big_ticket if main is not None else 0.2)
            if len(self.cart) > 1 and rng.random() < 0.08:
                self.remove_from_cart(self.cart[-1][0])

        others = [c for c in self.shopper.interests if c != category]
        if others and rng.random() < 0.2:  # a second errand in another interest category
            second = others[int(rng.integers(len(others)))]
            seen: list[int] = []
            for _ in range(int(rng.poisson(2.0)) + 1):
                index = self.pick(second, exclude=seen)
                if index is None:
                    break
                self.view(index)
                seen.append(index)
            if seen and rng.random() < 0.35:
                choice = self.choose_for_cart(seen)
                if choice is not None:
                    self.add_to_cart(choice)

        if rng.random() < 0.08:  # wanders off to an unrelated bestseller
            self.view(int(rng.choice(len(self.catalog.skus), p=self.catalog.bestsellers)))

        if self.cart and rng.random() < (0.78 if logged_in else 0.62):
            self.checkout()
            # Post-purchase accessory shopping, sometimes ending in a second order.
            if (
                not cross_shopped
                and rng.random() < 0.3
                and self.browse_complements(category, buy_probability=0.5)
                and rng.random() < 0.75
            ):
                self.checkout()

    def replenish(self) -> None:
        """Return visit to re-buy a consumable bought earlier."""
        rng = self.rng
        history = self.shopper.consumables_bought
        weights = np.linspace(1.0, 2.0, len(history))  # more recent purchases are likelier
        index = history[int(rng.choice(len(history), p=weights / weights.sum()))]
        category = self.catalog.category_of[index]
        self.view(index)
        if not self.catalog.in_stock[index] or rng.random() < 0.25:  # sold out, or curious about alternatives
            other = self.pick(category, exclude=[index], in_stock_only=True)
            if other is not None:
                self.view(other)
                if not self.catalog.in_stock[index]:
                    index = other
        if self.catalog.in_stock[index]:
            self.add_to_cart(index)
            if rng.random() < 0.2:
                self.browse_complements(category, buy_probability=0.4)
            if rng.random() < 0.85:
                self.checkout()
