"""The per-request budget of a warm recommendation request (issue #27): at most 1 SQL statement and at most 2 Redis
round trips for the WHOLE request (middleware, authentication, throttles, shopper state, ranking, rendering and the
impression push), for every scenario, as a browser with its cookie and as an integration with its API key.

Counted on the real servers (dragonrec.roundtrips: Django's execute_wrapper, redis-py's socket writes), with the
throttles on (their counters are part of the budget) and a returning shopper whose history, preferences and
purchase all shape the list."""

from __future__ import annotations

from typing import Any

import pytest

from dragonrec.roundtrips import RoundTrips

pytestmark = pytest.mark.django_db
URL = "/api/recommendations/"
MAX_SQL = 1
MAX_REDIS = 2


@pytest.fixture
def serving_ttl(settings):  # type: ignore[no-untyped-def]
    """The serving default for how stale a process's catalog snapshot and merchant rules may be (the test
    settings check them on every request, so that tests see their own writes at once)."""
    from dragonrec.recommender.conf import DEFAULTS

    settings.RECOMMENDER = {**settings.RECOMMENDER, "SNAPSHOT_TTL_S": DEFAULTS["SNAPSHOT_TTL_S"]}


def _returning_shopper(shop: Any, session_id: str) -> None:
    from dragonrec.tracking.factories import EventFactory
    from dragonrec.tracking.services import preference_update

    for key, kind in [
        ("shoe_road", "view"),
        ("shoe_trail", "view"),
        ("shoe_road", "add_to_cart"),
        ("mouse", "purchase"),
    ]:
        EventFactory(session_id=session_id, product=shop[key], type=kind)
    preference_update(session_id=session_id, categories=["Sports"], price_max=None)


def _clients(api_client: Any, shopper_cookie: Any, api_key: Any) -> dict[str, tuple[Any, dict[str, str]]]:
    browser = shopper_cookie(api_client.__class__(), "c-budget-browser")
    integration = api_client.__class__()
    integration.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['recommendations:read'])}")
    return {"cookie": (browser, {}), "api_key": (integration, {"session_id": "c-budget-backend"})}


@pytest.mark.parametrize("identity", ["cookie", "api_key"])
@pytest.mark.parametrize(
    "scenario,params",
    [
        ("home", {"scenario": "home"}),
        ("product", {"scenario": "product", "product_id": "monitor"}),
        ("cart", {"scenario": "cart"}),
        ("similar", {"path": "similar", "product_id": "keyboard"}),
        ("complements", {"path": "complements", "product_id": "keyboard"}),
    ],
)
def test_a_warm_recommendation_request_makes_at_most_1_query_and_2_redis_round_trips(
    api_client, tiny_shop, shopper_cookie, api_key, identity, scenario, params, serving_ttl
) -> None:  # type: ignore[no-untyped-def]
    # given a returning shopper (history, a cart, a purchase, stated preferences) and a request they made before
    for session_id in ("c-budget-browser", "c-budget-backend"):
        _returning_shopper(tiny_shop, session_id)
    from dragonrec.recommender.models import CategoryComplement

    # a merchant's pair, so that the keyboard's complements have something to serve
    keyboard, cable = tiny_shop["keyboard"], tiny_shop["cable"]
    CategoryComplement.objects.create(
        category_path=keyboard.category.path, complement_path=cable.category.path, score=1.0, manual=True
    )
    client, extra = _clients(api_client, shopper_cookie, api_key)[identity]
    query = {**extra, **{k: v for k, v in params.items() if k not in ("path", "product_id")}}
    if "product_id" in params:
        query["product_id"] = str(tiny_shop[params["product_id"]].pk)
    url = URL
    if "path" in params:
        url = f"/api/products/{query.pop('product_id')}/{params['path']}/"
    # warm: the catalog snapshot and renderings, the shopper's cached state; an API key is kept by its first request
    # and confirmed against the key-change token by its second
    for _ in range(2):
        assert client.get(url, query).status_code == 200
    # when the same shopper asks again
    with RoundTrips() as trips:
        response = client.get(url, query)
    # then it is served (and recorded: the push is one of the round trips) within the budget
    assert response.status_code == 200, response.content
    assert response.json()["items"], "the budget only counts if a list was served"
    assert len(trips.sql) <= MAX_SQL, trips.sql
    assert len(trips.redis) <= MAX_REDIS, trips.redis
