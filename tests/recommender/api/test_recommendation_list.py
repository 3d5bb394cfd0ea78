from __future__ import annotations

import uuid

import pytest

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.tracking.factories import EventFactory
from tests.served_lists import served_item

pytestmark = pytest.mark.django_db
URL = "/api/recommendations/"


def titles(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["product"]["title"] for item in body["items"]]


def test_a_running_shoe_browser_gets_running_products_first(api_client, tiny_shop, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    # given: a session that viewed a road running shoe, then carted it
    EventFactory(session_id="s-run", product=tiny_shop["shoe_road"], type="view")
    EventFactory(session_id="s-run", product=tiny_shop["shoe_trail"], type="view")
    EventFactory(session_id="s-run", product=tiny_shop["shoe_trail"], type="add_to_cart")
    # when: that browser (its shopper cookie) asks
    response = shopper_cookie(api_client, "s-run").get(URL, {"scenario": "home", "n": 5})
    # then: real MiniLM embeddings + pgvector put running gear above kitchen and electronics
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ranker"] == "embedding"
    top3 = titles(body)[:3]
    assert all("Running" in title for title in top3), top3
    assert {"items", "request_id", "scenario", "ranker"} <= set(body)
    assert set(body["items"][0]) == {"product", "score", "reason", "source"}


def report_click(api_client, body: dict, position: int) -> int:  # type: ignore[no-untyped-def,type-arg]
    """The storefront reports a click on `position` of a served list, carrying its request id."""
    clicked = body["items"][position - 1]["product"]["id"]
    click = {
        "id": str(uuid.uuid4()),
        "type": "click",
        "product_id": clicked,
        "context": {"request_id": body["request_id"], "position": position},
    }
    response = api_client.post("/api/events/", {"events": [click]}, format="json")
    assert response.json()["results"][0]["status"] == "accepted"
    return int(clicked)


def test_each_served_list_is_an_impression_and_clicks_are_attributed(
    api_client, tiny_shop, django_capture_on_commit_callbacks, shopper_cookie
) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-imp", product=tiny_shop["monitor"], type="view")
    body = shopper_cookie(api_client, "s-imp").get(URL, {"scenario": "home", "n": 4}).json()
    # served lists are buffered in Redis and written in batches (by a Celery task; here, the service it runs)
    assert not ServedList.objects.filter(request_id=body["request_id"]).exists()
    assert impressions_flush() >= 1
    impression = ServedList.objects.select_related("policy").get(request_id=body["request_id"])
    assert impression.policy.ranker == body["ranker"] and impression.session_id == "s-imp"
    assert impression.item_ids == [it["product"]["id"] for it in body["items"]]
    # when: a click on position 2 is reported (attribution runs when the event's transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        clicked = report_click(api_client, body, 2)
    # then
    item = served_item(impression.request_id, 2)
    assert item.clicked_at is not None and item.product_id == clicked


def test_a_click_that_arrives_before_its_list_is_written_is_still_attributed(
    api_client, tiny_shop, django_capture_on_commit_callbacks, shopper_cookie
) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-early", product=tiny_shop["monitor"], type="view")
    body = shopper_cookie(api_client, "s-early").get(URL, {"scenario": "home", "n": 4}).json()
    # when: the click is recorded while the list is still in the buffer
    with django_capture_on_commit_callbacks(execute=True):
        clicked = report_click(api_client, body, 1)
    assert not ServedList.objects.filter(request_id=body["request_id"]).exists()
    impressions_flush()
    # then: the flush credits it
    item = served_item(body["request_id"], 1)
    assert item.clicked_at is not None and item.product_id == clicked


def test_impressions_are_written_inline_when_redis_is_down(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings
    from django.test import override_settings

    from dragonrec.recommender.services.recommendations import recommendation_list

    unreachable = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=unreachable):
        served = recommendation_list(scenario="home", session_id="s-down", n=3)
    assert len(ServedList.objects.get(request_id=served.request_id).item_ids) == 3


@pytest.mark.parametrize(
    "params, field",
    [
        ({"scenario": "garden"}, "scenario"),
        ({"n": 101}, "n"),
        ({"n": 0}, "n"),
        ({"scenario": "product"}, "product_id"),
        ({"scenario": "product", "product_id": "abc"}, "product_id"),
        ({"scenario": ""}, "scenario"),  # empty is not "the default"
        ({"n": ""}, "n"),
    ],
)
def test_invalid_parameters_are_a_400_with_a_clear_message(api_client, tiny_shop, params, field) -> None:  # type: ignore[no-untyped-def]
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_an_unknown_product_is_a_404_that_names_it(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    for response in (
        api_client.get(URL, {"scenario": "product", "product_id": 999999}),
        api_client.get("/api/products/999999/similar/"),
        api_client.get("/api/products/999999/complements/"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "unknown product 999999"}


def test_new_visitor_gets_trending_across_categories(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.aggregates import trending_recompute

    for key in ["coffee", "kettle", "monitor", "shoe_road", "mouse", "pan"]:
        EventFactory(session_id=f"s-{key}", product=tiny_shop[key], type="purchase")
    trending_recompute()
    body = api_client.get(URL, {"n": 6}).json()  # a browser without a shopper cookie: a new one
    assert body["ranker"] == "trending"
    assert len(body["items"]) == 6


def test_similar_and_complements_endpoints(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    similar = api_client.get(f"/api/products/{tiny_shop['shoe_road'].id}/similar/", {"n": 3})
    assert similar.status_code == 200
    assert titles(similar.json())[0] == "TrailBlaze Running Shoes"
    assert api_client.get("/api/products/999999/similar/").status_code == 404
    assert api_client.get(f"/api/products/{tiny_shop['mouse'].id}/complements/", {"n": 500}).status_code == 400


def test_a_full_buffer_is_flushed_by_the_requests_themselves(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings
    from django.test import override_settings

    from dragonrec.recommender.services.impressions import impressions_buffered

    # given: no worker is flushing, and the buffer may hold 2 records
    impressions_flush()
    with override_settings(RECOMMENDER={**settings.RECOMMENDER, "IMPRESSION_BUFFER_MAX": 2}):
        ids = [api_client.get(URL, {"n": 3}).json()["request_id"] for _ in range(3)]
    # then: the third request found 3 > 2 buffered and wrote them
    assert impressions_buffered() == 0
    assert ServedList.objects.filter(request_id__in=ids).count() == 3
