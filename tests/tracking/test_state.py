"""The shopper-state cache (tracking.state): a bump after new events leaves the old state to expire (its version no
longer matches), an erasure's bump removes it from Redis at once, so erased history is not kept there."""

from __future__ import annotations

import uuid

import pytest
from django_redis import get_redis_connection

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.services import EventInput, events_record, shopper_tracking_erase
from dragonrec.tracking.state import STATE_KEY, shopper_state_get
from tests.throttle_rates import fresh_counters as fresh_counters  # autouse here

pytestmark = pytest.mark.django_db


def test_an_erasure_removes_the_cached_state_from_redis() -> None:
    product = ProductFactory().pk
    events_record(items=[EventInput(id=uuid.uuid4(), type="view", product_id=product, session_id="erase-me")])
    # given the shopper's state was read, and so cached in Redis with their history
    assert [p for p, _, _ in shopper_state_get("s:erase-me").history] == [product]
    assert get_redis_connection("default").exists(STATE_KEY.format("s:erase-me"))
    # when they erase their data, the cached copy of their history goes with it (not merely goes stale)
    shopper_tracking_erase(user_id=None, session_id="erase-me")
    assert not get_redis_connection("default").exists(STATE_KEY.format("s:erase-me"))
    assert shopper_state_get("s:erase-me").history == []
