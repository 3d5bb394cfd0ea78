"""Issue #21, reproduction 12: a GET that another site started (`Sec-Fetch-Site: cross-site`: a link, an <img>)
carries the visitor's Lax shopper cookie, so it must serve without recording anything for them: no served list,
no impression fatigue."""

from __future__ import annotations

import uuid

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.services.impressions import SEEN_KEY, impressions_flush
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db
RECS = "/api/recommendations/"


VISITOR = f"c-{uuid.uuid4().hex}"  # the cache outlives a test: a fresh id per run keeps its fatigue state apart


@pytest.fixture
def shopper(tiny_shop, shopper_cookie) -> APIClient:  # type: ignore[no-untyped-def]
    get_redis_connection("default").delete(SEEN_KEY.format(f"s:{VISITOR}"))
    EventFactory(session_id=VISITOR, product=tiny_shop["monitor"], type="view")
    return shopper_cookie(APIClient(), VISITOR)  # type: ignore[no-any-return]


def recorded() -> tuple[int, bool]:
    """(served lists stored for the visitor, whether their impression-fatigue state exists)."""
    impressions_flush()
    return ServedList.objects.filter(session_id=VISITOR).count(), bool(
        get_redis_connection("default").exists(SEEN_KEY.format(f"s:{VISITOR}"))
    )


@pytest.mark.parametrize("scenario", ["home", "product"])
def test_a_cross_site_get_serves_a_list_and_records_nothing(shopper, tiny_shop, scenario) -> None:  # type: ignore[no-untyped-def]
    params = {"n": 3, "scenario": scenario, **({"product_id": tiny_shop["kettle"].id} if scenario == "product" else {})}
    # when: another site's link opens the list in the visitor's browser
    response = shopper.get(RECS, params, HTTP_SEC_FETCH_SITE="cross-site")
    # then: served, but no list and no fatigue were written for the visitor
    assert response.status_code == 200 and len(response.json()["items"]) == 3
    assert recorded() == (0, False)


@pytest.mark.parametrize("origin", ["same-origin", "same-site", "none", None])
def test_the_shoppers_own_gets_are_recorded(shopper, origin) -> None:  # type: ignore[no-untyped-def]
    headers = {"HTTP_SEC_FETCH_SITE": origin} if origin else {}
    assert shopper.get(RECS, {"n": 3}, **headers).status_code == 200
    assert recorded() == (1, True)


@pytest.mark.parametrize("kind", ["similar", "complements"])
def test_cross_site_product_lists_record_nothing(shopper, tiny_shop, kind) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/products/{tiny_shop['monitor'].id}/{kind}/"
    assert shopper.get(url, {"n": 3}, HTTP_SEC_FETCH_SITE="cross-site").status_code == 200
    assert recorded() == (0, False)


@pytest.mark.parametrize("origin", ["cross-site", "same-origin"])
def test_a_search_records_its_list_only_for_the_shoppers_own_requests(shopper, origin) -> None:  # type: ignore[no-untyped-def]
    # when: the visitor's browser asks for a search, from another site's link or from the shop itself
    response = shopper.get("/api/search/", {"q": "monitor"}, HTTP_SEC_FETCH_SITE=origin)
    # then: served either way; a list is stored only for the shop's own request
    assert response.status_code == 200 and response.json()["items"]
    lists, _ = recorded()
    assert lists == (0 if origin == "cross-site" else 1)
