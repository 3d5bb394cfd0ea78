"""What the serving path keeps in caches (issue #27) is never staler than the database after a write: a shopper's
state (history, preferences) after new events, new preferences, a merge and an erasure; an API key after its
revocation; a cookie id after it was retired. Each read goes through the same cache the serving round trip uses."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from dragonrec.tracking.services import EventInput, events_record, preference_update, shopper_tracking_erase
from dragonrec.tracking.state import shopper_state_get

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def _view(session_id: str, product_id: int) -> None:
    events_record(items=[EventInput(id=uuid.uuid4(), type="view", product_id=product_id, session_id=session_id)])


def test_a_cached_state_follows_every_write(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    key = "s:c-cache"
    # given a shopper whose state was read (and so cached)
    _view("c-cache", tiny_shop["monitor"].pk)
    assert [p for p, _, _ in shopper_state_get(key).history] == [tiny_shop["monitor"].pk]
    # when they view another product, state preferences, and erase it all, each read sees the write at once
    _view("c-cache", tiny_shop["keyboard"].pk)
    assert [p for p, _, _ in shopper_state_get(key).history] == [tiny_shop["monitor"].pk, tiny_shop["keyboard"].pk]
    preference_update(session_id="c-cache", categories=["Electronics"])
    assert shopper_state_get(key).preferences["categories"] == ["Electronics"]  # type: ignore[index]
    shopper_tracking_erase(user_id=None, session_id="c-cache")
    erased = shopper_state_get(key)
    assert erased.history == [] and erased.preferences is None


def test_a_list_after_a_view_excludes_the_viewed_product(api_client, tiny_shop, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    client = shopper_cookie(api_client, "c-cache-list")
    first = client.get("/api/recommendations/", {"n": 12}).json()
    shown = first["items"][0]["product"]["id"]
    # when the shopper views the first product shown and posts that event, the next list (served from the cached
    # state) knows it: a viewed product is excluded
    response = client.post(
        "/api/events/",
        {"events": [{"id": str(uuid.uuid4()), "type": "view", "product_id": shown}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    after = client.get("/api/recommendations/", {"n": 12}).json()
    assert shown not in [item["product"]["id"] for item in after["items"]]


def test_a_revoked_api_key_is_refused_on_the_next_request(api_client, tiny_shop, api_key) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.tracking.models import ApiKey
    from dragonrec.tracking.services import api_key_revoke

    raw = api_key(["recommendations:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    # given a key this process has kept and confirmed (its first two requests)
    for _ in range(3):
        assert api_client.get("/api/recommendations/", {"session_id": "c-k"}).status_code == 200
    # when it is revoked, the very next request is refused, also by a web process that still holds the key (the
    # revoking process forgets its own; this one's memory is put back as another process would still have it)
    from dragonrec.tracking import authentication

    elsewhere = dict(authentication._verified)
    api_key_revoke(key=ApiKey.objects.get(prefix=raw.split("_")[1]))
    authentication._verified.update(elsewhere)
    assert api_client.get("/api/recommendations/", {"session_id": "c-k"}).status_code == 401


def test_a_retired_cookie_id_gets_a_fresh_shopper_on_the_next_request(api_client, tiny_shop, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.tracking.identity import cookie_settings, shopper_id_retire

    client = shopper_cookie(api_client, "c-retire-me")
    # given a cookie id this process has found live (and kept)
    for _ in range(2):
        response = client.get("/api/recommendations/")
        assert response.status_code == 200
        assert cookie_settings()["NAME"] not in response.cookies  # its own id: nothing new to set
    # when the id is retired (a sign-in elsewhere: another process, whose memory of live ids is put back), the next
    # request gets a new id
    from dragonrec.tracking import identity

    elsewhere = dict(identity._live)
    shopper_id_retire(session_id="c-retire-me")
    identity._live.update(elsewhere)
    response = client.get("/api/recommendations/")
    assert response.status_code == 200
    assert cookie_settings()["NAME"] in response.cookies
