"""Event ingest costs the same number of round trips whatever the batch size: the queries are pinned."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event
from dragonrec.tracking.services import EventInput, events_record

pytestmark = pytest.mark.django_db


def test_recording_a_batch_is_two_statements_and_stores_it_whole(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    products = [ProductFactory() for _ in range(3)]
    replayed = Event.objects.create(
        id=uuid.uuid4(), type="view", product=products[0], session_id="s-q", timestamp=products[0].created_at
    )
    items = [
        EventInput(id=uuid.uuid4(), type="view", product_id=products[i % 3].pk, session_id="s-q") for i in range(200)
    ]
    items += [EventInput(id=replayed.id, type="view", product_id=products[0].pk, session_id="s-q")]
    items += [EventInput(id=uuid.uuid4(), type="view", product_id=999_999, session_id="s-q")]
    # when: one query for the known products and stored ids, one INSERT for the rows
    with django_assert_num_queries(2):
        results = events_record(items=items)
    # then
    assert [r.status for r in results] == ["accepted"] * 200 + ["duplicate", "rejected"]
    assert Event.objects.filter(session_id="s-q").count() == 201


def test_the_api_sends_as_many_queries_for_a_batch_of_500_as_for_one(api_client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()

    def post(n: int) -> int:
        body = {"events": [{"id": str(uuid.uuid4()), "type": "view", "product_id": product.pk} for _ in range(n)]}
        with CaptureQueriesContext(connection) as queries:
            response = api_client.post("/api/events/", json.dumps(body), content_type="application/json")
        assert response.status_code == 200
        assert {r["status"] for r in response.json()["results"]} == {"accepted"}
        return len(queries)

    post(1)  # the shopper cookie is set by the first request
    post(1)  # its id is looked up among retired ids once per process, then checked in the Redis round trip
    # then: the lookup of products and stored ids, and the INSERT, whatever the batch size
    assert post(500) == post(1) == 2
    assert Event.objects.count() == 503
