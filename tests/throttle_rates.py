"""Rate limits for throttle tests: every window generous unless a test names its own, and counters cleared around
each test (Redis counters from other tests, or an earlier run within the same window, must not count)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings


def rates(**overrides: str) -> Any:
    base = {key: "1000000/min" for key in settings.THROTTLE_RATES}
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**base, **overrides}}
    )


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()
