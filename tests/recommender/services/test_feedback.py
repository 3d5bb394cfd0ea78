"""Clicks and rewards credited to served lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.selectors import served_items
from dragonrec.recommender.services.feedback import clicks_attribute_recent
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.tracking.factories import EventFactory
from tests.served_lists import served_item, served_outcomes

pytestmark = pytest.mark.django_db


def test_the_sweep_credits_a_click_that_neither_the_receiver_nor_the_flush_saw(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-sw", product=tiny_shop["monitor"], type="view")
    served = recommendation_list(scenario="home", session_id="s-sw", n=3)
    impressions_flush()
    # given: a click stored without its receiver running, stamped 20 minutes back by a storefront's clock
    clicked = served.items[1]
    EventFactory(
        session_id="s-sw",
        product_id=clicked.product_id,
        type="click",
        timestamp=timezone.now() - timedelta(minutes=20),
        context={"request_id": str(served.request_id), "position": 2},
    )
    # when
    assert clicks_attribute_recent() == 1
    # then: credited once; a second sweep changes nothing
    item = served_item(served.request_id, 2)
    assert item.clicked_at is not None and item.product_id == clicked.product_id
    assert clicks_attribute_recent() == 0


def test_carts_and_purchases_are_credited_to_the_clicked_item_of_the_same_shopper(
    tiny_shop, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.feedback import rewards_attribute

    EventFactory(session_id="s-buy", product=tiny_shop["monitor"], type="view")
    served = recommendation_list(scenario="home", session_id="s-buy", n=3)
    impressions_flush()
    clicked_at = timezone.now() - timedelta(hours=2)
    served_outcomes(served.request_id, 1, clicked_at=clicked_at)
    product = served.items[0].product_id
    other = served.items[1].product_id
    # given: the shopper carts and buys the clicked product; someone else buys it too; a cart of another item
    EventFactory(
        session_id="s-buy", product_id=product, type="add_to_cart", timestamp=clicked_at + timedelta(minutes=5)
    )
    EventFactory(session_id="s-buy", product_id=product, type="purchase", timestamp=clicked_at + timedelta(minutes=9))
    EventFactory(session_id="s-buy", product_id=product, type="purchase", timestamp=clicked_at + timedelta(minutes=30))
    EventFactory(session_id="s-else", product_id=product, type="purchase", timestamp=clicked_at - timedelta(minutes=1))
    EventFactory(session_id="s-buy", product_id=other, type="add_to_cart", timestamp=clicked_at + timedelta(minutes=1))
    # when: two statements, whatever the number of clicked items
    with django_assert_num_queries(2):
        assert rewards_attribute() == 2
    # then: the first cart and the first purchase after the click, on the clicked item only
    item = served_item(served.request_id, 1)
    assert item.carted_at == clicked_at + timedelta(minutes=5)
    assert item.purchased_at == clicked_at + timedelta(minutes=9)
    assert served_item(served.request_id, 2).carted_at is None
    assert rewards_attribute() == 0  # idempotent


def test_a_batch_of_clicks_is_attributed_with_one_statement_to_its_own_shoppers_lists(
    tiny_shop, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.feedback import clicks_attribute
    from dragonrec.tracking.models import Event

    EventFactory(session_id="s-cl", product=tiny_shop["monitor"], type="view")
    served = recommendation_list(scenario="home", session_id="s-cl", n=4)
    impressions_flush()
    now = timezone.now()

    def click(position: int, *, session: str = "s-cl", minutes: int = 0, product: int | None = None) -> Event:
        item = served.items[position - 1]
        context = {"request_id": str(served.request_id), "position": position}
        return Event(
            type="click", session_id=session, product_id=product or item.product_id, context=context,
            timestamp=now - timedelta(minutes=minutes),
        )  # fmt: skip

    # given: clicks on positions 1 and 3 (position 1 twice), one by another shopper on 2, one naming the wrong
    # product at 4, and one with a position that cannot exist
    events = [
        click(1, minutes=5),
        click(1, minutes=9),
        click(3),
        click(2, session="s-stranger"),
        click(4, product=served.items[0].product_id),
        Event(type="click", session_id="s-cl", product_id=1, timestamp=now,
              context={"request_id": str(served.request_id), "position": 10**12}),
    ]  # fmt: skip
    # when: one UPDATE for the batch (it was one per click, inside the ingest request)
    with django_assert_num_queries(1):
        credited = clicks_attribute(events=events)
    # then
    clicked = {
        i.position: i.clicked_at
        for i in served_items([ServedList.objects.get(request_id=served.request_id)])[served.request_id]
    }
    assert credited == 2
    assert clicked[1] == now - timedelta(minutes=9) and clicked[3] == now  # the first click's time
    assert clicked[2] is None and clicked[4] is None
