"""The test suite: the same real PostgreSQL+pgvector and Redis, kept apart from the demo's data."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import REDIS_URL, _redis_db

# pytest-django creates test_<NAME>; a suffix lets parallel runs (developers, CI) share one server.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("DRAGONREC_TEST_DB", "test_dragonrec")}  # noqa: F405

# Redis logical databases 8-10 for tests (0-1 are the demo's broker and cache).
TEST_REDIS_DB = int(os.environ.get("DRAGONREC_TEST_REDIS_DB", "8"))
CACHES["default"]["LOCATION"] = _redis_db(REDIS_URL, TEST_REDIS_DB)  # noqa: F405
CELERY_BROKER_URL = _redis_db(REDIS_URL, TEST_REDIS_DB + 1)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never outside tests
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# A Celery worker started by the test suite must use the database pytest-django created, not the demo's.
if os.environ.get("DRAGONREC_WORKER_USE_TEST_DB"):
    DATABASES["default"]["NAME"] = os.environ["DRAGONREC_WORKER_USE_TEST_DB"]  # noqa: F405

# Every request re-checks the catalog version, so a product created mid-test is served at once.
RECOMMENDER = {**RECOMMENDER, "SNAPSHOT_TTL_S": 0}  # noqa: F405

# The suite sends many requests from one address within a minute; the limits are tested with their own low rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {key: "1000000/min" for key in THROTTLE_RATES},  # noqa: F405
}

# The suite and the browser tests' stack run without `collectstatic`: WhiteNoise serves the apps' static files
# (the demo catalog's pictures, the admin's CSS) straight from their folders, as `make demo` serves the collected ones.
WHITENOISE_USE_FINDERS = True
