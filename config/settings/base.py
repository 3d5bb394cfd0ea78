"""Settings shared by every environment. Everything that varies between deployments comes from env vars
(listed in .env.example); `config.embedded` supplies local PostgreSQL/Redis URLs when DATABASE_URL / REDIS_URL
are unset."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE

from config import embedded, queues

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: /api/docs/ works offline
    "csp",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below); its system checks
    "django_celery_beat",
    "axes",  # sign-in lockout (django-axes); DragonRec's API-key authentication counts its failures here too
    "config.apps.DragonRecConfig",
    "dragonrec.catalog",
    "dragonrec.tracking",
    "dragonrec.recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise, so the files it answers itself (the storefront's index.html among them) carry the
    # Content-Security-Policy and X-Frame-Options too, not only the responses of Django's views.
    "csp.middleware.CSPMiddleware",
    "config.middleware.AdminInlineStylesMiddleware",  # the admin's reports draw inline-styled SVGs (styles only)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.BodySizeLimitMiddleware",  # before anything can read an oversize body
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # last, as django-axes asks: turns a request flagged as locked out into its 429 (AXES_LOCKOUT_CALLABLE)
    "axes.middleware.AxesMiddleware",
]

# ------------------------------------------------------------------------------------------ browser headers
# Content-Security-Policy on every response (django-csp): the storefront, admin and /api/docs/ (Swagger UI, whose
# start-up script drf-spectacular serves as a file: config/api_docs.py) run only our own scripts; no inline script,
# no eval, no plugins. Images may come from a shop's https CDN (product image_url) and data: URLs (the
# storefront's placeholders). No page of ours may be framed: frame-ancestors here, X-Frame-Options for older
# browsers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # a page that needs an inline <style> (templates/home.html) asks for request.csp_nonce; others get no nonce
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"

# Prometheus /metrics (off by default; staff or `Authorization: Bearer <token>`); with it, request latency by route.
DRAGONREC_METRICS_ENABLED = env_bool("DRAGONREC_METRICS_ENABLED", False)
DRAGONREC_METRICS_TOKEN = os.environ.get("DRAGONREC_METRICS_TOKEN", "")
if DRAGONREC_METRICS_ENABLED:
    MIDDLEWARE.insert(0, "dragonrec.recommender.metrics.RequestLatencyMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


# Persistent connections, health-checked once per request before reuse: after a PostgreSQL restart (or a failover,
# or an idle timeout in a pooler) a dead connection is replaced instead of failing the request that finds it
# (measured: 5 of 16 requests answered 500 after pg_terminate_backend without the check). The check looks at the
# idle connection's socket, where a dropped connection has the server's goodbye waiting, and sends `SELECT 1` only
# then (config/postgresql: Django's own check was one more round trip for every request).
def _replica_urls() -> list[str]:
    return [url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()]


DATABASES = {
    "default": dj_database_url.parse(
        embedded.database_url(), engine="config.postgresql", conn_max_age=60, conn_health_checks=True
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Streaming read replicas (docs/scaling.md): DATABASE_REPLICA_URLS="postgres://...,postgres://..." adds aliases
# replica_1, replica_2, ... and the router of dragonrec/db_routing.py: a request's reads go to a replica (round
# robin), writes and everything outside a request (Celery, commands, migrations) to the primary, and a browser that
# wrote reads the primary for DATABASE_REPLICA_PIN_SECONDS (a cookie), longer than the replica's replay lag.
# Unset: no router, no middleware, every query on `default` as before.
REPLICA_DATABASES = [f"replica_{n}" for n, _ in enumerate(_replica_urls(), start=1)]
for _alias, _url in zip(REPLICA_DATABASES, _replica_urls(), strict=True):
    DATABASES[_alias] = dj_database_url.parse(
        _url, engine="config.postgresql", conn_max_age=60, conn_health_checks=True
    )
if REPLICA_DATABASES:
    DATABASE_ROUTERS = ["dragonrec.db_routing.ReplicaRouter"]
    # first, so that no middleware reads the database before the request is marked as one
    MIDDLEWARE.insert(0, "dragonrec.db_routing.ReplicaPinningMiddleware")
MULTIDB_PINNING_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 15)
MULTIDB_PINNING_COOKIE = "dragonrec_pin"
MULTIDB_PINNING_COOKIE_HTTPONLY = True  # the storefront's scripts have no use for it

REDIS_URL = embedded.redis_url()


def _redis_db(url: str, db: int) -> str:
    """Same server, another logical database: broker, cache and tests never see each other's keys."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _redis_db(REDIS_URL, 1),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A cache that is down (restarting, failing over) is a cache miss, not a 500: teacher scores, catalog
            # versions and rate counters all have a correct answer without it. Short timeouts so a hung Redis
            # costs a request at most a second or two.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 2,
        },
        "KEY_PREFIX": "dragonrec",
    }
}

# The demo's superuser (admin / dragonrec-demo) is created by dragonrec_demo_data only where this is True
# (config.settings.dev); everywhere else the command skips it.
DRAGONREC_DEMO_ADMIN = False

DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # ignored, not unseen

# ------------------------------------------------------------------------------------------ request limits
# Bodies over this are refused with 413 before they are read (config.middleware.BodySizeLimitMiddleware). A full
# batch of 500 events with the largest allowed contexts stays well under 1 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DRAGONREC_MAX_BODY_BYTES", 1024 * 1024)
# JSON nesting deeper than this is a 400: an event batch is 4 levels plus its context; 32 leaves contexts room.
DRAGONREC_MAX_JSON_DEPTH = env_int("DRAGONREC_MAX_JSON_DEPTH", 32)
# "<scope>.<shopper|address>" -> "<n>/<s|min|h|day>" (dragonrec/throttling.py). Defaults a real storefront never
# reaches: a shopper's tracker flushes every few seconds and a page asks for a few lists; the address limits are
# higher because many shoppers can share one address (offices, mobile carriers' NAT).
# `events.*` count events, not requests (a batch of 500 is 500): a person browsing fast makes a few events a
# second; 600 a minute per shopper is ten a second for a whole minute. `event_requests.*` count the POSTs.
THROTTLE_RATES = {
    "events.shopper": "600/min",
    "events.address": "6000/min",
    "event_requests.shopper": "120/min",
    "event_requests.address": "3000/min",
    "recommendations.shopper": "600/min",
    "recommendations.address": "3000/min",
    "preferences.shopper": "60/min",
    "preferences.address": "600/min",
    # POST /api/auth/login/ per address, whatever the usernames: bounds the password hashing one address can cause
    # (the lockout above stops guessing at one account); a shared address of busy shoppers signs in far less often.
    "signin.address": "60/min",
}
# DRAGONREC_THROTTLE_RATES="recommendations.address=10000/min,events.shopper=" overrides (empty = no limit).
for _pair in filter(None, os.environ.get("DRAGONREC_THROTTLE_RATES", "").split(",")):
    _scope, _, _rate = _pair.partition("=")
    THROTTLE_RATES[_scope.strip()] = _rate.strip()

# ------------------------------------------------------------------------------------------ sign-in lockout
# django-axes: the lockout is checked by the first backend, before ModelBackend runs the password hasher, so a
# locked-out guesser costs one indexed query per try instead of a PBKDF2 run (docs/operations.md, "Sign-in").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Ten wrong passwords for one username from one address, each within the cool-off of the previous one, lock that
# pair out: the 11th try is refused without checking the password, a correct one included. Per username *and*
# address: a username alone would let anyone lock a shopper out of their account from anywhere, an address alone
# would lock out a whole office or mobile carrier's NAT for one person's typos. Rotating usernames from one address
# meets the "signin.address" rate limit below on the storefront endpoint.
AXES_FAILURE_LIMIT = env_int("DRAGONREC_SIGNIN_FAILURE_LIMIT", 10)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DRAGONREC_SIGNIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True  # a sign-in that succeeds (while not locked) forgets that pair's earlier typos
# No row per successful sign-in (username, address, user agent) kept forever: personal data without a retention
# rule, and not needed for the lockout, which counts failures only (those expire with the cool-off).
AXES_DISABLE_ACCESS_LOG = True
# The same client address as the rate limits (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES trusted proxies)
AXES_CLIENT_IP_CALLABLE = "dragonrec.tracking.authentication.client_address"
# JSON 429 with Retry-After for the API (sign-in and API keys), a plain page for the admin's login form
AXES_LOCKOUT_CALLABLE = "dragonrec.tracking.authentication.lockout_response"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DRAGONREC_MEDIA_ROOT", BASE_DIR / "var" / "media"))
# The React storefront's build (make demo runs `npm ci && npm run build` when it is missing or stale): WhiteNoise
# serves its files at the site root (/assets/index-<hash>.js); config.storefront answers its routes.
STOREFRONT_DIST = Path(os.environ.get("DRAGONREC_STOREFRONT_DIST", BASE_DIR / "frontend" / "dist"))
WHITENOISE_ROOT = STOREFRONT_DIST if STOREFRONT_DIST.is_dir() else None
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/?assets/"  # Vite names them by content hash: cache them forever
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# ------------------------------------------------------------------------------------------ DRF
REST_FRAMEWORK = {
    # No BasicAuthentication: it would accept account passwords on every API request (and invite brute force).
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    # JSON only: every API takes JSON, and form parsers would accept bodies (and advertise media types in the
    # schema) that no endpoint is designed for.
    "DEFAULT_PARSER_CLASSES": ["config.api.BoundedJSONParser"],
    # DRF's two (JSON, the browsable API), the JSON one encoding with orjson (config.renderers.FastJSONRenderer)
    "DEFAULT_RENDERER_CLASSES": [
        "config.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.renderers.ContentNegotiation",  # JSON asked for: no parsing
    "DEFAULT_THROTTLE_CLASSES": [
        "dragonrec.throttling.ShopperRateThrottle",
        "dragonrec.throttling.AddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # How many reverse proxies in front of the app append to X-Forwarded-For (their entries are trusted for the
    # client address). 0 = REMOTE_ADDR only; DRF's own default (None) would trust the header from anyone.
    "NUM_PROXIES": env_int("DRAGONREC_NUM_PROXIES", 0),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.DragonRecAutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DragonRec API",
    "DESCRIPTION": "Products, event tracking and recommendations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # No CDN: an offline or locked-down machine renders the docs from the sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.text_without_nul"],
}

# ------------------------------------------------------------------------------------------ Celery
CELERY_BROKER_URL = _redis_db(REDIS_URL, 0)
# kombu's Redis transport with one fix: a worker survives a broker restart while it holds unacknowledged tasks
# (config/celery.py says why). Only for redis:// brokers; another broker URL needs this line removed.
CELERY_BROKER_TRANSPORT = "config.celery:BrokerTransport" if CELERY_BROKER_URL.startswith("redis://") else None
# Lost broker: retry for ever (None), every 2, 4, 6... s as kombu does; a supervisor restarts what still dies.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_RESULT_BACKEND = None  # tasks record their outcome in the database; nothing polls results
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
CELERY_TASK_TIME_LIMIT = 12 * 60
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task hands the task back; our tasks are idempotent
# ...including when the worker process itself dies (SIGKILL, OOM): without this Celery acks such a task as failed.
# Training opts out (dragonrec/recommender/tasks.py): a run that kills its worker must not be redelivered forever.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker reserves one message per process beyond the one it runs: a training run or a teacher call must not
# hoard the next message of its queue while it works for minutes (a per-queue worker may raise it for short jobs).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT
# One queue per kind of job (config/queues.py): impression flushes, teacher calls, training and aggregate
# maintenance each get workers of their own in production (docs/scaling.md); `make demo` runs one worker on all.
CELERY_TASK_ROUTES = queues.ROUTES
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request (a flush, a teacher judgment) gives up within ~1 s when the broker is down; the callers
# fall back (inline writes, the beat safety net) instead of holding the shopper's request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1}

# ------------------------------------------------------------------------------------------ DragonRec
# The product model recommendations are about, like AUTH_USER_MODEL. A shop with its own model points this at it
# and sets RECOMMENDER["PRODUCT_ADAPTER"] (see docs/configuration.md).
DRAGONREC_PRODUCT_MODEL = os.environ.get("DRAGONREC_PRODUCT_MODEL", "dragonrec_catalog.Product")

RECOMMENDER: dict[str, object] = {
    "TEACHER_API_KEY": os.environ.get("OPENAI_API_KEY", ""),
    "TEACHER_BASE_URL": os.environ.get("OPENAI_BASE_URL", ""),
    "TEACHER_MODEL": os.environ.get("DRAGONREC_TEACHER_MODEL", "gpt-4o-mini"),
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
