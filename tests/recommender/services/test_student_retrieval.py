"""The student's retrieval index in the model lifecycle: built with each version as STUDENT_ANN says, saved in its
artifact, without the products that are off sale when the version is made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml.ann import INDEX_FILE
from dragonrec.recommender.services.artifacts import artifact_local_path
from dragonrec.recommender.services.registry import student_train_and_register
from dragonrec.recommender.services.students import load_student
from tests.recommender.services.conftest import SETTINGS
from tests.recommender.services.test_registry import shop_events, small_config

pytestmark = pytest.mark.django_db


def test_a_trained_version_ships_its_index_without_deactivated_products(
    tiny_shop: Any, settings: Any, tmp_path: Path
) -> None:
    # given a shop whose keyboard (the next step of the monitor -> cable pattern) went off sale before the retrain,
    # and settings that want HNSW from the first product on
    settings.MEDIA_ROOT = tmp_path
    shop_events(tiny_shop)
    keyboard = tiny_shop["keyboard"]
    keyboard.is_active = False
    keyboard.save()
    with override_settings(RECOMMENDER={**SETTINGS, "STUDENT_ANN": {"exact_max_items": 0}}):
        # when a version is trained and registered, then loaded as serving loads it
        version = student_train_and_register(config=small_config(), seed=1)
        assert version is not None
        student = load_student(version)
    # then its artifact holds the HNSW graph, serving searches it, and the keyboard is never retrieved
    assert (artifact_local_path(version) / INDEX_FILE).exists()
    assert student.item_index().kind == "hnsw"
    assert student.inactive == {keyboard.id}
    history = [
        HistoryEvent(product_id=tiny_shop[k].id, event_type="view", timestamp=float(i))
        for i, k in enumerate(["monitor", "cable"])
    ]
    ids, _ = student.retrieve(history, k=student.n_items)
    assert keyboard.id not in ids and len(ids) == student.n_items - 1
