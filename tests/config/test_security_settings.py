"""Production settings refuse unsafe configurations and pass `check --deploy`; the API takes no passwords."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(64)


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": STRONG_KEY,
        # never connected to by `check --deploy`: the settings only have to name them
        "DATABASE_URL": "postgres://dragonrec:pw@db.internal:5432/dragonrec",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def setting(env: dict[str, str], name: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "key",
    ["change-me", "dev-only-insecure-key-change-me", "django-insecure-" + "x" * 60, "short-but-random-8f3k", "a" * 64],
)
def test_a_weak_or_example_secret_key_is_refused(key: str) -> None:
    result = manage(production_env(DJANGO_SECRET_KEY=key), "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is weak or an example value" in result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_environment(missing: str) -> None:
    result = manage(production_env(**{missing: ""}), "check")
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_https_settings_and_the_proxy_switch() -> None:
    env = production_env()
    assert setting(env, "SECURE_SSL_REDIRECT") == "True"
    assert setting(env, "SECURE_HSTS_SECONDS") == "31536000"
    assert setting(env, "SESSION_COOKIE_SECURE") == setting(env, "CSRF_COOKIE_SECURE") == "True"
    # X-Forwarded-Proto is believed only when the deployment says a proxy sets it
    assert setting(env, "SECURE_PROXY_SSL_HEADER") == "None"
    trusted = production_env(DRAGONREC_TRUST_PROXY_SSL_HEADER="true")
    assert setting(trusted, "SECURE_PROXY_SSL_HEADER") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_the_demo_admin_is_a_dev_settings_thing_only() -> None:
    assert setting(production_env(), "DRAGONREC_DEMO_ADMIN") == "False"
    dev = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    dev.update({k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "REDIS_URL", "DRAGONREC_VAR_DIR")})
    assert setting(dev, "DRAGONREC_DEMO_ADMIN") == "True"


@pytest.mark.django_db
def test_the_api_does_not_accept_basic_authentication(client) -> None:  # type: ignore[no-untyped-def]
    # given a real account; when its password is sent with HTTP Basic
    carol = get_user_model().objects.create_user("carol", password="pw-carol-123")
    from dragonrec.tracking.services import preference_update

    preference_update(user=carol, brands=["Carol's secret brand"])
    token = base64.b64encode(b"carol:pw-carol-123").decode()
    response = client.get("/api/preferences/", HTTP_AUTHORIZATION=f"Basic {token}")
    # then the API does not sign anyone in with it: the caller is an anonymous browser, not carol
    assert response.status_code in (200, 401, 403)
    assert "Carol's secret brand" not in response.content.decode()
