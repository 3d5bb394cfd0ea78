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

Same arguments (including ``seed`` and ``now``) always produce identical output. Summary statistics of the default demo
data set::

    python -m dragonrec.catalog.demo.summary

The behaviour's tables are data (``behaviour.json``); the catalog's view and the shoppers are in ``shoppers``, one
session's steps in ``session``, summary statistics in ``summary``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from dragonrec.catalog.demo.data import (
    ADD_TO_CART,
    COMPLEMENTS_PATH,
    EVENT_TYPES,
    PRODUCTS_PATH,
    PURCHASE,
    REMOVE_FROM_CART,
    VIEW,
    DemoEvent,
    load_behaviour,
    load_complements,
    load_products,
)
from dragonrec.catalog.demo.session import ShoppingSession
from dragonrec.catalog.demo.shoppers import DemoCatalog, make_shopper

# The loaders and the event record live in `data`; importers of this module (the demo loader, benches) keep their
# names here.
__all__ = [
    "ADD_TO_CART",
    "COMPLEMENTS_PATH",
    "EVENT_TYPES",
    "PRODUCTS_PATH",
    "PURCHASE",
    "REMOVE_FROM_CART",
    "VIEW",
    "DemoEvent",
    "generate_sessions",
    "load_complements",
    "load_products",
]

ANONYMOUS_SHARE = 0.25
RISING_WINDOW_DAYS = 7
RISING_MAX_BOOST = 6.0
SAFETY_MARGIN_S = 30  # last event of a session is at least this far before ``now``


def _session_starts(rng: np.random.Generator, n_sessions: int, days: int, now: datetime) -> list[datetime]:
    """Session start times over the last ``days`` days: traffic grows towards ``now``, evenings are busiest."""
    window_start = now - timedelta(days=days)
    ramp = np.linspace(1.0, 2.0, days) if days > 1 else np.ones(1)
    weekend = np.array([1.15 if (window_start + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)])
    day_weights = ramp * weekend
    hours = load_behaviour().hour_weights
    hour_weights = np.array(hours) / sum(hours)
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
    catalog = DemoCatalog(products, load_complements() if complements is None else complements, seed)
    rng = np.random.default_rng(seed)

    width = max(3, len(str(n_users)))
    shoppers = [make_shopper(rng, catalog, f"demo-user-{i:0{width}d}") for i in range(1, n_users + 1)]
    activity = np.array([s.activity for s in shoppers])
    activity /= activity.sum()

    rising_start = now - timedelta(days=RISING_WINDOW_DAYS)
    latest = now - timedelta(seconds=SAFETY_MARGIN_S)
    events: list[DemoEvent] = []
    for number, start in enumerate(_session_starts(rng, n_sessions, days, now), start=1):
        if rng.random() < ANONYMOUS_SHARE:
            shopper = make_shopper(rng, catalog, None)
        else:
            shopper = shoppers[int(rng.choice(n_users, p=activity))]
        category = shopper.interests[int(rng.choice(len(shopper.interests), p=shopper.interest_weights))]
        recency = max(0.0, (start - rising_start) / timedelta(days=RISING_WINDOW_DAYS))
        boost = 1.0 + (RISING_MAX_BOOST - 1.0) * recency
        session = ShoppingSession(rng, catalog, shopper, f"s-{number:06d}", start, boost)
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
