"""The admin's preview: exactly the list the API serves a given shopper, each item's reason, source and score, what
an experiment's arms would serve instead; nothing recorded."""

from __future__ import annotations

import re

import pytest

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.services import experiments as svc
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db

URL = "/admin/dragonrec_recommender/experiment/preview/"


@pytest.fixture(autouse=True)
def fresh_experiments():  # type: ignore[no-untyped-def]
    svc.experiments_reset()
    yield
    svc.experiments_reset()


def _listed(page: str) -> list[int]:
    table = page.split('id="preview-list"', 1)[1].split("</table>", 1)[0]
    return [int(x) for x in re.findall(r'data-product-id="(\d+)"', table)]


def test_the_preview_shows_exactly_the_list_the_api_serves_and_records_nothing(
    admin_client, api_client, tiny_shop, shopper_cookie
) -> None:  # type: ignore[no-untyped-def]
    import uuid

    from dragonrec.recommender.services.preview import recommendation_preview

    # a session of its own: impression fatigue lives in Redis, beyond the test's database transaction
    shopper = f"s-prev-{uuid.uuid4().hex[:8]}"
    for key in ("monitor", "cable", "kettle"):
        EventFactory(session_id=shopper, product=tiny_shop[key], type="view")
    # the API, as the shopper's browser calls it: home explores, so its request id fixes the draw
    body = shopper_cookie(api_client, shopper).get("/api/recommendations/", {"scenario": "home", "n": 6}).json()
    served = [(i["product"]["id"], i["score"], i["source"], i["reason"]) for i in body["items"]]
    assert len(served) == 6
    # the preview service: the same items, scores, sources and reasons, in the same order
    preview = recommendation_preview(scenario="home", shopper=shopper, n=6, request_id=body["request_id"])
    assert [(i.product_id, i.score, i.source, i.reason) for i in preview["served"].items] == served
    assert preview["served"].ranker == body["ranker"]
    # the page shows that list with each item's reason and source
    page = admin_client.get(
        URL, {"scenario": "home", "shopper": shopper, "n": 6, "request_id": body["request_id"]}
    ).content.decode()
    assert _listed(page) == [pid for pid, _, _, _ in served]
    assert all(reason in page for _, _, _, reason in served) and f"Ranked by <strong>{body['ranker']}" in page
    # a product page, with no request id (no exploration there)
    api_product = shopper_cookie(api_client, shopper).get(
        "/api/recommendations/", {"scenario": "product", "product_id": tiny_shop["monitor"].id, "n": 5}
    )
    page = admin_client.get(
        URL, {"scenario": "product", "shopper": shopper, "product_id": tiny_shop["monitor"].id, "n": 5}
    ).content.decode()
    assert _listed(page) == [i["product"]["id"] for i in api_product.json()["items"]]
    # only the API's two lists were recorded
    impressions_flush()
    assert ServedList.objects.filter(session_id=shopper).count() == 2


def test_the_preview_takes_a_stated_history_and_shows_what_each_arm_would_serve(admin_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    experiment = svc.experiment_create(
        name="pv",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "student:active", 0.5), svc.ArmSpec("t", "trending", 0.5)],
    )
    svc.experiment_start(experiment=experiment)
    impressions_flush()  # whatever an earlier test left buffered in Redis
    before = ServedList.objects.count()
    history = f"{tiny_shop['monitor'].id}, {tiny_shop['cable'].id}:add_to_cart"
    page = admin_client.get(URL, {"scenario": "home", "history": history, "n": 4}).content.decode()
    assert len(_listed(page)) == 4
    assert "pv / control (student:active, 50% of shoppers)" in page and "pv / t (trending, 50% of shoppers)" in page
    assert "chance at this position" in page
    bad = admin_client.get(URL, {"scenario": "home", "history": "12:bought", "n": 4}).content.decode()
    assert "&#x27;12:bought&#x27;: write a product id" in bad
    impressions_flush()
    assert ServedList.objects.count() == before
