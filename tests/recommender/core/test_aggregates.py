from __future__ import annotations

import math

import pytest

from dragonrec.recommender.core.aggregates import (
    DEFAULT_EVENT_WEIGHTS,
    AggregateConfig,
    category_complements,
    item_complements,
    trending_scores,
)
from dragonrec.recommender.core.types import ADD_TO_CART, PURCHASE, VIEW, HistoryEvent
from tests.recommender.core.synthetic_shop import make_products, make_sessions


def test_trending_halves_per_half_life_and_weighs_intent() -> None:
    now, day = 1_000_000.0, 86_400.0
    events = [
        (1, VIEW, now),
        (2, ADD_TO_CART, now),
        (3, PURCHASE, now),
        (4, PURCHASE, now - day),  # one half-life old
        (5, "search", now),  # no product intent: ignored
    ]

    scores = trending_scores(events, now=now, half_life_s=day, weights=DEFAULT_EVENT_WEIGHTS)

    assert scores[1] < scores[2] < scores[3]
    assert scores[4] == pytest.approx(scores[3] / 2)
    assert 5 not in scores


def test_trending_with_infinite_half_life_is_a_weighted_count() -> None:
    scores = trending_scores([(1, VIEW, 0.0), (1, VIEW, -1e9)], now=0.0, half_life_s=math.inf, weights={VIEW: 1.0})

    assert scores == {1: 2.0}


def test_complements_beat_a_popular_but_unrelated_item() -> None:
    # given: phones are bought with cases and chargers; the bestseller novel is bought with everything, and is
    # the single most popular product
    products = make_products()
    by_id = {p.id: p for p in products}
    sessions = make_sessions(products)
    phone = next(p for p in products if p.category == "Electronics > Phones")
    novel = next(p for p in products if p.category == "Books > Fiction")

    # when
    comps = item_complements(sessions, products=by_id, config=AggregateConfig(window=5, min_count=2, top_k=10))

    # then: the phone's complements are cases/chargers, ranked above the novel (if it appears at all)
    ranked = [pid for pid, _ in comps[phone.id]]
    categories = [by_id[pid].category for pid in ranked]
    assert categories[0] in {"Electronics > Phone Cases", "Electronics > Chargers"}
    assert all(c in {"Electronics > Phone Cases", "Electronics > Chargers"} for c in categories[:4])
    assert novel.id not in ranked[:4]
    # and substitutes are never complements
    assert "Electronics > Phones" not in categories


def test_complements_respect_min_count_and_window() -> None:
    products = {p.id: p for p in make_products()}
    one_session = [[HistoryEvent(0, PURCHASE, 0.0), HistoryEvent(4, PURCHASE, 1.0)]]
    far_apart = [[HistoryEvent(0, PURCHASE, 0.0)] + [HistoryEvent(20, VIEW, t) for t in range(1, 5)]] * 3
    far_apart = [[*s, HistoryEvent(7, PURCHASE, 9.0)] for s in far_apart]

    assert (
        item_complements(one_session, products=products, config=AggregateConfig(window=5, min_count=2, top_k=5)) == {}
    )
    comps = item_complements(far_apart, products=products, config=AggregateConfig(window=2, min_count=2, top_k=5))
    assert 7 not in [pid for pid, _ in comps.get(0, [])]


def test_complements_pair_only_products_within_the_window() -> None:
    # given: a phone bought, three novels browsed, then a case bought (the case 4 steps after the phone), in three
    # sessions; three other sessions pair shoes with socks, so that the phone and the case are not everywhere
    products = {p.id: p for p in make_products()}
    phone, case, novel, shoes, socks = 0, 4, 22, 10, 13
    far = [HistoryEvent(phone, PURCHASE, 0.0), *(HistoryEvent(novel, VIEW, t) for t in (1.0, 2.0, 3.0))]
    sessions = [[*far, HistoryEvent(case, PURCHASE, 4.0)]] * 3
    sessions += [[HistoryEvent(shoes, PURCHASE, 0.0), HistoryEvent(socks, PURCHASE, 1.0)]] * 3

    # when
    wide = item_complements(sessions, products=products, config=AggregateConfig(window=5, min_count=2))
    narrow = item_complements(sessions, products=products, config=AggregateConfig(window=2, min_count=2))

    # then: the case goes with the phone only when the window reaches it
    assert case in [pid for pid, _ in wide[phone]]
    assert case not in [pid for pid, _ in narrow.get(phone, [])]


def test_category_complements_pair_phones_with_cases() -> None:
    products = make_products()
    sessions = make_sessions(products)

    config = AggregateConfig(window=5, min_count=2, category_top_k=3)
    cats = category_complements(sessions, products={p.id: p for p in products}, config=config)

    top = [c for c, _ in cats["Electronics > Phones"]]
    assert set(top[:2]) == {"Electronics > Phone Cases", "Electronics > Chargers"}
    assert "Books > Fiction" not in top[:2]
