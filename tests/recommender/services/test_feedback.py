"""Clicks and rewards credited to served lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dragonrec.recommender.models import ImpressionItem
from dragonrec.recommender.services.feedback import clicks_attribute_recent
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.tracking.factories import EventFactory

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
    item = ImpressionItem.objects.get(impression_id=served.request_id, position=2)
    assert item.clicked_at is not None and item.product_id == clicked.product_id
    assert clicks_attribute_recent() == 0
