"""Merchant rules and impression fatigue, applied by the re-rank stage to served lists."""

from __future__ import annotations

import pytest

from recommender.models import Impression, ImpressionItem, MerchantRule
from recommender.services.aggregates import trending_recompute
from recommender.services.recommendations import recommendation_list
from tracking.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tiny_shop):  # type: ignore[no-untyped-def]
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
    from catalog.models import Product

    paths = set(Product.objects.filter(id__in=ids(served)).values_list("category__path", flat=True))
    assert paths and all(p.startswith("Sports > ") for p in paths)


def test_items_shown_often_without_a_click_are_rested(shop) -> None:  # type: ignore[no-untyped-def]
    first = recommendation_list(scenario="home", session_id="s-me", n=4, record=False)
    tired = first.items[0].product_id
    for _ in range(5):  # shown 5 times (FATIGUE_IMPRESSIONS) in the last week, never clicked
        impression = Impression.objects.create(session_id="s-me", scenario="home", ranker="embedding")
        ImpressionItem.objects.create(impression=impression, product_id=tired, position=1, score=1.0)
    assert tired not in ids(recommendation_list(scenario="home", session_id="s-me", n=4, record=False))


def test_fatigue_counts_only_the_shoppers_recent_lists(shop) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.test import override_settings
    from django.utils import timezone

    from recommender.conf import recommender_settings
    from recommender.services.recommendations import fatigued_ids

    first = recommendation_list(scenario="home", session_id="s-me", n=4, record=False)
    tired = first.items[0].product_id
    long_ago = timezone.now() - timedelta(hours=1)
    for _ in range(5):  # shown 5 times, but before the shopper's last FATIGUE_LOOKBACK lists
        impression = Impression.objects.create(session_id="s-me", scenario="home", ranker="x", created_at=long_ago)
        ImpressionItem.objects.create(impression=impression, product_id=tired, position=1, score=1.0)
    assert tired in fatigued_ids(user_key="s:s-me")
    with override_settings(RECOMMENDER={"FATIGUE_LOOKBACK": 3}):
        for _ in range(3):  # three newer lists without it push those out of the window
            Impression.objects.create(session_id="s-me", scenario="home", ranker="x")
        assert recommender_settings.FATIGUE_LOOKBACK == 3
        assert tired not in fatigued_ids(user_key="s:s-me")


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
    from recommender.core.rerank import RerankRules, is_allowed
    from recommender.stores import serving_stores

    products, _ = serving_stores()
    rules = RerankRules(bought=frozenset({tiny_shop["kettle"].id, coffee.id}))
    got = products.get_many([tiny_shop["kettle"].id, coffee.id])
    assert not is_allowed(got[tiny_shop["kettle"].id], rules) and is_allowed(got[coffee.id], rules)


def test_fatigue_never_empties_the_page(shop) -> None:  # type: ignore[no-untyped-def]
    from catalog.models import Product

    for _ in range(5):  # every product shown 5 times without a click
        impression = Impression.objects.create(session_id="s-me", scenario="home", ranker="embedding")
        ImpressionItem.objects.bulk_create(
            ImpressionItem(impression=impression, product_id=pid, position=i + 1, score=1.0)
            for i, pid in enumerate(Product.objects.values_list("id", flat=True))
        )
    assert len(recommendation_list(scenario="home", session_id="s-me", n=4, record=False).items) == 4
