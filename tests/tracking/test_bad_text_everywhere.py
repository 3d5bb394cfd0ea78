"""A NUL or a lone UTF-16 surrogate (valid JSON, but not text PostgreSQL can store) is a clear 400 naming the
field, on every endpoint that takes text: never a 500. Events are checked per item (test_event_input_hardening)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event, UserPreference
from dragonrec.tracking.services import api_key_create

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "a\u0000b", "a\ud800b"
WHY = {NUL: "Null characters are not allowed.", SURROGATE: "Surrogate characters are not allowed: U+D800."}
BAD = pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])


def send(client: APIClient, method: str, url: str, body: Any, **headers: str):  # type: ignore[no-untyped-def]
    """The body as JSON with ASCII escapes: a lone surrogate only exists on the wire as the escape "\\ud800"."""
    data = json.dumps(body, ensure_ascii=True)
    return getattr(client, method)(url, data=data, content_type="application/json", **headers)


@BAD
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"categories": ["{bad}"]}, "categories"),
        ({"brands": ["ok", "{bad}"]}, "brands"),
        ({"session_id": "{bad}"}, "session_id"),
    ],
)
def test_preferences(bad: str, body: dict[str, Any], field: str) -> None:
    client = APIClient()
    filled = json.loads(json.dumps(body).replace("{bad}", json.dumps(bad)[1:-1]))
    response = send(client, "put", "/api/preferences/", filled)
    assert response.status_code == 400
    assert WHY[bad] in json.dumps(response.json()[field], ensure_ascii=False)
    assert not UserPreference.objects.exists()


@BAD
@pytest.mark.parametrize("field", ["username", "password"])
def test_login_names_the_field(bad: str, field: str) -> None:
    get_user_model().objects.create_user("bob", password="pw-bob-123")
    body = {"username": "bob", "password": "pw-bob-123", field: bad}
    response = send(APIClient(), "post", "/api/auth/login/", body)
    assert response.status_code == 400 and response.json() == {"detail": f"{field}: {WHY[bad]}"}


@BAD
def test_session_merge(bad: str) -> None:
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("eve", password="pw-eve-123"))
    response = send(client, "post", "/api/sessions/merge/", {"session_id": bad})
    assert response.status_code == 400 and response.json() == {"session_id": [WHY[bad]]}


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/products/", "search"),
        ("/api/products/", "category"),
        ("/api/products/", "brand"),
        ("/api/recommendations/", "session_id"),
        ("/api/preferences/", "session_id"),  # was read unchecked: a 500 (found by bench/schema_fuzz.py)
    ],
)
def test_query_parameters(url: str, param: str) -> None:
    # a NUL arrives in a query string as %00; a lone surrogate cannot (its UTF-8 bytes are invalid and Django
    # decodes them to U+FFFD, which is ordinary text)
    key = api_key_create(name="shop", scopes=["recommendations:read", "preferences:write"])[1]
    response = APIClient().get(url, {param: NUL}, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 400 and response.json() == {param: [WHY[NUL]]}
    invalid_utf8 = APIClient().get(f"{url}?{param}=%ED%A0%80", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert invalid_utf8.status_code in (200, 403)  # served (no such product/category), or not this browser's id


@BAD
def test_an_integrations_event_with_a_bad_session_id_is_an_item_error(bad: str) -> None:
    product = ProductFactory()
    key = api_key_create(name="shop", scopes=["events:write"])[1]
    good = {"id": str(uuid.uuid4()), "type": "view", "product_id": product.id, "session_id": "s-ok"}
    wrong = {**good, "id": str(uuid.uuid4()), "session_id": bad}
    response = send(APIClient(), "post", "/api/events/", {"events": [wrong, good]}, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["rejected", "accepted"] and response.json()["results"][0]["error"].startswith("session_id:")
    assert list(Event.objects.values_list("session_id", flat=True)) == ["s-ok"]


def test_the_schema_says_text_cannot_hold_a_nul(api_client) -> None:  # type: ignore[no-untyped-def]
    # so a client generator or a fuzzer knows a NUL is invalid input, not valid input the server refuses
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    search = next(p for p in schema["paths"]["/api/products/"]["get"]["parameters"] if p["name"] == "search")
    pattern = re.compile(search["schema"]["pattern"])
    assert pattern.search("monitor 27") and not pattern.search("moni\u0000tor")
    login = schema["components"]["schemas"]["LoginInput"]["properties"]["username"]
    assert login["pattern"] == search["schema"]["pattern"]
