"""Issue #21, reproduction 1: a copy of a browser's cookie jar taken before its owner signs in must not read, erase or
add to the account's data, by any path into the account (storefront login, admin login, sign-out, the merge
endpoint); anonymous export and erasure reach only rows that belong to no user."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.tracking.models import Event, RetiredShopperId

pytestmark = pytest.mark.django_db
ME = "/api/me/data/"
RECS = "/api/recommendations/"
COOKIE = "dragonrec_shopper"
PASSWORD = "pw-bob-4711"


def copy_jar(client: APIClient) -> APIClient:
    """Another browser holding the same cookies (shopper id, Django session, CSRF token) as `client` now."""
    copy = APIClient()
    for name, morsel in client.cookies.items():
        copy.cookies[name] = morsel.value
    return copy


def track(client: APIClient, product_id: int, kind: str = "view", **extra: object) -> str:
    event = {"id": str(uuid.uuid4()), "type": kind, "product_id": product_id, **extra}
    response = client.post("/api/events/", {"events": [event]}, format="json")
    assert response.json()["results"][0]["status"] == "accepted"
    return event["id"]


def shopper_id(client: APIClient) -> str:
    return client.cookies[COOKIE].value.split(":")[0]


def bob(**extra: object):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("bob", password=PASSWORD, **extra)


def assert_copy_gets_nothing(copy: APIClient, user) -> None:  # type: ignore[no-untyped-def]
    """The copy sees an empty anonymous shopper, is nobody signed in, and its erasure leaves the account whole."""
    events, lists = Event.objects.filter(user=user).count(), ServedList.objects.filter(user=user).count()
    assert events > 0
    held = shopper_id(copy)
    first = copy.get("/api/auth/session/")
    assert first.json()["user"] is None
    assert shopper_id(copy) != held  # the copied id is dead: the copy was handed a fresh, empty one
    data = copy.get(ME).json()
    assert data["user_id"] is None and data["events"] == [] and data["impressions"] == []
    erased = copy.delete(ME).json()["erased"]
    assert erased["events"] == 0 and erased["impressions"] == 0
    assert Event.objects.filter(user=user).count() == events
    assert ServedList.objects.filter(user=user).count() == lists


def test_a_cookie_copied_before_storefront_sign_in_gets_nothing_of_the_account(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: bob browses anonymously, and someone copies his cookie jar
    user = bob()
    browser = APIClient()
    track(browser, tiny_shop["monitor"].id)
    before = shopper_id(browser)
    copy = copy_jar(browser)
    # when: bob signs in on the storefront, is served a list and buys
    signed = browser.post("/api/auth/login/", {"username": "bob", "password": PASSWORD}, format="json")
    assert signed.status_code == 200
    browser.get(RECS, {"n": 3})
    track(browser, tiny_shop["kettle"].id, "purchase", value="19.90")
    impressions_flush()
    # then: his pre-sign-in view became his, the browser got a new id, and the old one is dead
    assert shopper_id(browser) != before and RetiredShopperId.objects.filter(session_id=before).exists()
    assert sorted(Event.objects.filter(user=user).values_list("type", flat=True)) == ["purchase", "view"]
    assert ServedList.objects.filter(user=user).count() == 1
    assert_copy_gets_nothing(copy, user)
    # and what the copy records later stays its own, even when bob signs out and in again
    track(copy, tiny_shop["cable"].id)
    browser.post("/api/auth/logout/", format="json")
    assert browser.post("/api/auth/login/", {"username": "bob", "password": PASSWORD}, format="json").status_code == 200
    assert not Event.objects.filter(user=user, product=tiny_shop["cable"]).exists()
    assert [e["product_id"] for e in copy.get(ME).json()["events"]] == [tiny_shop["cable"].id]


def test_a_cookie_copied_before_admin_sign_in_gets_nothing_of_the_account(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: a member of staff browses the shop, and someone copies the cookie jar
    user = bob(is_staff=True)
    browser = APIClient()
    track(browser, tiny_shop["monitor"].id)
    before = shopper_id(browser)
    copy = copy_jar(browser)
    # when: they sign in through the admin's login form, then shop while signed in
    signed = browser.post("/admin/login/?next=/admin/", {"username": "bob", "password": PASSWORD, "next": "/admin/"})
    assert signed.status_code == 302 and signed["Location"] == "/admin/"
    track(browser, tiny_shop["kettle"].id, "purchase", value="19.90")
    # then: the old id is dead (the browser was given a new one on its next call) and the copy gets nothing
    assert shopper_id(browser) != before and RetiredShopperId.objects.filter(session_id=before).exists()
    assert Event.objects.filter(user=user).count() == 2
    assert_copy_gets_nothing(copy, user)


def test_a_cookie_copied_while_signed_in_is_dead_after_sign_out(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: bob signed in and shopping; a copy of his cookies is taken now
    user = bob()
    browser = APIClient()
    browser.post("/api/auth/login/", {"username": "bob", "password": PASSWORD}, format="json")
    track(browser, tiny_shop["kettle"].id, "purchase", value="19.90")
    browser.get(RECS, {"n": 3})
    impressions_flush()
    signed_in_id = shopper_id(browser)
    copy = copy_jar(browser)
    # when: bob signs out
    assert browser.post("/api/auth/logout/", format="json").status_code == 200
    # then: neither the copied Django session nor the copied shopper id acts for bob any more
    assert shopper_id(browser) != signed_in_id and RetiredShopperId.objects.filter(session_id=signed_in_id).exists()
    assert_copy_gets_nothing(copy, user)


def test_the_merge_endpoint_merges_only_the_callers_live_cookie_and_retires_it(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: bob's pre-sign-in cookie was copied; bob signs in (which merges and retires it)
    user = bob()
    mallory = get_user_model().objects.create_user("mallory", password="pw-mallory-1")
    browser = APIClient()
    track(browser, tiny_shop["monitor"].id)
    before = shopper_id(browser)
    copy = copy_jar(browser)
    browser.post("/api/auth/login/", {"username": "bob", "password": PASSWORD}, format="json")
    # when: mallory signs in on the copy and asks to merge it, by cookie and by naming the old id
    mallory_in = copy.post("/api/auth/login/", {"username": "mallory", "password": "pw-mallory-1"}, format="json")
    assert mallory_in.status_code == 200
    assert copy.post("/api/sessions/merge/", {}, format="json").json() == {"merged": 0}
    assert copy.post("/api/sessions/merge/", {"session_id": before}, format="json").status_code == 403
    # then: nothing of bob's moved
    assert not Event.objects.filter(user=mallory).exists() and Event.objects.filter(user=user).count() == 1
    # and the endpoint itself retires what it merged: the browser's id changes, the merged id is dead
    signed_in_id = shopper_id(browser)
    assert browser.post("/api/sessions/merge/", {}, format="json").json() == {"merged": 0}
    assert shopper_id(browser) != signed_in_id and RetiredShopperId.objects.filter(session_id=signed_in_id).exists()


def test_anonymous_export_and_erasure_reach_only_rows_without_a_user(tiny_shop, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    # given: one browser id under which bob was served and shopped signed in, and anonymous events
    user = bob()
    signed = shopper_cookie(APIClient(), "c-shared")
    signed.force_login(user)
    track(signed, tiny_shop["kettle"].id, "purchase", value="19.90")
    signed.get(RECS, {"n": 3})
    anonymous = shopper_cookie(APIClient(), "c-shared")
    track(anonymous, tiny_shop["monitor"].id)
    impressions_flush()
    assert Event.objects.filter(session_id="c-shared").count() == 2
    assert ServedList.objects.filter(session_id="c-shared", user=user).count() == 1
    # when / then: the anonymous holder of the id sees and erases its own row only
    data = anonymous.get(ME).json()
    assert [e["type"] for e in data["events"]] == ["view"] and data["impressions"] == []
    assert anonymous.delete(ME).json()["erased"]["events"] == 1
    assert Event.objects.filter(user=user).count() == 1
    assert ServedList.objects.filter(user=user).count() == 1
