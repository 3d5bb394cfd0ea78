"""API keys of server integrations: create, revoke, authenticate."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from dragonrec.tracking.models import ApiKey

API_KEY_PREFIX = "drk"  # recognisable in a leaked config file or a secret scanner's rules


def _api_key_hash(secret: str) -> str:
    # a plain SHA-256 is enough: the secret is 256 random bits, not a password that could be guessed
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, name: str, scopes: Sequence[str]) -> tuple[ApiKey, str]:
    """A new key for a server integration; returns the row and the full key, which is never retrievable again."""
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}; expected some of {', '.join(ApiKey.Scope.values)}")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, hashed_key=_api_key_hash(secret), scopes=list(dict.fromkeys(scopes))
    )
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


LAST_USED_RESOLUTION = timedelta(minutes=5)  # one write per key per 5 minutes, not one per request


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """The active key `raw` is, or None (malformed, unknown, revoked)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_key, _api_key_hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
