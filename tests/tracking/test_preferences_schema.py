"""Issue #21, reproduction 11: with an API key, GET/PUT /api/preferences/ without `session_id` answer a 400 that
the OpenAPI schema describes (field, message and why), so a schema-driven client or fuzzer expects it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
URL = "/api/preferences/"


@pytest.mark.parametrize("method", ["get", "put"])
def test_an_api_key_without_session_id_gets_the_400_its_schema_describes(api_key, method) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['preferences:write'])}")
    schema: dict[str, Any] = client.get("/api/schema/", {"format": "json"}).json()
    # when
    if method == "get":
        response = client.get(URL)
    else:
        response = client.put(URL, {"categories": ["Home > Kitchen"]}, format="json")
    # then: the answer...
    assert response.status_code == 400 and response.json() == {"session_id": ["required with an API key"]}
    # ...is the one the schema describes for this operation
    described = schema["paths"][URL][method]["responses"]["400"]
    assert "`session_id` missing with an API key" in described["description"]
    name = described["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = schema["components"]["schemas"][name]["properties"]
    assert properties["session_id"]["type"] == "array" and properties["session_id"]["items"]["type"] == "string"
    parameters = schema["paths"][URL]["get"]["parameters"]
    assert any(p["name"] == "session_id" and "Required with an API key" in p["description"] for p in parameters)
    # and naming the shopper is accepted
    named = (
        client.get(URL, {"session_id": "shop-7"})
        if method == "get"
        else client.put(URL, {"categories": ["Home > Kitchen"], "session_id": "shop-7"}, format="json")
    )
    assert named.status_code == 200


def test_a_put_without_any_body_is_a_400_and_the_schema_requires_one(api_client) -> None:  # type: ignore[no-untyped-def]
    # given: a visitor with stated preferences
    assert api_client.put(URL, {"categories": ["Home > Kitchen"]}, format="json").status_code == 200
    schema: dict[str, Any] = api_client.get("/api/schema/", {"format": "json"}).json()
    # when: a PUT with no body at all
    response = api_client.put(URL)
    # then: refused, nothing cleared; the schema says a body is required (`{}` is the way to clear them)
    assert response.status_code == 400 and "a JSON body is required" in response.json()["detail"]
    assert api_client.get(URL).json()["categories"] == ["Home > Kitchen"]
    assert schema["paths"][URL]["put"]["requestBody"]["required"] is True
    assert api_client.put(URL, {}, format="json").json()["categories"] == []
