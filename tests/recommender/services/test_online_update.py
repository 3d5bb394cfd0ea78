"""The hourly online update: a candidate warm-started from the active version that knows new products, promoted
only when both the held-out gate and the off-policy check pass."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.test import override_settings
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml.student import Student
from dragonrec.recommender.models import ModelVersion, ServedList
from dragonrec.recommender.services.artifacts import artifact_local_path, artifact_save
from dragonrec.recommender.services.embeddings import product_embeddings_refresh
from dragonrec.recommender.services.feedback import clicks_attribute
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.recommender.services.online import (
    LoggedList,
    is_offpolicy_list,
    page_orders,
    reward_examples,
    student_update,
)
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.recommender.services.registry import model_version_promote_if_better
from dragonrec.recommender.tasks import student_update as student_update_task
from dragonrec.tracking.factories import EventFactory
from tests.recommender.services.conftest import SETTINGS
from tests.served_lists import served_outcomes, stored_list

pytestmark = pytest.mark.django_db

# the gate alone never decides in the off-policy tests: any scoreable candidate "beats" the active version by -1
GATE_PASSES = {**SETTINGS, "STUDENT_PROMOTION_MARGIN": -1.0}
PREFIXES = [["monitor"], ["monitor", "cable"], ["shoe_road"], ["shoe_road", "socks_run"], ["cable"], ["socks_run"]]


def load(version: ModelVersion) -> Student:
    return Student.load(artifact_local_path(version))


def scrambled_version(parent: ModelVersion, name: str) -> ModelVersion:
    """A deliberately bad candidate: the parent's student with its product ids shuffled, so every learned vector
    belongs to another product."""
    student = load(parent)
    student.product_ids = [int(p) for p in np.random.default_rng(7).permutation(student.product_ids)]
    student._reindex()
    with tempfile.TemporaryDirectory() as tmp:
        student.save(Path(tmp))
        artifact = artifact_save(local_dir=Path(tmp), version=name)
    return ModelVersion.objects.create(
        version=name,
        kind=ModelVersion.Kind.ONLINE,
        status=ModelVersion.Status.CANDIDATE,
        parent=parent,
        artifact=artifact,
        data_snapshot=dict(parent.data_snapshot),
    )


def held_out_request_id() -> uuid.UUID:
    """A request id whose list the update never trains on: the off-policy check's log."""
    while not is_offpolicy_list(request_id := uuid.uuid4()):
        pass
    return request_id


def log_lists(tiny_shop, *, logger: Student, other: Student) -> int:  # type: ignore[no-untyped-def]
    """Held-out served lists shown in `logger`'s order, each clicked on its first item, for the histories where
    `other` would have put a different item first (deterministic slots, propensity 1): the logged clicks favour
    `logger`'s order. Returns how many histories were logged (5 shoppers each)."""
    page = [tiny_shop[k].id for k in ("keyboard", "mouse", "bottle", "shirt_run", "kettle", "coffee")]
    lists = [
        LoggedList(
            history=[HistoryEvent(product_id=tiny_shop[k].id, event_type="view", timestamp=i) for i, k in enumerate(p)],
            items=page,
            propensities=[1.0] * len(page),
            clicked=[False] * len(page),
        )
        for p in PREFIXES
    ]
    logged = 0
    for lst, order, their_order in zip(
        lists, page_orders(logger, lists, {}), page_orders(other, lists, {}), strict=True
    ):
        if order[0] == their_order[0]:
            continue
        for shopper in range(5):
            request_id = stored_list(
                [(pid, 1.0 / position, "embedding", 1.0) for position, pid in enumerate(order, start=1)],
                session_id=f"s-log-{logged}-{shopper}",
                ranker="student",
                request_id=held_out_request_id(),
                history=[e.product_id for e in lst.history],
            )
            served_outcomes(request_id, 1, clicked_at=timezone.now())
        logged += 1
    return logged


def new_traffic(tiny_shop, headphones) -> None:  # type: ignore[no-untyped-def]
    """An hour of traffic after v1 was trained: shoppers follow the monitor pattern into the new headphones, and
    click the first item of lists served to them."""
    for s in range(12):
        session = f"s-hour-{s}"
        for key in ("monitor", "cable", "keyboard"):
            EventFactory(session_id=session, product=tiny_shop[key], type="view")
        EventFactory(session_id=session, product=headphones, type="view")
        served = recommendation_list(scenario="home", session_id=session, n=4)
        impressions_flush()
        first = served.items[0]
        click = EventFactory(
            session_id=session,
            product_id=first.product_id,
            type="click",
            context={"request_id": str(served.request_id), "position": 1},
        )
        assert clicks_attribute(events=[click]) == 1


@override_settings(RECOMMENDER=SETTINGS)
def test_the_update_registers_a_candidate_warm_started_from_the_active_version_with_new_products(
    tiny_shop, active, redis_client
) -> None:  # type: ignore[no-untyped-def]
    # given: nothing has happened since v1 was trained: the job does nothing
    assert student_update() is None
    assert ModelVersion.objects.count() == 1
    # ...then a product is added and shoppers browse and click
    headphones = ProductFactory(
        sku="HEADPHONES",
        title="Noise-Cancelling Headphones",
        description="Wireless over-ear headphones.",
        category=tiny_shop["mouse"].category,
    )
    product_embeddings_refresh(product_ids=[headphones.id])
    new_traffic(tiny_shop, headphones)
    # when: the beat job runs (called in-process here; the worker test runs it through Celery)
    name = student_update_task()
    # then: a candidate, registered as an online update of v1, with what it learned from
    candidate = ModelVersion.objects.get(version=name)
    assert candidate.kind == ModelVersion.Kind.ONLINE and candidate.parent == active
    assert candidate.status in (ModelVersion.Status.CANDIDATE, ModelVersion.Status.ACTIVE)
    snapshot = candidate.data_snapshot
    assert snapshot["events"] >= 12 * 5 and snapshot["new_products"] == 1 and snapshot["products"] == 13
    assert snapshot["rewards"] >= 1 and snapshot["sequences"] >= 12
    assert snapshot["replay_sequences"] >= 1  # v1's shoppers, rehearsed so the candidate does not forget them
    assert candidate.metrics["update_seconds"] > 0
    assert "gate" in candidate.decision and "off-policy" in candidate.decision  # both checks recorded
    # warm-started: it still knows v1's other pattern (shoe -> socks -> bottle), which the hour's traffic never
    # showed, as no freshly initialised model could; and the new product is known
    parent, child = load(active), load(candidate)
    assert headphones.id in child.dense_of and headphones.id not in parent.dense_of
    catalog = [p.id for p in tiny_shop.products.values()]
    for prefix, following in ((["shoe_road"], "socks_run"), (["shoe_road", "socks_run"], "bottle")):
        history = [
            HistoryEvent(product_id=tiny_shop[k].id, event_type="view", timestamp=i) for i, k in enumerate(prefix)
        ]
        seen = {e.product_id for e in history}
        for student in (parent, child):
            ranked = [catalog[i] for i in np.argsort(-student.score(history, catalog)) if catalog[i] not in seen]
            assert tiny_shop[following].id in ranked[:2]
    # and the next run, with nothing new again, does nothing
    assert student_update() is None


@override_settings(RECOMMENDER={**SETTINGS, "STUDENT_PROMOTION_MARGIN": 1.0})
def test_a_candidate_the_gate_rejects_is_never_promoted(tiny_shop, active, redis_client) -> None:  # type: ignore[no-untyped-def]
    # given: traffic since v1, and a gate no candidate can pass (it must beat v1's NDCG@10 by 1.0)
    headphones = ProductFactory(sku="HP", title="Studio Headphones", category=tiny_shop["mouse"].category)
    product_embeddings_refresh(product_ids=[headphones.id])
    new_traffic(tiny_shop, headphones)
    # when
    candidate = student_update()
    # then
    assert candidate is not None and candidate.status == ModelVersion.Status.CANDIDATE
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == active
    assert "kept as a candidate: gate fails" in candidate.decision
    assert candidate.metrics["active_gate_ndcg@10"] is not None and "offpolicy" in candidate.metrics
    # its training curve (loss per step) and its gate figures beside the baselines, for the owner's page
    assert len(candidate.training_log) >= 1 and all(row["loss"] > 0 for row in candidate.training_log)
    assert set(candidate.metrics["baselines"]) == {"popularity", "item_knn"}


@override_settings(RECOMMENDER=GATE_PASSES)
def test_a_candidate_the_off_policy_check_rejects_is_never_promoted(tiny_shop, active) -> None:  # type: ignore[no-untyped-def]
    # given: a candidate, and recent held-out lists whose clicks went to what the ACTIVE version ranks first
    candidate = scrambled_version(active, "v2")
    assert log_lists(tiny_shop, logger=load(active), other=load(candidate)) >= 2
    # when
    promoted = model_version_promote_if_better(version=candidate)
    # then: the gate passed, the off-policy estimate did not: it stays a candidate
    candidate.refresh_from_db()
    assert promoted is False and candidate.status == ModelVersion.Status.CANDIDATE
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == active
    offpolicy = candidate.metrics["offpolicy"]
    assert offpolicy["passed"] is False and offpolicy["candidate"]["value"] < offpolicy["active"]["value"]
    assert "gate passes" in candidate.decision and "off-policy check fails" in candidate.decision


@override_settings(RECOMMENDER=GATE_PASSES)
def test_a_candidate_that_passes_both_checks_is_promoted(tiny_shop, active) -> None:  # type: ignore[no-untyped-def]
    # given: the held-out lists' clicks went to what the CANDIDATE ranks first
    candidate = scrambled_version(active, "v2")
    assert log_lists(tiny_shop, logger=load(candidate), other=load(active)) >= 2
    # when
    promoted = model_version_promote_if_better(version=candidate)
    # then
    candidate.refresh_from_db()
    assert promoted is True and candidate.status == ModelVersion.Status.ACTIVE
    assert candidate.metrics["offpolicy"]["passed"] is True
    assert candidate.decision.split("] ", 1)[1].startswith("promoted: gate passes")
    active.refresh_from_db()
    assert active.status == ModelVersion.Status.ARCHIVED


@override_settings(RECOMMENDER=SETTINGS)
def test_rewards_carry_their_page_in_served_order_for_the_listwise_form(tiny_shop, active, redis_client) -> None:  # type: ignore[no-untyped-def]
    # given: an hour of served lists, each clicked on its first item
    headphones = ProductFactory(sku="HEADPHONES", title="Headphones", category=tiny_shop["mouse"].category)
    since = timezone.now()
    new_traffic(tiny_shop, headphones)
    # when
    examples = reward_examples(since=since, gate_targets={}, limit=100, with_pages=True)
    # then: every click comes with the list it was made on, as served (the held-out share aside)
    served = {tuple(ids) for ids in ServedList.objects.filter(served_at__gte=since).values_list("item_ids", flat=True)}
    assert examples and all(e.shown in served and e.product_id == e.shown[0] for e in examples)
    assert all(e.shown == () for e in reward_examples(since=since, gate_targets={}, limit=100))
