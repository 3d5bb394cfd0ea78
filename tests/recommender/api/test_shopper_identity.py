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


def test_a_click_on_someone_elses_list_is_not_credited(api_client, tiny_shop, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.impressions import impressions_flush
    from tests.served_lists import served_item

    # given: a list served to the victim, whose request id leaked
    EventFactory(session_id="s-victim", product=tiny_shop["monitor"], type="view")
    body = shopper_cookie(APIClient(), "s-victim").get(RECS, {"n": 3}).json()
    impressions_flush()
    # when: another browser reports a click on it
    click = {
        "id": str(uuid.uuid4()),
        "type": "click",
        "product_id": body["items"][0]["product"]["id"],
        "context": {"request_id": body["request_id"], "position": 1},
    }
    assert api_client.post("/api/events/", {"events": [click]}, format="json").status_code == 200
    from dragonrec.recommender.services.feedback import clicks_attribute_recent

    clicks_attribute_recent()
    # then: the victim's list is not credited (the rewards the models learn from stay the victim's own)
    assert served_item(body["request_id"], 1).clicked_at is None


def test_stating_a_preference_changes_an_anonymous_visitors_home_list(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.aggregates import trending_recompute

    for key in ["shoe_road", "monitor", "mouse", "keyboard", "cable", "shirt_run"]:
        EventFactory(product=tiny_shop[key], type="purchase")
    trending_recompute()
    before = [i["product"]["title"] for i in api_client.get(RECS, {"n": 4}).json()["items"]]
    put = api_client.put("/api/preferences/", {"categories": ["Home > Kitchen"]}, format="json")
    assert put.status_code == 200
    after = [i["product"]["title"] for i in api_client.get(RECS, {"n": 4}).json()["items"]]
    kitchen = {"Drip Coffee Maker", "Electric Kettle 1.7L", "Nonstick Frying Pan"}
    assert not kitchen & set(before[:2]), before
    assert kitchen & set(after[:2]), after
