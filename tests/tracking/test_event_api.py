from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.factories import EventFactory
from dragonrec.tracking.models import Event, UserPreference
from dragonrec.tracking.selectors import history_recent

pytestmark = pytest.mark.django_db
URL = "/api/events/"


def event(product_id: int | None, **extra: object) -> dict[str, object]:
    """An event as the storefront sends it: no session_id, the shopper cookie says who."""
    return {"id": str(uuid.uuid4()), "type": "view", "product_id": product_id, **extra}


@pytest.fixture
def product():  # type: ignore[no-untyped-def]
    return ProductFactory()


def post(api_client, body):  # type: ignore[no-untyped-def]
    return api_client.post(URL, body, format="json")


def test_batch_of_good_events_is_stored(api_client, product) -> None:  # type: ignore[no-untyped-def]
    an_hour_ago = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    body = {"events": [event(product.id), event(product.id, type="add_to_cart", timestamp=an_hour_ago.isoformat())]}
    response = post(api_client, body)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]
    assert Event.objects.count() == 2
    stored = Event.objects.get(id=body["events"][1]["id"])
    # owned by the anonymous id DragonRec issued in the shopper cookie of this very response
    assert stored.type == "add_to_cart" and stored.timestamp == an_hour_ago
    assert stored.session_id.startswith("c-") and "dragonrec_shopper" in response.cookies


def test_a_single_event_object_is_accepted(api_client, product) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client, event(product.id))
    assert response.json()["results"][0]["status"] == "accepted"


def test_replayed_id_is_a_duplicate_never_a_second_row(api_client, product) -> None:  # type: ignore[no-untyped-def]
    item = event(product.id)
    post(api_client, {"events": [item]})
    response = post(api_client, {"events": [item, item]})
    assert [r["status"] for r in response.json()["results"]] == ["duplicate", "duplicate"]
    assert Event.objects.count() == 1


def test_mixed_batch_stores_the_valid_items_and_explains_the_rest(api_client, product) -> None:  # type: ignore[no-untyped-def]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    items = [
        event(product.id),
        event(999_999),
        event(product.id, type="teleport"),
        event(product.id, timestamp=future),
        {"type": "view", "product_id": product.id},
        event(product.id, quantity=0),
        "not an object",
        event(product.id, type="purchase", quantity=2),
    ]
    response = post(api_client, {"events": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
    ]
    assert "unknown product 999999" in results[1]["error"]
    assert "unknown event type 'teleport'" in results[2]["error"]
    assert "in the future" in results[3]["error"]
    assert results[4]["error"].startswith("id:")
    assert results[5]["error"].startswith("quantity:")
    assert Event.objects.count() == 2


@pytest.mark.parametrize(
    "body, message",
    [
        ({"events": "nope"}, "expected a JSON object"),
        ({"events": []}, "empty"),
        ({"events": [{"id": str(uuid.uuid4())}] * 501}, "at most 500"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_malformed_or_oversize_body_is_a_400(api_client, body, message) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client, body)
    assert response.status_code == 400
    assert message in str(response.json())
    assert Event.objects.count() == 0


def test_invalid_json_is_a_400(api_client) -> None:  # type: ignore[no-untyped-def]
    response = api_client.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400


def test_signed_in_user_owns_events(api_client, product) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("ann", password="pw-ann-123")
    api_client.force_authenticate(user)
    response = post(api_client, {"events": [event(product.id)]})
    assert response.json()["results"][0]["status"] == "accepted"
    assert Event.objects.get().user == user


def test_an_integration_must_name_the_session_of_each_event(api_client, product, api_key) -> None:  # type: ignore[no-untyped-def]
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['events:write'])}")
    results = post(api_client, {"events": [event(product.id, session_id="shop-42"), event(product.id)]}).json()
    assert [r["status"] for r in results["results"]] == ["accepted", "rejected"]
    assert "session_id is required" in results["results"][1]["error"]
    assert Event.objects.get().session_id == "shop-42"


def test_anonymous_history_is_merged_on_login_without_duplicates(api_client, product) -> None:  # type: ignore[no-untyped-def]
    # given: a browser with two anonymous events and a user with one of their own
    user = get_user_model().objects.create_user("bob", password="pw-bob-123", is_staff=True)
    post(api_client, {"events": [event(product.id, timestamp=(timezone.now() - timedelta(minutes=5)).isoformat())]})
    post(api_client, {"events": [event(product.id, type="add_to_cart")]})
    session_id = Event.objects.values_list("session_id", flat=True).first()
    EventFactory(product=product, user=user, session_id="")
    # when: the user signs in at that browser (twice: a repeated sign-in must not duplicate anything)
    for _ in range(2):
        response = api_client.post("/api/auth/login/", {"username": "bob", "password": "pw-bob-123"}, format="json")
        assert response.status_code == 200 and response.json() == {"user": {"id": user.id, "username": "bob"}}
    # then
    assert Event.objects.count() == 3
    assert Event.objects.filter(user=user).count() == 3
    assert sorted(t for _, t, _ in history_recent(user_id=user.id)) == ["add_to_cart", "view", "view"]
    assert history_recent(session_id=session_id) == []


def test_login_merges_only_the_signed_cookie_never_a_header_or_plain_cookie(client, product) -> None:  # type: ignore[no-untyped-def]
    get_user_model().objects.create_user("eve", password="pw-eve-123", is_staff=True)
    EventFactory(product=product, session_id="s-victim")
    client.cookies["dragonrec_session"] = "s-victim"
    client.cookies["dragonrec_shopper"] = "s-victim"  # unsigned: not ours
    client.post("/admin/login/", {"username": "eve", "password": "pw-eve-123"}, HTTP_X_SESSION_ID="s-victim")
    assert history_recent(session_id="s-victim") != []  # the victim's history stays theirs
    assert not Event.objects.filter(user__isnull=False).exists()


def test_session_merge_api_merges_only_the_callers_own_cookie(api_client, product) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("cy", password="pw-cy-1234")
    EventFactory(product=product, session_id="s-9")
    post(api_client, {"events": [event(product.id)]})
    api_client.force_authenticate(user)
    refused = api_client.post("/api/sessions/merge/", {"session_id": "s-9"}, format="json")
    assert refused.status_code == 403 and "does not match" in refused.json()["detail"]
    assert api_client.post("/api/sessions/merge/", {}, format="json").json() == {"merged": 1}
    assert api_client.post("/api/sessions/merge/", {}, format="json").json() == {"merged": 0}
    assert Event.objects.get(session_id="s-9").user is None


def test_history_selector_is_one_query_oldest_first(product, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    for minutes, kind in [(30, "view"), (20, "add_to_cart"), (10, "purchase")]:
        EventFactory(product=product, session_id="s-h", type=kind, timestamp=now - timedelta(minutes=minutes))
    with django_assert_num_queries(1):
        rows = history_recent(session_id="s-h", limit=2)
    assert [t for _, t, _ in rows] == ["add_to_cart", "purchase"]


def test_preferences_api(api_client) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("dee", password="pw-dee-123")
    api_client.force_authenticate(user)
    body = {"categories": ["Electronics > Mice"], "brands": ["Lumora"], "price_min": "10", "price_max": "50"}
    assert api_client.put("/api/preferences/", body, format="json").status_code == 200
    got = api_client.get("/api/preferences/").json()
    assert got["categories"] == ["Electronics > Mice"] and got["price_max"] == "50.00"
    bad = api_client.put("/api/preferences/", {**body, "price_min": "60"}, format="json")
    assert bad.status_code == 400 and "price_max" in bad.json()


def test_an_anonymous_visitor_states_preferences_and_keeps_them_at_sign_in(api_client) -> None:  # type: ignore[no-untyped-def]
    # given: an anonymous visitor (only the shopper cookie) states a taste
    assert api_client.get("/api/preferences/").json()["categories"] == []
    body = {"categories": ["Home > Kitchen"], "brands": ["Brewmaster"], "price_max": "80"}
    assert api_client.put("/api/preferences/", body, format="json").status_code == 200
    assert api_client.get("/api/preferences/").json()["brands"] == ["Brewmaster"]
    # another browser does not see it
    from rest_framework.test import APIClient

    assert APIClient().get("/api/preferences/").json()["brands"] == []
    # when: they sign in to an account that already had preferences
    user = get_user_model().objects.create_user("fay", password="pw-fay-123")
    UserPreference.objects.create(user=user, categories=["Electronics > Mice"], brands=["Lumora"])
    api_client.post("/api/auth/login/", {"username": "fay", "password": "pw-fay-123"}, format="json")
    # then: the account holds both, what the visitor just said first
    got = api_client.get("/api/preferences/").json()
    assert got["categories"] == ["Home > Kitchen", "Electronics > Mice"] and got["price_max"] == "80.00"
    assert not UserPreference.objects.filter(user__isnull=True).exists()


def test_a_seen_list_is_an_impression_event_without_a_product(api_client, product) -> None:  # type: ignore[no-untyped-def]
    request_id = str(uuid.uuid4())
    seen = {"id": str(uuid.uuid4()), "type": "impression", "context": {"request_id": request_id, "list": "home"}}
    nameless = {"id": str(uuid.uuid4()), "type": "impression", "context": {"list": "home"}}
    bare_view = {"id": str(uuid.uuid4()), "type": "view"}  # no product_id at all: an item error, never a 500
    response = post(api_client, {"events": [seen, nameless, bare_view]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected"]
    assert "request_id" in results[1]["error"] and "product_id is required" in results[2]["error"]
    stored = Event.objects.get(id=seen["id"])
    assert stored.product_id is None and stored.context["request_id"] == request_id
    assert not history_recent(session_id=stored.session_id, limit=10)  # lists seen are not browsing history
