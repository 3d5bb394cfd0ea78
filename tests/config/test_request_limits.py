"""Body size limits: refused with a JSON 413 before anything parses the body."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event

pytestmark = pytest.mark.django_db


def batch(product_id: int, n: int, padding: int = 0) -> bytes:
    items = [
        {
            "id": str(uuid.uuid4()),
            "type": "view",
            "product_id": product_id,
            "context": {"p": "x" * padding},
        }
        for _ in range(n)
    ]
    return json.dumps({"events": items}).encode()


def test_a_body_over_the_default_limit_is_a_413_and_nothing_is_stored(client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    body = batch(product.id, 400, padding=3000)  # ~1.3 MB: each context is under its own 4 KB limit
    assert len(body) > 1024 * 1024
    response = client.post("/api/events/", body, content_type="application/json")
    assert response.status_code == 413
    assert "limit is 1048576 bytes" in response.json()["detail"]
    assert Event.objects.count() == 0


def test_a_full_batch_under_the_limit_is_stored(client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    body = batch(product.id, 500, padding=1000)
    assert 500_000 < len(body) < 1024 * 1024
    response = client.post("/api/events/", body, content_type="application/json")
    assert response.status_code == 200
    assert Event.objects.count() == 500


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_the_limit_is_configurable(client) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    assert client.post("/api/events/", batch(product.id, 1), content_type="application/json").status_code == 200
    response = client.post("/api/events/", batch(product.id, 20), content_type="application/json")
    assert response.status_code == 413 and response.json()["detail"].endswith("limit is 2000 bytes.")
