"""Checks on the demo data (products.jsonl, complements.json, behaviour.json) and the demo session generator.

Plain pytest, no database: runs with or without pytest-django.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from dragonrec.catalog.demo.data import INJECTION_SKU, load_behaviour
from dragonrec.catalog.demo.sessions import (
    ADD_TO_CART,
    EVENT_TYPES,
    PURCHASE,
    REMOVE_FROM_CART,
    VIEW,
    DemoEvent,
    generate_sessions,
    load_complements,
    load_products,
)
from dragonrec.catalog.demo.summary import complement_stats

NOW = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
DAYS = 30
MONITORS = "Electronics > Displays > Monitors"
REQUIRED_KEYS = {
    "item_id",
    "title",
    "brand",
    "category",
    "description",
    "price",
    "currency",
    "stock",
    "image_url",
    "attributes",
}


@pytest.fixture(scope="module")
def products() -> list[dict]:
    return load_products()


@pytest.fixture(scope="module")
def complements() -> dict[str, list[str]]:
    return load_complements()


@pytest.fixture(scope="module")
def events(products: list[dict]) -> list[DemoEvent]:
    return generate_sessions(products=products, seed=7, now=NOW, days=DAYS)


@pytest.fixture(scope="module")
def by_session(events: list[DemoEvent]) -> dict[str, list[DemoEvent]]:
    sessions: dict[str, list[DemoEvent]] = defaultdict(list)
    for event in events:
        sessions[event.session_id].append(event)
    return sessions


def _category_of(products: list[dict]) -> dict[str, str]:
    return {p["item_id"]: p["category"] for p in products}


# ------------------------------------------------------------------------------------------------------ catalog


def test_catalog_size_and_required_keys(products: list[dict]) -> None:
    assert len(products) == 300
    for product in products:
        assert set(product) == REQUIRED_KEYS, product["item_id"]
        assert re.fullmatch(r"[A-Z]{2}-[A-Z]{3}-\d{4}", product["item_id"])
        for key in ("title", "brand", "category", "description"):
            assert isinstance(product[key], str) and product[key].strip(), (product["item_id"], key)
        assert isinstance(product["attributes"], dict) and product["attributes"]
        assert isinstance(product["stock"], int) and product["stock"] >= 0
        assert product["currency"] == "USD"
        assert product["image_url"] == f"https://img.dragonrec.example/{product['item_id']}.jpg"
        assert len(product["category"].split(" > ")) >= 2


def test_skus_and_titles_unique(products: list[dict]) -> None:
    skus = [p["item_id"] for p in products]
    titles = [p["title"] for p in products]
    assert len(set(skus)) == len(skus)
    assert len(set(titles)) == len(titles)


def test_prices_positive(products: list[dict]) -> None:
    for product in products:
        price = product["price"]
        assert isinstance(price, int | float) and not isinstance(price, bool)
        assert 0 < price < 5000, product["item_id"]
        assert round(price, 2) == price


def test_department_mix_and_stock(products: list[dict]) -> None:
    departments = Counter(p["category"].split(" > ")[0] for p in products)
    assert set(departments) == {"Electronics", "Home & Kitchen", "Sports & Outdoors", "Office"}
    assert departments["Electronics"] > departments["Sports & Outdoors"] > departments["Office"]
    out_of_stock = [p for p in products if p["stock"] == 0]
    assert 0.05 <= len(out_of_stock) / len(products) <= 0.12
    in_stock_by_category = Counter(p["category"] for p in products if p["stock"] > 0)
    assert set(in_stock_by_category) == {p["category"] for p in products}, "every category stays shoppable"


def test_consumables_are_flagged(products: list[dict]) -> None:
    for product in products:
        leaf = product["category"].split(" > ")[-1]
        if leaf in {"Coffee Beans", "Notebooks & Paper"}:
            assert product["attributes"].get("consumable") is True, product["item_id"]
        if leaf in {"Monitors", "Laptops", "Desks"}:
            assert "consumable" not in product["attributes"], product["item_id"]


def test_prompt_injection_product_is_present(products: list[dict]) -> None:
    hits = [p for p in products if "ignore previous instructions" in p["description"].lower()]
    assert [p["item_id"] for p in hits] == [INJECTION_SKU]
    assert hits[0]["category"].endswith("Cables & Adapters")
    assert hits[0]["stock"] > 0


def test_catalog_is_in_sku_order_numbered_per_category(products: list[dict]) -> None:
    """products.jsonl is the source now (no builder to regenerate it): an edit keeps the numbering the builder had,
    one SKU prefix per leaf category, numbered from 0001 without gaps, in file order."""
    numbers: dict[str, list[int]] = defaultdict(list)
    prefix_category: dict[str, set[str]] = defaultdict(set)
    for product in products:
        prefix, number = product["item_id"].rsplit("-", 1)
        numbers[prefix].append(int(number))
        prefix_category[prefix].add(product["category"])
    assert all(n == list(range(1, len(n) + 1)) for n in numbers.values())
    assert all(len(c) == 1 for c in prefix_category.values())
    assert len({next(iter(c)) for c in prefix_category.values()}) == len(prefix_category)


def test_sold_out_products_at_most_two_per_category(products: list[dict]) -> None:
    sold_out = Counter(p["category"] for p in products if p["stock"] == 0)
    assert sum(sold_out.values()) == 24
    assert max(sold_out.values()) <= 2


def test_behaviour_tables_name_real_leaf_categories(products: list[dict]) -> None:
    behaviour = load_behaviour()
    leaves = {p["category"].split(" > ")[-1] for p in products}
    assert set(behaviour.category_traffic) <= leaves
    assert all(w > 0 for w in behaviour.category_traffic.values())
    assert len(behaviour.hour_weights) == 24 and max(behaviour.hour_weights) == behaviour.hour_weights[20]


def test_complement_categories_exist_in_catalog(products: list[dict], complements: dict[str, list[str]]) -> None:
    categories = {p["category"] for p in products}
    assert set(complements) == categories, "every leaf category has an entry"
    for category, targets in complements.items():
        assert category not in targets
        assert len(set(targets)) == len(targets)
        missing = set(targets) - categories
        assert not missing, (category, missing)
    monitor_complements = {c.split(" > ")[-1] for c in complements[MONITORS]}
    assert {"Keyboards", "Mice", "Cables & Adapters", "Monitor Arms & Stands"} <= monitor_complements


# ------------------------------------------------------------------------------------------------------ sessions


def test_generator_is_deterministic(products: list[dict], events: list[DemoEvent]) -> None:
    again = generate_sessions(products=products, seed=7, now=NOW, days=DAYS)
    assert again == events
    other = generate_sessions(products=products, seed=8, now=NOW, days=DAYS)
    assert other != events


def test_event_volume_and_shape(products: list[dict], events: list[DemoEvent]) -> None:
    skus = {p["item_id"] for p in products}
    assert 5000 <= len(events) <= 8000
    assert len({e.session_id for e in events}) == 600
    assert set(Counter(e.type for e in events)) == set(EVENT_TYPES)
    for event in events:
        assert event.sku in skus
        assert re.fullmatch(r"s-\d{6}", event.session_id)
        assert event.user is None or re.fullmatch(r"demo-user-\d{3}", event.user)
        assert event.quantity >= 1
        assert event.type != VIEW or event.quantity == 1


def test_sessions_are_single_user_and_partly_anonymous(by_session: dict[str, list[DemoEvent]]) -> None:
    for session in by_session.values():
        assert len({e.user for e in session}) == 1
    anonymous = sum(session[0].user is None for session in by_session.values())
    assert 0.18 <= anonymous / len(by_session) <= 0.32


def test_timestamps_increase_within_sessions_and_are_in_the_past(
    events: list[DemoEvent], by_session: dict[str, list[DemoEvent]]
) -> None:
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    for event in events:
        assert event.timestamp.tzinfo is not None and event.timestamp.utcoffset() == timedelta(0)
        assert NOW - timedelta(days=DAYS + 1) < event.timestamp < NOW
    for session in by_session.values():
        stamps = [e.timestamp for e in session]
        assert all(a < b for a, b in pairwise(stamps))
        assert stamps[-1] - stamps[0] < timedelta(hours=3)


def test_default_now_is_current_time(products: list[dict]) -> None:
    before = datetime.now(UTC)
    sample = generate_sessions(products=products, n_users=10, n_sessions=40, days=2, seed=3)
    assert sample and all(e.timestamp < before + timedelta(seconds=1) for e in sample)
    assert all(e.timestamp > before - timedelta(days=3) for e in sample)


def test_carts_are_consistent(by_session: dict[str, list[DemoEvent]]) -> None:
    """Removes and purchases only touch cart lines; nothing is bought without being added first."""
    for session in by_session.values():
        cart: dict[str, int] = {}
        for event in session:
            if event.type == ADD_TO_CART:
                assert event.sku not in cart, "an item is added at most once per cart"
                cart[event.sku] = event.quantity
            elif event.type in (REMOVE_FROM_CART, PURCHASE):
                assert cart.pop(event.sku) == event.quantity


def test_out_of_stock_products_are_viewed_but_never_bought(products: list[dict], events: list[DemoEvent]) -> None:
    sold_out = {p["item_id"] for p in products if p["stock"] == 0}
    assert any(e.sku in sold_out for e in events if e.type == VIEW)
    assert not [e for e in events if e.sku in sold_out and e.type in (ADD_TO_CART, PURCHASE)]


def test_sessions_compare_within_the_anchor_category(
    products: list[dict], by_session: dict[str, list[DemoEvent]]
) -> None:
    category_of = _category_of(products)
    browsing = [s for s in by_session.values() if sum(e.type == VIEW for e in s) >= 3]
    same_leaf = sum(category_of[s[0].sku] == category_of[s[1].sku] for s in browsing)
    assert same_leaf / len(browsing) > 0.8


def test_monitor_purchases_come_with_complement_purchases(
    products: list[dict], complements: dict[str, list[str]], by_session: dict[str, list[DemoEvent]]
) -> None:
    category_of = _category_of(products)
    targets = set(complements[MONITORS])
    with_monitor = with_monitor_and_complement = baseline = baseline_hits = 0
    for session in by_session.values():
        bought = {category_of[e.sku] for e in session if e.type == PURCHASE}
        if not bought:
            continue
        if MONITORS in bought:
            with_monitor += 1
            with_monitor_and_complement += bool(bought & targets)
        else:
            baseline += 1
            baseline_hits += bool(bought & targets)
    assert with_monitor >= 10
    rate = with_monitor_and_complement / with_monitor
    assert rate >= 0.5
    assert rate >= 1.5 * baseline_hits / baseline

    stats = complement_stats([e for s in by_session.values() for e in s], products, complements, MONITORS)
    assert (stats.sessions, stats.co_purchased, stats.baseline_sessions, stats.baseline_hits) == (
        with_monitor,
        with_monitor_and_complement,
        baseline,
        baseline_hits,
    )
    assert 0 < stats.followed <= stats.co_purchased
    assert stats.lift >= 1.5


def test_popularity_is_skewed_within_categories(products: list[dict], events: list[DemoEvent]) -> None:
    category_of = _category_of(products)
    views = Counter(e.sku for e in events if e.type == VIEW)
    skewed = 0
    large = [c for c, n in Counter(category_of.values()).items() if n >= 12]
    for category in large:
        counts = sorted((views[sku] for sku, cat in category_of.items() if cat == category), reverse=True)
        top = counts[: max(1, len(counts) // 5)]
        skewed += sum(top) >= 0.4 * sum(counts)
    assert skewed >= 0.75 * len(large)


def test_recent_days_have_more_traffic(events: list[DemoEvent]) -> None:
    recent = sum(e.timestamp >= NOW - timedelta(days=10) for e in events)
    oldest = sum(e.timestamp < NOW - timedelta(days=DAYS - 10) for e in events)
    assert recent > 1.2 * oldest


def test_consumables_get_rebought(products: list[dict], events: list[DemoEvent]) -> None:
    consumable = {p["item_id"] for p in products if p["attributes"].get("consumable")}
    sessions_per_purchase: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        if event.type == PURCHASE and event.user is not None and event.sku in consumable:
            sessions_per_purchase[(event.user, event.sku)].add(event.session_id)
    assert any(len(s) >= 2 for s in sessions_per_purchase.values())


def test_generator_handles_small_inputs(products: list[dict]) -> None:
    assert generate_sessions(products=products, n_sessions=0, now=NOW) == []
    tiny = [p for p in products if p["category"] == MONITORS][:3]
    sample = generate_sessions(products=tiny, n_users=2, n_sessions=5, days=1, now=NOW, complements={})
    assert sample and {e.sku for e in sample} <= {p["item_id"] for p in tiny}
    with pytest.raises(ValueError):
        generate_sessions(products=[], now=NOW)
