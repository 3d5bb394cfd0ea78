from __future__ import annotations

import uuid

import pytest

from recommender.models import Impression, ImpressionItem
from tracking.factories import EventFactory

pytestmark = pytest.mark.django_db
URL = "/api/recommendations/"


def titles(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["product"]["title"] for item in body["items"]]


def test_a_running_shoe_browser_gets_running_products_first(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: a session that viewed a road running shoe, then carted it
    EventFactory(session_id="s-run", product=tiny_shop["shoe_road"], type="view")
    EventFactory(session_id="s-run", product=tiny_shop["shoe_trail"], type="view")
    EventFactory(session_id="s-run", product=tiny_shop["shoe_trail"], type="add_to_cart")
    # when
    response = api_client.get(URL, {"scenario": "home", "session_id": "s-run", "n": 5})
    # then: real MiniLM embeddings + pgvector put running gear above kitchen and electronics
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ranker"] == "embedding"
    top3 = titles(body)[:3]
    assert all("Running" in title for title in top3), top3
    assert {"items", "request_id", "scenario", "ranker"} <= set(body)
    assert set(body["items"][0]) == {"product", "score", "reason", "source"}


def test_each_served_list_is_an_impression_and_clicks_are_attributed(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-imp", product=tiny_shop["monitor"], type="view")
    body = api_client.get(URL, {"scenario": "home", "session_id": "s-imp", "n": 4}).json()
    impression = Impression.objects.get(request_id=body["request_id"])
    assert impression.ranker == body["ranker"] and impression.session_id == "s-imp"
    items = list(impression.items.order_by("position"))
    assert [i.product_id for i in items] == [it["product"]["id"] for it in body["items"]]
    # when: the storefront reports a click on position 2 carrying the request id
    clicked = body["items"][1]["product"]["id"]
    click = {
        "id": str(uuid.uuid4()),
        "type": "click",
        "product_id": clicked,
        "session_id": "s-imp",
        "context": {"request_id": body["request_id"], "position": 2},
    }
    from django.test.utils import CaptureQueriesContext  # noqa: F401  (keeps the import local to this test)

    with pytest.MonkeyPatch.context():
        response = api_client.post("/api/events/", {"events": [click]}, format="json")
    assert response.json()["results"][0]["status"] == "accepted"
    # then (on_commit runs at the end of the request's transaction in the test client's atomic block)
    from django.db import connection

    for callback in connection.run_on_commit[:]:
        callback[1]()
    item = ImpressionItem.objects.get(impression=impression, position=2)
    assert item.clicked_at is not None and item.product_id == clicked


@pytest.mark.parametrize(
    "params, field",
    [
        ({"scenario": "garden"}, "scenario"),
        ({"n": 101}, "n"),
        ({"n": 0}, "n"),
        ({"scenario": "product"}, "product_id"),
        ({"scenario": "product", "product_id": 999999}, "product_id"),
        ({"scenario": "product", "product_id": "abc"}, "product_id"),
    ],
)
def test_invalid_parameters_are_a_400_with_a_clear_message(api_client, tiny_shop, params, field) -> None:  # type: ignore[no-untyped-def]
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_new_visitor_gets_trending_across_categories(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from recommender.services.aggregates import trending_recompute

    for key in ["coffee", "kettle", "monitor", "shoe_road", "mouse", "pan"]:
        EventFactory(session_id=f"s-{key}", product=tiny_shop[key], type="purchase")
    trending_recompute()
    body = api_client.get(URL, {"session_id": "brand-new", "n": 6}).json()
    assert body["ranker"] == "trending"
    assert len(body["items"]) == 6


def test_similar_and_complements_endpoints(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    similar = api_client.get(f"/api/products/{tiny_shop['shoe_road'].id}/similar/", {"n": 3})
    assert similar.status_code == 200
    assert titles(similar.json())[0] == "TrailBlaze Running Shoes"
    assert api_client.get("/api/products/999999/similar/").status_code == 400
    assert api_client.get(f"/api/products/{tiny_shop['mouse'].id}/complements/", {"n": 500}).status_code == 400
