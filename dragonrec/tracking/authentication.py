"""API keys for server integrations: `Authorization: Api-Key <key>` (DRF authentication) and scope checks."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from dragonrec.tracking.services import api_key_authenticate

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a shop's backend. `request.user` stays anonymous (an integration is not a shopper);
    `request.auth` is the `ApiKey`, which is what lets the request name any `session_id`."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, raw = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None  # not ours: session or basic authentication may still apply
        key = api_key_authenticate(raw=raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        return AnonymousUser(), key

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD  # a 401, not a 403, for a bad key: the caller should fix its credentials


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the key in the OpenAPI schema (registered by subclassing)."""

    target_class = "dragonrec.tracking.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Server integrations: `Api-Key drk_<prefix>_<secret>`",
        }


class ApiKeyScopes(permissions.BasePermission):
    """An API-key request must hold the scope the view names for its method (`required_scopes`); browser
    requests are unaffected (what they may do is decided by the cookie and the signed-in user)."""

    message = "this API key lacks the scope this endpoint needs"

    def has_permission(self, request: Any, view: Any) -> bool:
        from dragonrec.tracking.identity import integration_key

        key = integration_key(request)
        if key is None:
            return True
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None:
            self.message = "API keys cannot use this endpoint"
            return False
        if needed not in key.scopes:
            self.message = f"this API key lacks the '{needed}' scope"
            return False
        return True
