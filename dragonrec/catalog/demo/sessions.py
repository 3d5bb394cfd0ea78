"""Deterministic generator of plausible demo shopping sessions for the DragonRec demo catalog.

The events feed the demo (and its tests) with enough structure for every recommender to learn something real:
similar items, co-purchases, trending and "buy it again". Pure Python + numpy, no Django.

Behaviour model
---------------
* **Shoppers.** ``n_users`` logged-in shoppers (``demo-user-001`` ...) each have 1-3 interest leaf categories
  (the first drawn by category traffic, later ones usually from its complements or the same department), a price
  sensitivity (most prefer cheaper items within a category, a minority prefers premium ones) and an activity level
  (log-normal, so a few shoppers come back often). About 25% of sessions are anonymous (``user=None``) and get a
  throw-away profile drawn the same way.
* **Popularity.** Within each leaf category products follow a Zipf-like popularity (rank weight ``rank ** -1.3``), so
  every category has clear bestsellers. A handful of "rising" products get a popularity boost that ramps up over the
  last seven days, and overall traffic grows towards the present (the newest day has about twice the traffic of the
  oldest; weekends are a bit busier; evenings are the busiest hours), so trending has something to find.
* **A session** starts from an *anchor* product in one of the shopper's interest categories and compares it with
  several other products of the same leaf category (views, occasionally re-viewing one). It often adds the best
  candidate to the cart (sometimes swapping it for another via ``remove_from_cart``), and then, with real
  probability, browses the *complement* categories from ``complements.json`` (lists are ordered strongest first),
  adding some of those items too. Checkout emits one ``purchase`` event per cart line, anchor first. Shoppers who
  bought without cross-shopping sometimes come back to complements after the purchase and place a second order.
  Some sessions bounce after one or two views, and a few wander into an unrelated bestseller.
* **Replenishment.** Logged-in shoppers who bought a consumable (``attributes.consumable``, e.g. coffee beans or
  paper) sometimes return later just to buy the same SKU again.
* **Stock.** Out-of-stock products (``stock == 0``) are viewed like anything else but are never added to a cart
  or purchased.
* **Time.** Sessions are spread over the last ``days`` days before ``now``; events within a session are seconds to
  minutes apart with strictly increasing timestamps, and every timestamp is strictly before ``now``. The returned
  events are sorted by timestamp (then session id).

Same arguments (including ``seed`` and ``now``) always produce identical output. Run this module to print summary
statistics of the default demo data set::

    python -m catalog.demo.sessions
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
PRODUCTS_PATH = HERE / "products.jsonl"
COMPLEMENTS_PATH = HERE / "complements.json"

VIEW = "view"
ADD_TO_CART = "add_to_cart"
REMOVE_FROM_CART = "remove_from_cart"
PURCHASE = "purchase"
EVENT_TYPES = (VIEW, ADD_TO_CART, REMOVE_FROM_CART, PURCHASE)

# Relative demand per leaf category name (last path segment); unknown categories get 1.0.
CATEGORY_TRAFFIC: dict[str, float] = {
    "Monitors": 3.2,
    "Laptops": 2.0,
    "Running Shoes": 1.8,
    "Headphones": 1.6,
    "Coffee Beans": 1.5,
    "Keyboards": 1.2,
    "Mice": 1.2,
    "Coffee Makers": 1.2,
    "Phone Cases": 1.2,
    "Phone Chargers": 1.1,
    "Cookware": 0.9,
    "Desks": 0.8,
    "Webcams": 0.8,
}
# Share of traffic per hour of day (UTC), evening peak.
HOUR_WEIGHTS = (
    0.6, 0.4, 0.3, 0.2, 0.2, 0.3, 0.6, 1.0, 1.3, 1.5, 1.6, 1.7,
    1.9, 1.8, 1.6, 1.5, 1.5, 1.7, 2.0, 2.4, 2.6, 2.4, 1.8, 1.1,
)  # fmt: skip

ANONYMOUS_SHARE = 0.25
ZIPF_EXPONENT = 1.3  # popularity of the rank-r product in its category is proportional to r ** -ZIPF_EXPONENT
RISING_PRODUCTS = 6  # products whose popularity surges over the last week
RISING_WINDOW_DAYS = 7
RISING_MAX_BOOST = 6.0
SAFETY_MARGIN_S = 30  # last event of a session is at least this far before ``now``


@dataclass(frozen=True)
class DemoEvent:
    """One shopper interaction, ready to be ingested as a DragonRec event."""

    user: str | None  # "demo-user-017" for logged-in shoppers, None for anonymous sessions
    session_id: str  # "s-000123"
    sku: str  # product item_id
    type: str  # one of EVENT_TYPES
    timestamp: datetime  # timezone-aware UTC
    quantity: int = 1


# ----------------------------------------------------------------------------------------------------- loading


def load_products(path: Path | None = None) -> list[dict[str, Any]]:
    """Read the demo catalog (``products.jsonl`` next to this module by default)."""
    path = PRODUCTS_PATH if path is None else Path(path)
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_complements(path: Path | None = None) -> dict[str, list[str]]:
    """Read the ground-truth category complement map (leaf path -> complementary leaf paths, strongest first)."""
    path = COMPLEMENTS_PATH if path is None else Path(path)
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {str(k): [str(c) for c in v] for k, v in data.items()}


# ----------------------------------------------------------------------------------------------------- catalog


class _Catalog:
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
        boost = np.array([CATEGORY_TRAFFIC.get(c.split(" > ")[-1], 1.0) for c in self.categories])
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
class _Shopper:
    user: str | None
    interests: list[str]
    interest_weights: np.ndarray
    price_beta: float  # > 0 prefers cheaper items within a category, < 0 prefers premium ones
    activity: float
    consumables_bought: list[int] = field(default_factory=list)


def _make_shopper(rng: np.random.Generator, catalog: _Catalog, user: str | None) -> _Shopper:
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
    return _Shopper(user, interests, interest_weights / interest_weights.sum(), price_beta, activity)


# ----------------------------------------------------------------------------------------------------- sessions


class _Session:
    """Simulates one session, appending events with strictly increasing timestamps."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalog: _Catalog,
        shopper: _Shopper,
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
        return np.where(c.rising[indices], weights * self.rising_boost, weights)

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


def _session_starts(rng: np.random.Generator, n_sessions: int, days: int, now: datetime) -> list[datetime]:
    """Session start times over the last ``days`` days: traffic grows towards ``now``, evenings are busiest."""
    window_start = now - timedelta(days=days)
    ramp = np.linspace(1.0, 2.0, days) if days > 1 else np.ones(1)
    weekend = np.array([1.15 if (window_start + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)])
    day_weights = ramp * weekend
    hour_weights = np.array(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS)
    starts = []
    for _ in range(n_sessions):
        day = int(rng.choice(days, p=day_weights / day_weights.sum()))
        bucket = window_start + timedelta(days=day)  # [bucket, bucket + 1 day)
        hour = int(rng.choice(24, p=hour_weights))
        start = bucket.replace(hour=hour, minute=0, second=0) + timedelta(seconds=int(rng.integers(3600)))
        if start < bucket:
            start += timedelta(days=1)
        starts.append(start)
    starts.sort()
    return starts


def generate_sessions(
    *,
    products: list[dict[str, Any]],
    n_users: int = 120,
    n_sessions: int = 600,
    days: int = 30,
    seed: int = 7,
    now: datetime | None = None,
    complements: dict[str, list[str]] | None = None,
) -> list[DemoEvent]:
    """Generate demo events for ``n_sessions`` sessions of ``n_users`` shoppers (see the module docstring).

    ``complements`` defaults to ``complements.json`` next to this module. ``now`` defaults to the current UTC
    time; a naive ``now`` is taken to be UTC. Output is fully determined by the arguments.
    """
    if n_users < 1 or n_sessions < 0 or days < 1:
        raise ValueError("need n_users >= 1, n_sessions >= 0 and days >= 1")
    now = datetime.now(UTC) if now is None else now
    now = (now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)).replace(microsecond=0)
    catalog = _Catalog(products, load_complements() if complements is None else complements, seed)
    rng = np.random.default_rng(seed)

    width = max(3, len(str(n_users)))
    shoppers = [_make_shopper(rng, catalog, f"demo-user-{i:0{width}d}") for i in range(1, n_users + 1)]
    activity = np.array([s.activity for s in shoppers])
    activity /= activity.sum()

    rising_start = now - timedelta(days=RISING_WINDOW_DAYS)
    latest = now - timedelta(seconds=SAFETY_MARGIN_S)
    events: list[DemoEvent] = []
    for number, start in enumerate(_session_starts(rng, n_sessions, days, now), start=1):
        if rng.random() < ANONYMOUS_SHARE:
            shopper = _make_shopper(rng, catalog, None)
        else:
            shopper = shoppers[int(rng.choice(n_users, p=activity))]
        category = shopper.interests[int(rng.choice(len(shopper.interests), p=shopper.interest_weights))]
        recency = max(0.0, (start - rising_start) / timedelta(days=RISING_WINDOW_DAYS))
        session = _Session(rng, catalog, shopper, f"s-{number:06d}", start, 1.0 + (RISING_MAX_BOOST - 1.0) * recency)
        session.run(category)

        # Sessions that would run past ``now`` are moved back so that they end a little before it.
        overflow = session.events[-1][0] - latest
        shift = overflow + timedelta(seconds=int(rng.integers(600))) if overflow > timedelta(0) else timedelta(0)
        for timestamp, index, kind, quantity in session.events:
            sku = catalog.skus[index]
            events.append(DemoEvent(shopper.user, session.session_id, sku, kind, timestamp - shift, quantity))
        shopper.consumables_bought.extend(i for i in session.purchased if catalog.consumable[i])

    events.sort(key=lambda e: (e.timestamp, e.session_id))
    return events


# ----------------------------------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class ComplementStats:
    """How purchases of one category co-occur with purchases of its complement categories, per session."""

    sessions: int  # sessions with a purchase in the category
    followed: int  # ... of which buy a complement after the (first) purchase in the category
    co_purchased: int  # ... of which buy a complement at any point in the session
    baseline_sessions: int  # sessions with purchases, none in the category
    baseline_hits: int  # ... of which buy something in one of the complement categories

    @property
    def lift(self) -> float:
        """Complement purchase rate with the category vs without it (inf if the baseline rate is 0)."""
        if not self.sessions or not self.baseline_sessions:
            return 0.0
        base = self.baseline_hits / self.baseline_sessions
        return math.inf if base == 0 else (self.co_purchased / self.sessions) / base


def complement_stats(
    events: Sequence[DemoEvent],
    products: Sequence[dict[str, Any]],
    complements: dict[str, list[str]],
    category: str,
) -> ComplementStats:
    """Measure in-session co-purchase of ``category`` with its complement categories."""
    category_of = {str(p["item_id"]): str(p["category"]) for p in products}
    targets = set(complements.get(category, []))
    by_session: dict[str, list[DemoEvent]] = defaultdict(list)
    for event in events:
        if event.type == PURCHASE:
            by_session[event.session_id].append(event)
    sessions = followed = co_purchased = baseline_sessions = baseline_hits = 0
    for purchases in by_session.values():
        purchases.sort(key=lambda e: e.timestamp)
        bought_complement = [e.timestamp for e in purchases if category_of.get(e.sku) in targets]
        first = next((e.timestamp for e in purchases if category_of.get(e.sku) == category), None)
        if first is None:
            baseline_sessions += 1
            baseline_hits += bool(bought_complement)
            continue
        sessions += 1
        co_purchased += bool(bought_complement)
        followed += any(t > first for t in bought_complement)
    return ComplementStats(sessions, followed, co_purchased, baseline_sessions, baseline_hits)


def summarize(events: Sequence[DemoEvent], products: Sequence[dict[str, Any]]) -> str:
    """Human-readable summary statistics of a generated event list."""
    category_of = {str(p["item_id"]): str(p["category"]) for p in products}
    sessions = {e.session_id for e in events}
    anonymous = {e.session_id for e in events if e.user is None}
    users = {e.user for e in events if e.user is not None}
    lines = [
        f"events: {len(events)} in {len(sessions)} sessions "
        f"({len(anonymous) / max(len(sessions), 1):.0%} anonymous) from {len(users)} logged-in users",
    ]
    if events:
        lines.append(f"time range: {events[0].timestamp.isoformat()} .. {events[-1].timestamp.isoformat()}")
    by_type = Counter(e.type for e in events)
    lines.append("events by type: " + ", ".join(f"{t}={by_type.get(t, 0)}" for t in EVENT_TYPES))

    lines.append("top categories (views / purchases):")
    views = Counter(category_of[e.sku] for e in events if e.type == VIEW)
    buys = Counter(category_of[e.sku] for e in events if e.type == PURCHASE)
    for category, count in views.most_common(8):
        lines.append(f"  {count:5d} / {buys.get(category, 0):4d}  {category}")

    purchases = Counter(e.sku for e in events if e.type == PURCHASE)
    titles = {str(p["item_id"]): str(p["title"]) for p in products}
    lines.append("bestsellers (purchase events):")
    for sku, count in purchases.most_common(5):
        lines.append(f"  {count:3d}  {sku}  {titles[sku]}")

    complements = load_complements()
    monitors = next((c for c in complements if c.endswith("> Monitors")), None)
    if monitors is not None:
        stats = complement_stats(events, products, complements, monitors)
        total = max(stats.sessions, 1)
        lines.append(
            f"sessions with a Monitors purchase: {stats.sessions}; followed in-session by a complement purchase: "
            f"{stats.followed} ({stats.followed / total:.0%}); complement bought anywhere in the session: "
            f"{stats.co_purchased} ({stats.co_purchased / total:.0%})"
        )
        lines.append(
            f"  baseline: {stats.baseline_hits}/{stats.baseline_sessions} other purchasing sessions buy from those "
            f"categories ({stats.baseline_hits / max(stats.baseline_sessions, 1):.0%}); lift {stats.lift:.1f}x"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    demo_products = load_products()
    print(summarize(generate_sessions(products=demo_products), demo_products))
