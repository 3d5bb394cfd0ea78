"""The bars of the identity contract on the recommendation API: a browser is its shopper cookie; only an
integration's API key may name a shopper."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from dragonrec.tracking.factories import EventFactory
from dragonrec.tracking.models import Event

pytestmark = pytest.mark.django_db
RECS = "/api/recommendations/"
COOKIE = "dragonrec_shopper"


def test_someone_elses_session_id_is_a_403_not_their_cart(api_client, shopper_cookie, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: a victim with a cart, and an attacker's browser that knows the victim's session id
    product = tiny_shop["shoe_road"]
    EventFactory(session_id="s-victim", product=product, type="add_to_cart")
    api_client.get("/api/auth/session/")
    # when / then
    response = api_client.get(RECS, {"scenario": "cart", "session_id": "s-victim"})
    assert response.status_code == 403
    assert "does not match this browser's shopper cookie" in response.json()["detail"]
    # the same browser naming its own id (or none) is served
    assert shopper_cookie(APIClient(), "s-victim").get(RECS, {"session_id": "s-victim"}).status_code == 200


def test_an_integration_with_a_key_may_name_any_shopper(api_client, api_key, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: a shop's backend with a key for events and recommendations
    product = tiny_shop["shoe_road"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['events:write', 'recommendations:read'])}")
    # when: it records and asks for its shopper 'shop-7'
    event = {"id": str(uuid.uuid4()), "type": "add_to_cart", "product_id": product.id, "session_id": "shop-7"}
    assert api_client.post("/api/events/", {"events": [event]}, format="json").json()["results"][0]["status"] == (
        "accepted"
    )
    response = api_client.get(RECS, {"scenario": "cart", "session_id": "shop-7"})
    # then: served for that shopper, and no browser cookie is involved
    assert response.status_code == 200 and COOKIE not in response.cookies
    assert Event.objects.get().session_id == "shop-7"
