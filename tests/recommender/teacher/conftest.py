"""Fixtures for the teacher tests: a fast `TeacherConfig` pointed at the fake LLM server (tests/llm_server.py).

`redis_client` (the real Redis, flushed per test) comes from the root conftest.
"""

from __future__ import annotations

import pytest

from dragonrec.recommender.teacher import TeacherConfig
from tests.llm_server import LLMServer


@pytest.fixture
def teacher_config(llm_server: LLMServer) -> TeacherConfig:
    """Milliseconds instead of seconds everywhere, so the failure paths keep the suite fast."""
    return TeacherConfig(
        base_url=llm_server.base_url,
        model="fake-teacher",
        timeout_s=0.5,
        max_retries=2,
        backoff_base_s=0.01,
        backoff_cap_s=0.5,
        breaker_threshold=2,
        breaker_cooldown_s=0.3,
        hourly_budget_usd=1.0,
        cache_ttl_s=60,
        redis_prefix="test:teacher",
    )
