"""A batch served in autocommit is written without a lookup first (services/events.py): the COPY's own checks (the
product foreign key, the id's unique index) decide, and a batch they refuse, or one the limits cut short, is decided
again the exact way. Whatever way it went, a client sees the same answers and the limits count only stored events.
These tests commit, as a served request does (a test's transaction would send the batch the exact way)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from dragonrec.catalog.factories import ProductFactory
from dragonrec.roundtrips import RoundTrips
from dragonrec.tracking.models import Event
from tests.throttle_rates import fresh_counters as fresh_counters  # autouse here
from tests.throttle_rates import rates

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/events/"


def item(product_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": "view", "product_id": product_id, **extra}


def post(client, items: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    with RoundTrips() as trips:
        response = client.post(URL, {"events": items}, format="json")
    assert response.status_code == 200, response.content
    # the statements on the events table (a cookie's first requests also check it against the retired ids)
    writes = [sql.split()[0] for sql in trips.sql if Event._meta.db_table in sql]
    return [r["status"] for r in response.json()["results"]], writes, response


def fresh_events(client, product_id: int, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The statuses of `n` new events: what the shopper's budget still takes."""
    return post(client, [item(product_id) for _ in range(n)])[0]


def test_an_unknown_product_is_rejected_alone_and_uses_no_budget(api_client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    with rates(**{"events.shopper": "6/min"}):
        # when a batch names a product that does not exist (its foreign key fails the COPY whole)
        statuses, sql, response = post(api_client, [item(product.pk), item(999_999), item(product.pk)])
        # then it alone is rejected, the rest stored, by the exact way after the failed COPY
        assert statuses == ["accepted", "rejected", "accepted"]
        assert response.json()["results"][1]["error"] == "unknown product 999999"
        assert sql == ["COPY", "SELECT", "COPY"]
        # and only the 2 stored events were counted: 4 of the 6 are left
        statuses = fresh_events(api_client, product.pk, 5)
    assert statuses == ["accepted"] * 4 + ["rejected"]
    assert Event.objects.count() == 6


def test_a_replayed_batch_is_named_duplicate_and_uses_no_budget(api_client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    batch = [item(product.pk) for _ in range(3)]
    with rates(**{"events.shopper": "8/min"}):
        assert post(api_client, batch)[:2] == (["accepted"] * 3, ["COPY"])
        # when the tracker resends it with one new event (its answer was lost)
        statuses, sql, _ = post(api_client, [*batch, item(product.pk)])
        # then the stored ids are duplicates, the new one stored, and the budget counts 4 of 8
        assert statuses == ["duplicate"] * 3 + ["accepted"]
        assert sql == ["COPY", "SELECT", "COPY"]
        statuses = fresh_events(api_client, product.pk, 5)
    assert statuses == ["accepted"] * 4 + ["rejected"]
    assert Event.objects.count() == 8


def test_a_replay_near_the_limit_is_duplicate_not_refused(api_client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    batch = [item(product.pk) for _ in range(4)]
    with rates(**{"events.shopper": "5/min"}):
        assert post(api_client, batch)[0] == ["accepted"] * 4
        # when it is resent: counted again it would not fit (8 > 5), but it is all stored already
        statuses, _, _ = post(api_client, batch)
        assert statuses == ["duplicate"] * 4
        statuses = fresh_events(api_client, product.pk, 2)
    assert statuses == ["accepted", "rejected"]
    assert Event.objects.count() == 5


def test_a_stated_currency_is_checked_against_the_product(api_client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory(currency="EUR", price=Decimal("10.00"))
    statuses, sql, response = post(
        api_client,
        [
            item(product.pk, type="purchase", value="10.00", context={"currency": "USD"}),
            item(product.pk, type="purchase", value="10.00", context={"currency": "eur"}),
        ],
    )
    # then the batch went the exact way (the product's currency is looked up) and the wrong currency is refused
    assert sql == ["SELECT", "COPY"]
    assert statuses == ["rejected", "accepted"]
    assert "not the product's currency 'EUR'" in response.json()["results"][0]["error"]
