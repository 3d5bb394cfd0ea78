"""Production: refuses to start without its secrets and external services, or with a secret key that is weak or
copied from an example; HTTPS only. `DJANGO_SETTINGS_MODULE=config.settings.production manage.py check --deploy`
is clean (tests/config/test_production_settings.py)."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool, env_int

for _name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in production")

# The same bar as Django's security.W009 (50+ characters, 5+ distinct), plus the values our own examples and
# defaults show: a key anyone can read in this repository signs nothing.
_KNOWN_KEYS = {"change-me", "changeme", "dev-only-insecure-key-change-me", "secret", "django-insecure"}
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
if (
    SECRET_KEY.strip().lower() in _KNOWN_KEYS
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is weak or an example value: use 50+ random characters, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`"
    )

DEBUG = False
if not os.environ.get("DJANGO_ALLOWED_HOSTS"):
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production (the shop's host names)")

# HTTPS only. Behind a TLS-terminating proxy, set DRAGONREC_TRUST_PROXY_SSL_HEADER=true so Django believes the
# proxy's X-Forwarded-Proto; never set it when clients can reach the app directly (they could claim https).
if env_bool("DRAGONREC_TRUST_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DRAGONREC_SSL_REDIRECT", True)  # off only where the proxy redirects already
SECURE_HSTS_SECONDS = env_int("DRAGONREC_HSTS_SECONDS", 31_536_000)  # one year, the preload list's minimum
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DRAGONREC_HSTS_INCLUDE_SUBDOMAINS", True)
# The preload flag only consents to listing; nothing is preloaded until the domain is submitted to
# hstspreload.org. Off (DRAGONREC_HSTS_PRELOAD=false) where a subdomain must stay reachable over plain HTTP.
SECURE_HSTS_PRELOAD = env_bool("DRAGONREC_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
MULTIDB_PINNING_COOKIE_SECURE = True  # the replica pin cookie (dragonrec/db_routing.py)
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
