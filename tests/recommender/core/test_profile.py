from __future__ import annotations

import numpy as np

from dragonrec.recommender.core.profile import ProfileConfig, event_weights, preference_text, profile_vector
from dragonrec.recommender.core.types import PURCHASE, REMOVE_FROM_CART, VIEW, HistoryEvent, Preferences
from tests.recommender.core.synthetic_shop import make_shop


def _closest_category(shop, vector: np.ndarray) -> str:  # type: ignore[no-untyped-def]
    (best, _), *_ = shop.index.search(vector, k=1, only_available=False)
    return shop.category_of(best)


def test_nothing_known_gives_no_profile() -> None:
    shop = make_shop()

    assert profile_vector([], index=shop.index) is None
    assert profile_vector([], index=shop.index, embedder=shop.embedder, preferences=Preferences()) is None


def test_a_purchase_outweighs_an_older_view_and_removals_count_nothing() -> None:
    shop = make_shop()
    phone, kettle = shop.in_category("Electronics > Phones")[0], shop.in_category("Home > Kitchen > Kettles")[0]
    history = [HistoryEvent(phone, PURCHASE, 0.0), HistoryEvent(kettle, VIEW, 1.0), HistoryEvent(kettle, VIEW, 2.0)]

    assert _closest_category(shop, profile_vector(history, index=shop.index)) == "Electronics > Phones"
    weights = event_weights([HistoryEvent(kettle, REMOVE_FROM_CART, 3.0)])
    assert weights.tolist() == [0.0]


def test_recency_decay_follows_the_latest_interest() -> None:
    shop = make_shop()
    phones, kettles = shop.in_category("Electronics > Phones"), shop.in_category("Home > Kitchen > Kettles")
    history = [HistoryEvent(p, PURCHASE, float(t)) for t, p in enumerate(phones[:2] + kettles[:2])]

    assert _closest_category(shop, profile_vector(history, index=shop.index)) == "Home > Kitchen > Kettles"
    # views advance the recency clock by 1/5 of a purchase: 5 views weigh like one purchase step
    weights = event_weights([HistoryEvent(1, PURCHASE, 0.0)] + [HistoryEvent(2, VIEW, 1.0)] * 5, ProfileConfig())
    assert np.isclose(weights[0], 5.0 * 0.5)


def test_preferences_steer_a_thin_history_but_not_a_long_one() -> None:
    shop = make_shop()
    prefs = Preferences(categories=("Sports > Running > Shoes",))
    kettles = shop.in_category("Home > Kitchen > Kettles")

    only_prefs = profile_vector([], index=shop.index, embedder=shop.embedder, preferences=prefs)
    long_history = [HistoryEvent(kettles[i % 3], PURCHASE, float(i)) for i in range(5)]
    with_history = profile_vector(long_history, index=shop.index, embedder=shop.embedder, preferences=prefs)

    assert _closest_category(shop, only_prefs) == "Sports > Running > Shoes"
    assert _closest_category(shop, with_history) == "Home > Kitchen > Kettles"
    assert preference_text(Preferences(categories=("Electronics > Keyboards", "Mice"), brands=("Logitech",))) == (
        "Keyboards, Mice. Brands: Logitech"
    )
