"""The OpenAPI schema: drf-spectacular's inspector plus the error answers every operation documents. Apart from
config/api.py because drf-spectacular imports DRF's settings, which import the parser defined there."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer[Any]):
    """`{"<field>": ["message", ...]}` per invalid field, or `{"detail": "..."}` for a body that is not valid as a
    whole."""

    detail = serializers.CharField(required=False)


class DragonRecAutoSchema(AutoSchema):
    """drf-spectacular's inspector, plus the error answers every operation can give (docs/api.md, "Errors and
    limits"), so generated clients and schema-driven tests know them: 400 for operations that take input, 413 for
    those with a body, 429 with Retry-After for throttled scopes, 403 where a permission is required, 404 where the
    path names an object."""

    def get_auth(self) -> list[dict[str, Any]]:
        """Browsers may call the shopper endpoints anonymously (their signed cookie says who they are); an API key
        is one option among others there, not a requirement: `{}` in the list says so."""
        from dragonrec.tracking.authentication import ApiKeyScopes

        auth: list[dict[str, Any]] = super().get_auth()
        if (
            any(isinstance(p, (ApiKeyScopes, permissions.AllowAny)) for p in self.view.get_permissions())
            and {} not in auth
        ):
            auth.append({})
        return auth

    def _get_request_body(self, direction: str = "request") -> dict[str, Any] | None:
        """A view lists in `body_required` the methods whose body must be there even when none of its fields is
        (drf-spectacular marks a body required only when a field is)."""
        body: dict[str, Any] | None = super()._get_request_body(direction)
        if body is not None and self.method in getattr(self.view, "body_required", ()):
            body["required"] = True
        return body

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction=direction)  # type: ignore[arg-type]
        takes_body = self.method in ("POST", "PUT", "PATCH")
        errors: dict[str, tuple[type[serializers.Serializer[Any]], str]] = {}
        if takes_body or self._get_parameters() or self.method == "GET":
            errors["400"] = (ValidationErrorSerializer, "Invalid input; the offending fields are named.")
        if any(not isinstance(p, permissions.AllowAny) for p in self.view.get_permissions()):
            errors["403"] = (ErrorSerializer, "Not signed in, or not allowed.")
        elif self.method in ("POST", "PUT", "PATCH", "DELETE"):
            # Django's CSRF check on writes from a session (sign-in and sign-out always, other writes when signed in)
            errors["403"] = (ErrorSerializer, "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken.")
        if "{" in self.path:
            errors["404"] = (ErrorSerializer, "No such object.")
        elif self.method == "GET" and self._is_list_view() and self._get_paginator() is not None:
            errors["404"] = (ErrorSerializer, "A page past the last one.")
        elif any(p.get("name", "").endswith("_id") and p.get("in") == "query" for p in self._get_parameters()):
            errors["404"] = (ErrorSerializer, "The object a `..._id` parameter names does not exist.")
        api_key = any(type(a).__name__ == "ApiKeyAuthentication" for a in self.view.get_authenticators())
        if api_key:
            errors["401"] = (ErrorSerializer, "A bad or revoked API key.")
        if takes_body:
            errors["413"] = (ErrorSerializer, "Request body over DRAGONREC_MAX_BODY_BYTES (1 MB by default).")
        if getattr(self.view, "throttle_scope", None):
            errors["429"] = (ErrorSerializer, "Over a rate limit; Retry-After says when to come back.")
        elif api_key:
            # too many wrong API keys from this address (django-axes): every API-key request meets it for a while
            errors["429"] = (ErrorSerializer, "Too many failed API keys from this address; see Retry-After.")
        if self.method == "GET" and self._get_parameters():
            # gunicorn answers a request line over `limit_request_line` (4094 bytes) itself, in HTML, before the
            # app sees it: documented without a body so clients expect the status and read nothing into its content
            responses.setdefault("414", {"description": "URL longer than the server accepts (4094 bytes by default)."})
        for code, (serializer, description) in errors.items():
            if code not in responses:
                response = self._get_response_for_code(serializer, code, direction=direction)
                response["description"] = description
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
                    }
                responses[code] = response
        return responses


# What `pattern` every free-text string of the schema carries: PostgreSQL cannot store U+0000, so the API answers
# 400 for a NUL in any text it takes (dragonrec.tracking.validation). Saying so in the schema keeps it true: a
# client generator or a fuzzer then knows such a string is invalid input, not a valid one the server rejects.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def text_without_nul(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: `pattern` NO_NUL_PATTERN on every string schema that has no format,
    enum or pattern of its own (those already exclude a NUL)."""
    stack: list[Any] = [result.get("components", {}), result.get("paths", {})]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "string" and not {"format", "enum", "pattern"} & node.keys():
                node["pattern"] = NO_NUL_PATTERN
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return result
