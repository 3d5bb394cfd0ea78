"""Summary statistics of generated demo sessions (how often a category's purchase comes with its complements).
Run it to print those of the default demo data set::

    python -m dragonrec.catalog.demo.summary
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dragonrec.catalog.demo.data import EVENT_TYPES, PURCHASE, VIEW, DemoEvent, load_complements, load_products
from dragonrec.catalog.demo.sessions import generate_sessions


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
