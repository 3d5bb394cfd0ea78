"""Rate limits per scope, per shopper and per client address: 429 with Retry-After, counted in Redis."""

from __future__ import annotations

import pytest

from tests.throttle_rates import fresh_counters as fresh_counters  # autouse here
from tests.throttle_rates import rates

pytestmark = pytest.mark.django_db
URL = "/api/recommendations/"


def test_a_flood_from_one_address_gets_429_with_retry_after(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given a low per-address rate for recommendations
    with rates(**{"recommendations.address": "50/min"}):
        # when one client asks 200 times in a row, each time as a new browser (no cookie kept: a fresh shopper)
        responses = [api_client.__class__().get(URL, {"n": 3}) for i in range(200)]
    # then the first 50 are served and the rest are refused with a time to come back
    codes = [r.status_code for r in responses]
    assert codes[:50] == [200] * 50
    assert codes[50:] == [429] * 150
    retry_after = int(responses[-1]["Retry-After"])
    assert 0 < retry_after <= 60
    assert "throttled" in responses[-1].json()["detail"].lower()


def test_one_shopper_is_limited_without_limiting_the_others_at_the_same_address(
    api_client, tiny_shop, shopper_cookie, api_key
) -> None:  # type: ignore[no-untyped-def]
    busy = shopper_cookie(api_client.__class__(), "c-busy")
    quiet = shopper_cookie(api_client.__class__(), "c-quiet")
    integration = api_client.__class__()
    integration.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['recommendations:read'])}")
    with rates(**{"recommendations.shopper": "5/min"}):
        same = [busy.get(URL).status_code for _ in range(8)]  # the signed cookie names the shopper
        other = quiet.get(URL).status_code
        named = integration.get(URL, {"session_id": "c-busy"}).status_code  # an integration naming the same one
    assert same == [200] * 5 + [429] * 3
    assert other == 200
    assert named == 429


def test_scopes_are_counted_apart(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    with rates(**{"recommendations.address": "2/min"}):
        assert [api_client.get(URL).status_code for _ in range(3)] == [200, 200, 429]
        assert api_client.post("/api/events/", {"events": []}, format="json").status_code == 400  # not 429


def test_forwarded_for_is_ignored_unless_proxies_are_configured(api_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # a client cannot dodge the address limit by inventing X-Forwarded-For values
    with rates(**{"recommendations.address": "3/min"}):
        codes = [api_client.get(URL, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
