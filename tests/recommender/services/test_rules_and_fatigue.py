"""Merchant rules and impression fatigue, applied by the re-rank stage to served lists."""

from __future__ import annotations

import uuid

import pytest

from dragonrec.recommender.models import MerchantRule
from dragonrec.recommender.services.aggregates import trending_recompute
from dragonrec.recommender.services.impressions import fatigued_ids
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def deterministic_lists(settings):  # type: ignore[no-untyped-def]
    """Rules and fatigue are about which items may show; exploration (tested on its own) would reshuffle the
    tail of each list and make "the same list five times" a different list each time."""
    settings.RECOMMENDER = {**settings.RECOMMENDER, "EXPLORATION": {}}


@pytest.fixture
def shop(tiny_shop):  # type: ignore[no-untyped-def]
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()  # fatigue state of earlier tests' shoppers
    for key in ["coffee", "kettle", "monitor", "shoe_road", "mouse", "pan", "keyboard", "bottle"]:
        EventFactory(session_id=f"s-{key}", product=tiny_shop[key], type="purchase")
    trending_recompute()
    EventFactory(session_id="s-me", product=tiny_shop["shoe_trail"], type="view")
    return tiny_shop


def ids(served) -> list[int]:  # type: ignore[no-untyped-def]
    return [item.product_id for item in served.items]


def test_block_pin_and_boost(shop) -> None:  # type: ignore[no-untyped-def]
    before = ids(recommendation_list(scenario="home", session_id="s-me", n=6, record=False))
    blocked, pinned = before[0], shop["pan"].id
    MerchantRule.objects.create(name="no", kind="block", product_id=blocked)
    MerchantRule.objects.create(name="pan first", kind="pin", product_id=pinned, position=1)
    after = ids(recommendation_list(scenario="home", session_id="s-me", n=6, record=False))
    assert blocked not in after and after[0] == pinned
    # a rule for another scenario does not apply here
    MerchantRule.objects.create(name="cart only", kind="block", product_id=after[1], scenario="cart")
    assert after[1] in ids(recommendation_list(scenario="home", session_id="s-me", n=6, record=False))


def test_category_restriction_and_price_band(shop) -> None:  # type: ignore[no-untyped-def]
    MerchantRule.objects.create(name="sports only", kind="restrict", category_path="Sports")
    served = recommendation_list(scenario="home", session_id="s-me", n=10, record=False)
    from dragonrec.catalog.models import Product

    paths = set(Product.objects.filter(id__in=ids(served)).values_list("category__path", flat=True))
    assert paths and all(p.startswith("Sports > ") for p in paths)


def serve_times(times: int, *, n: int = 4) -> list[int]:
    """Serve (and record) the same shopper's home list `times` times; the last list's ids."""
    served: list[int] = []
    for _ in range(times):
        served = ids(recommendation_list(scenario="home", session_id="s-me", n=n))
    return served


def test_items_shown_often_without_a_click_are_rested(shop) -> None:  # type: ignore[no-untyped-def]
    shown = serve_times(5)  # FATIGUE_IMPRESSIONS lists in a row, nothing clicked
    assert fatigued_ids(user_key="s:s-me") == frozenset(shown)
    assert not set(shown) & set(serve_times(1))


def test_a_clicked_item_is_not_rested(shop, api_client, django_capture_on_commit_callbacks, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    shown = serve_times(5)
    assert shown[0] in fatigued_ids(user_key="s:s-me")
    click = {
        "id": str(uuid.uuid4()),
        "type": "click",
        "product_id": shown[0],
        "context": {"request_id": str(uuid.uuid4()), "position": 1},
    }
    with django_capture_on_commit_callbacks(execute=True):
        shopper_cookie(api_client, "s-me").post("/api/events/", {"events": [click]}, format="json")
    assert fatigued_ids(user_key="s:s-me") == frozenset(shown[1:])


def test_fatigue_counts_only_the_shoppers_recent_lists(shop) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings
    from django.test import override_settings

    with override_settings(RECOMMENDER={**settings.RECOMMENDER, "FATIGUE_LOOKBACK": 5}):
        tired = serve_times(5)
        assert fatigued_ids(user_key="s:s-me") == frozenset(tired)
        # one more list (of other products) pushes the oldest of those five out of the last FATIGUE_LOOKBACK
        assert not set(tired) & set(serve_times(1))
        assert fatigued_ids(user_key="s:s-me") == frozenset()


def test_bought_durables_are_not_recommended_again_but_consumables_are(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    coffee = tiny_shop["coffee"]
    coffee.attributes = {"consumable": True}
    coffee.save()
    EventFactory(session_id="s-b", product=tiny_shop["kettle"], type="purchase")
    EventFactory(session_id="s-b", product=coffee, type="purchase")
    EventFactory(session_id="s-b2", product=tiny_shop["kettle"], type="purchase")
    EventFactory(session_id="s-b2", product=coffee, type="purchase")
    trending_recompute()
    served = ids(recommendation_list(scenario="home", session_id="new", n=12, record=False))
    assert tiny_shop["kettle"].id in served and coffee.id in served  # trending for a new visitor
    from dragonrec.recommender.core.rerank import RerankRules, is_allowed
    from dragonrec.recommender.stores import serving_stores

    products, _ = serving_stores()
    rules = RerankRules(bought=frozenset({tiny_shop["kettle"].id, coffee.id}))
    got = products.get_many([tiny_shop["kettle"].id, coffee.id])
    assert not is_allowed(got[tiny_shop["kettle"].id], rules) and is_allowed(got[coffee.id], rules)


def test_fatigue_never_empties_the_page(shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.catalog.models import Product

    serve_times(5, n=Product.objects.count())  # every product shown 5 times without a click
    assert len(fatigued_ids(user_key="s:s-me")) >= 4
    assert len(recommendation_list(scenario="home", session_id="s-me", n=4, record=False).items) == 4
