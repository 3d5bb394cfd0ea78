"""Who a request acts for: the signed shopper cookie for browsers, API keys for a shop's backend, and the
storefront's sign-in endpoints."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.factories import EventFactory
from dragonrec.tracking.models import ApiKey, Event

pytestmark = pytest.mark.django_db
RECS = "/api/recommendations/"
COOKIE = "dragonrec_shopper"


def test_the_first_api_call_issues_a_signed_httponly_lax_cookie_and_later_calls_keep_it(api_client) -> None:  # type: ignore[no-untyped-def]
    first = api_client.get("/api/auth/session/")
    cookie = first.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert cookie["max-age"] == 365 * 24 * 3600
    assert ":" in cookie.value  # value:signature
    # the browser sends it back: no new id
    again = api_client.get(RECS)
    assert again.status_code == 200 and COOKIE not in again.cookies


def test_the_cookie_is_secure_under_https_and_configurable(settings) -> None:  # type: ignore[no-untyped-def]
    assert APIClient().get("/api/auth/session/", secure=True).cookies[COOKIE]["secure"]
    settings.DRAGONREC_SHOPPER_COOKIE = {"NAME": "shop_id", "MAX_AGE": 3600}
    response = APIClient().get("/api/auth/session/")
    assert response.cookies["shop_id"]["max-age"] == 3600 and COOKIE not in response.cookies


def test_a_tampered_cookie_is_replaced_with_a_fresh_id(api_client, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    EventFactory(session_id="s-victim", product=product)
    api_client.cookies[COOKIE] = "s-victim"  # unsigned: someone typed it in
    response = api_client.post(
        "/api/events/", {"id": str(uuid.uuid4()), "type": "view", "product_id": product.id}, format="json"
    )
    assert response.cookies[COOKIE].value.split(":")[0] != "s-victim"
    assert Event.objects.filter(session_id="s-victim").count() == 1


@pytest.mark.parametrize("named", ["s-other", ["s-other"], 7])
def test_events_naming_another_session_are_refused_whole(api_client, named) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory()
    body = {"events": [{"id": str(uuid.uuid4()), "type": "view", "product_id": product.id, "session_id": named}]}
    response = api_client.post("/api/events/", body, format="json")
    assert response.status_code == 403 and "session_id" in response.json()["detail"]
    assert not Event.objects.exists()


def test_preferences_of_another_session_are_a_403(api_client) -> None:  # type: ignore[no-untyped-def]
    assert api_client.get("/api/preferences/", {"session_id": "s-other"}).status_code == 403
    put = api_client.put("/api/preferences/", {"categories": ["X"], "session_id": "s-other"}, format="json")
    assert put.status_code == 403


def test_api_keys_are_scoped_hashed_and_revocable(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    raw = api_key(["recommendations:read"])
    stored = ApiKey.objects.get()
    assert raw not in {stored.hashed_key, stored.prefix} and raw.split("_", 2)[2] not in stored.hashed_key
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(RECS, {"session_id": "shop-1"}).status_code == 200
    # a scope it lacks
    denied = api_client.post("/api/events/", {"events": [{"id": str(uuid.uuid4())}]}, format="json")
    assert denied.status_code == 403 and "events:write" in denied.json()["detail"]
    # an endpoint no key may use
    assert api_client.get("/api/me/data/").status_code == 403
    # revoked, or a wrong secret: 401
    call_command("tracking_apikey", "revoke", stored.prefix, stdout=_Null())
    assert api_client.get(RECS).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw[:-2]}xx")
    assert api_client.get(RECS).status_code == 401


def test_the_management_command_prints_a_new_key_once(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("tracking_apikey", "create", "shop", "--scopes", "recommendations:read")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("drk_") and ApiKey.objects.get().scopes == ["recommendations:read"]
    response = APIClient().get(RECS, HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 200


def test_sign_in_and_out_for_the_storefront() -> None:
    # the storefront's client enforces CSRF like a browser
    client = APIClient(enforce_csrf_checks=True)
    get_user_model().objects.create_user("gus", password="pw-gus-123")
    session = client.get("/api/auth/session/")
    assert session.json() == {"user": None} and "csrftoken" in session.cookies
    # without the X-CSRFToken header: refused
    creds = {"username": "gus", "password": "pw-gus-123"}
    assert client.post("/api/auth/login/", creds, format="json").status_code == 403
    token = client.cookies["csrftoken"].value
    wrong = client.post("/api/auth/login/", {**creds, "password": "nope"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert wrong.status_code == 400 and wrong.json() == {"detail": "wrong username or password"}
    ok = client.post("/api/auth/login/", creds, format="json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200 and ok.json()["user"]["username"] == "gus"
    assert client.get("/api/auth/session/").json()["user"]["username"] == "gus"
    # sign-in rotates the CSRF token; sign-out with the new one gives the browser a new shopper id
    shopper_before = client.cookies[COOKIE].value
    out = client.post("/api/auth/logout/", format="json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert out.status_code == 200 and out.json() == {"user": None}
    assert client.cookies[COOKIE].value != shopper_before
    assert client.get("/api/auth/session/").json() == {"user": None}


class _Null:
    def write(self, *_: object) -> None:
        pass

    def flush(self) -> None:
        pass
