"""The COPY that stores a batch: text stored exactly as sent, and a COPY that loses a race for an id stores the rest
of the batch and names the taken id a duplicate (the INSERT .. ON CONFLICT behind it)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event
from dragonrec.tracking.services import EventInput
from dragonrec.tracking.services.events import _events_insert_new

pytestmark = pytest.mark.django_db

AWKWARD = "tab\there, new\nline, return\r, back\\slash, \\N, \\., quote\" 'é' 🙂"


def test_text_with_copy_delimiters_is_stored_exactly(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    # given an integration whose session ids and context carry COPY's delimiters and escapes
    product = ProductFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['events:write'])}")
    items = [
        {
            "id": str(uuid.uuid4()),
            "type": "view",
            "product_id": product.pk,
            "session_id": f"s{i}-{AWKWARD}"[:128],
            "context": {"page": AWKWARD, AWKWARD: [AWKWARD, 1.5, None, True], "n": 2**62},
        }
        for i in range(3)
    ]
    # when
    response = api_client.post("/api/events/", json.dumps({"events": items}), content_type="application/json")
    # then every item is stored field by field as sent
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["accepted"] * 3
    for item in items:
        stored = Event.objects.get(id=item["id"])
        assert stored.session_id == item["session_id"]
        assert stored.context == item["context"]


def test_a_copy_that_loses_a_race_stores_the_rest_and_names_the_taken_id(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    # given a batch checked new, one of whose ids another request stores before the write (as if between the
    # lookup and the COPY)
    product = ProductFactory()
    now = timezone.now()
    items = [EventInput(id=uuid.uuid4(), type="view", product_id=product.pk, session_id="s-race") for _ in range(5)]
    Event.objects.create(id=items[2].id, type="cart", product=product, session_id="someone-else", timestamp=now)
    # when it is written inside the caller's transaction
    with transaction.atomic():
        taken = _events_insert_new(items, user_id=None, source="api", now=now)
        # then the transaction is still usable (the failed COPY was rolled back to its savepoint alone)
        assert Event.objects.filter(session_id="s-race").count() == 4
    assert taken == {items[2].id}
    assert Event.objects.get(id=items[2].id).session_id == "someone-else"
