"""Issue #21, reproductions 6 and 9: wrong passwords (storefront and admin sign-in) and wrong API keys are limited
by django-axes, per username and address (passwords) or per address (API keys). A locked-out client is refused
before its password is hashed or its key looked up, a correct password included, until the cool-off passes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
LOGIN = "/api/auth/login/"
PASSWORD = "pw-bob-4711"
LIMIT = 10  # AXES_FAILURE_LIMIT in config/settings/base.py


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher, counting how often a password is actually checked."""

    algorithm = "counting_md5"
    verified: ClassVar[list[str]] = []

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.verified.append(password)
        return super().verify(password, encoded)


@pytest.fixture
def counting_hasher(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.verified.clear()
    return CountingHasher.verified


def sign_in(client: APIClient, password: str, *, address: str = "203.0.113.7", username: str = "bob") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


def test_the_eleventh_wrong_password_is_refused_and_a_right_one_does_not_sign_in_while_locked(counting_hasher) -> None:  # type: ignore[no-untyped-def]
    # given
    get_user_model().objects.create_user("bob", password=PASSWORD)
    client = APIClient()
    # when: ten wrong passwords from one address
    answers = [sign_in(client, f"wrong-{n}") for n in range(LIMIT)]
    # then: nine are "wrong", the tenth locks that username at that address; from then on nothing is checked
    assert [a.status_code for a in answers] == [400] * (LIMIT - 1) + [429]
    assert len(counting_hasher) == LIMIT
    eleventh = sign_in(client, "wrong-again")
    assert eleventh.status_code == 429 and int(eleventh["Retry-After"]) > 0
    assert "Too many failed sign-ins" in eleventh.json()["detail"]
    right = sign_in(client, PASSWORD)
    assert right.status_code == 429 and len(counting_hasher) == LIMIT  # refused before the hasher ran
    assert client.get("/api/auth/session/").json() == {"user": None}
    # the same username from another address, and another username from this one, are not locked
    assert sign_in(APIClient(), PASSWORD, address="198.51.100.9").status_code == 200
    get_user_model().objects.create_user("ann", password="pw-ann-0815")
    assert sign_in(APIClient(), "pw-ann-0815", username="ann").status_code == 200


def test_after_the_cool_off_the_right_password_signs_in_and_clears_the_count() -> None:
    get_user_model().objects.create_user("bob", password=PASSWORD)
    client = APIClient()
    for n in range(LIMIT):
        sign_in(client, f"wrong-{n}")
    assert sign_in(client, PASSWORD).status_code == 429
    # when: the cool-off has passed since the last try
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    # then
    assert sign_in(client, PASSWORD).status_code == 200
    assert not AccessAttempt.objects.exists()


def test_the_admin_login_form_locks_out_too() -> None:
    get_user_model().objects.create_user("boss", password=PASSWORD, is_staff=True, is_superuser=True)
    client = APIClient()
    form = {"username": "boss", "password": "wrong", "next": "/admin/"}
    answers = [client.post("/admin/login/?next=/admin/", form).status_code for _ in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429]  # the form again with its error, then the lockout
    # when: the right password
    right = client.post("/admin/login/?next=/admin/", {**form, "password": PASSWORD})
    # then: a clear message, and not signed in
    assert right.status_code == 429
    assert "Too many failed sign-ins for this username from this address" in right.content.decode()
    assert client.get("/admin/").status_code == 302  # to the login page


def test_wrong_api_keys_meet_a_429_per_address(api_key) -> None:  # type: ignore[no-untyped-def]
    good = api_key(["recommendations:read"])
    prefix = good.split("_")[1]

    def call(key: str, address: str = "203.0.113.7") -> Any:
        return APIClient().get("/api/recommendations/", HTTP_AUTHORIZATION=f"Api-Key {key}", REMOTE_ADDR=address)

    # when: wrong keys (a wrong secret for a real prefix, and made-up keys) from one address
    answers = [call(f"drk_{prefix}_wrong{n}" if n % 2 else f"drk_nope_{n}").status_code for n in range(LIMIT)]
    # then: refused as wrong until the limit, then 429, for the right key from there too
    assert answers == [401] * (LIMIT - 1) + [429]
    locked = call(good)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "Too many failed API-key attempts from this address" in locked.json()["detail"]
    # another address with the right key is served
    assert call(good, address="198.51.100.9").status_code == 200
