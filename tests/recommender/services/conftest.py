"""Fixtures of the model lifecycle tests (online updates, the guardrail)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# serving follows a promotion at once; tiny test data is enough to train on
SETTINGS = {"STUDENT_MIN_EVENTS": 50, "MODEL_REFRESH_S": 0, "SNAPSHOT_TTL_S": 0}


@pytest.fixture
def active(tiny_shop: Any, settings: Any, tmp_path: Path) -> Any:
    """v1: a tiny student trained on the shop's two patterns (tests/recommender/services/test_registry.py), stored
    under a temporary MEDIA_ROOT, and active."""
    from django.test import override_settings

    from dragonrec.recommender.core.caching import process_caches_reset
    from dragonrec.recommender.models import ModelVersion
    from dragonrec.recommender.services.registry import student_train_and_register
    from tests.recommender.services.test_registry import shop_events, small_config

    settings.MEDIA_ROOT = tmp_path
    process_caches_reset()
    shop_events(tiny_shop)
    with override_settings(RECOMMENDER=SETTINGS):
        version = student_train_and_register(config=small_config(), seed=1)
    assert version is not None and version.status == ModelVersion.Status.ACTIVE
    return version
