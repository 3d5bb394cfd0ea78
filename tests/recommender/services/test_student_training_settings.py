"""STUDENT_TRAINING reaches the nightly student's config: a host project sets only the keys it changes."""

from __future__ import annotations

from django.test import override_settings

from dragonrec.recommender.ml.model import StudentConfig
from dragonrec.recommender.services.students import student_training_overrides
from tests.recommender.services.conftest import SETTINGS


def test_prefix_targets_from_the_settings_reach_the_student_config() -> None:
    assert student_training_overrides()["prefix_targets"] is False  # the default: whole sequences
    with override_settings(RECOMMENDER={**SETTINGS, "STUDENT_TRAINING": {"prefix_targets": True}}):
        overrides = student_training_overrides()
    assert overrides["prefix_targets"] is True
    assert overrides["loss"] == "auto" and overrides["n_negatives"] == 2048  # the keys left out keep their defaults
    assert StudentConfig(**overrides).prefix_targets
