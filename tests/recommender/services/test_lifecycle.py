"""One model lifecycle for both schedules: the nightly retrain and the hourly online update record their promotion
decision in the same words (what an owner reads on the version's page), and a run that fails says why."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from django.test import override_settings

from dragonrec.catalog.factories import ProductFactory
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.embeddings import product_embeddings_refresh
from dragonrec.recommender.services.online import student_update
from dragonrec.recommender.services.registry import candidate_store, model_version_create, student_train_and_register
from tests.recommender.services.conftest import SETTINGS
from tests.recommender.services.test_online_update import new_traffic
from tests.recommender.services.test_registry import small_config

pytestmark = pytest.mark.django_db

# the one shape of a promotion decision: when, the outcome, the gate's comparison (then any further check)
DECISION = re.compile(
    r"^\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] (?P<outcome>promoted|kept as a candidate): "
    r"gate (?P<gate>passes|fails): NDCG@10 [-\d.]+ vs v1's [-\d.]+(?P<rest>.*)$"
)


@override_settings(RECOMMENDER={**SETTINGS, "STUDENT_PROMOTION_MARGIN": 1.0})
def test_the_nightly_retrain_and_the_online_update_record_their_decision_the_same_way(
    tiny_shop, active, redis_client
) -> None:  # type: ignore[no-untyped-def]
    # given: v1 active, and a gate no candidate can pass (it must beat v1's NDCG@10 by 1.0)
    # when: the nightly retrain runs
    # (two epochs: the decision's shape is under test, not the model)
    nightly = student_train_and_register(config=replace(small_config(), max_epochs=2, min_epochs=1), seed=2)
    # and, after an hour of traffic with a new product, the online update
    headphones = ProductFactory(sku="HP", title="Studio Headphones", category=tiny_shop["mouse"].category)
    product_embeddings_refresh(product_ids=[headphones.id])
    new_traffic(tiny_shop, headphones)
    online = student_update()
    # then: both are kept as candidates, and both say so in one format, with the gate's figures
    assert nightly is not None and online is not None
    assert (nightly.kind, online.kind) == (ModelVersion.Kind.FULL, ModelVersion.Kind.ONLINE)
    decisions = [DECISION.match(version.decision) for version in (nightly, online)]
    assert all(decisions), [nightly.decision, online.decision]
    assert [(d["outcome"], d["gate"]) for d in decisions if d] == [("kept as a candidate", "fails")] * 2
    for version in (nightly, online):
        assert version.status == ModelVersion.Status.CANDIDATE
        assert version.metrics["gate_compared_with"] == "v1" and version.metrics["active_gate_ndcg@10"] is not None
    # the online update is judged off-policy too: the one further check, recorded after the gate's
    assert decisions[0] and decisions[0]["rest"] == ""
    assert decisions[1] and decisions[1]["rest"].startswith("; off-policy check")
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == active


def test_a_run_that_fails_is_marked_failed_with_its_error_recorded() -> None:
    # given: a run whose training breaks (a worker out of memory, a bad artifact)
    version = model_version_create(status=ModelVersion.Status.TRAINING, kind=ModelVersion.Kind.ONLINE)

    def build():  # type: ignore[no-untyped-def]
        raise MemoryError("cannot allocate 2 GiB")

    # when
    with pytest.raises(MemoryError):
        candidate_store(version=version, build=build)
    # then: the owner's page says it failed, and why
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED and not version.artifact
    assert re.fullmatch(r"\[.+ UTC\] failed: MemoryError: cannot allocate 2 GiB", version.decision)
