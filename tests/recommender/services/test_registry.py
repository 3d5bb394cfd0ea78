"""The model registry: train on tracking events, store the artifact, gate promotion, roll back, switch serving."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.recommender.services.registry import (
    model_version_activate,
    model_version_promote_if_better,
    model_version_rollback,
    student_train_and_register,
)
from dragonrec.tracking.factories import EventFactory
from tests.served_lists import served_outcomes, stored_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def shop_events(tiny_shop, n_sessions: int = 80) -> None:  # type: ignore[no-untyped-def]
    """Sessions with an obvious pattern: monitor -> cable -> keyboard -> mouse; shoe -> socks -> bottle -> shirt.
    (Each sequence's last event is held out for validation, so the pattern's third step is still trained on.)"""
    start = timezone.now() - timedelta(days=2)
    patterns = [["monitor", "cable", "keyboard", "mouse"], ["shoe_road", "socks_run", "bottle", "shirt_run"]]
    for s in range(n_sessions):
        for i, key in enumerate(patterns[s % 2]):
            EventFactory(
                session_id=f"s-{s}",
                product=tiny_shop[key],
                type="view",
                timestamp=start + timedelta(minutes=10 * s + i),
            )


def small_config():  # type: ignore[no-untyped-def]
    from dragonrec.recommender.ml.model import StudentConfig

    return StudentConfig(
        max_epochs=40,
        min_epochs=4,
        patience=3,
        eval_every=2,
        time_budget_s=60,
        ema_epochs=None,  # the registry's plumbing is under test here, not the averaging
        dropout=0.1,
        attn_dropout=0.1,
        batch_size=16,
    )


@override_settings(RECOMMENDER={"STUDENT_MIN_EVENTS": 50, "MODEL_REFRESH_S": 0, "SNAPSHOT_TTL_S": 0})
def test_first_version_is_trained_stored_activated_and_served(tiny_shop, admin_client) -> None:  # type: ignore[no-untyped-def]
    shop_events(tiny_shop)
    # when
    version = student_train_and_register(config=small_config(), seed=1)
    # then
    assert version is not None and version.version == "v1" and version.status == ModelVersion.Status.ACTIVE
    assert version.data_snapshot["events"] == 320 and version.data_snapshot["products"] == 12
    assert version.metrics["valid_ndcg@10"] > 0.3  # the pattern is learnable (random: ~0.15 over 10 unseen items)
    assert version.data_snapshot["gate_users"] > 0 and version.metrics["gate_ndcg@10"] > 0.3
    from django.core.files.storage import default_storage

    assert default_storage.exists(f"{version.artifact}/student.json")
    # serving picks it up without a restart, and the student follows the pattern
    EventFactory(session_id="s-new", product=tiny_shop["monitor"], type="view")
    EventFactory(session_id="s-new", product=tiny_shop["cable"], type="view")
    served = recommendation_list(scenario="home", session_id="s-new", n=3)
    assert served.ranker == "student:v1" and served.model_version == "v1"
    assert tiny_shop["keyboard"].id in [item.product_id for item in served.items[:2]]
    # the owner's page: a training curve per epoch and the gate figure beside item-kNN and popularity, in words
    log = version.training_log
    assert len(log) >= 4 and [row["epoch"] for row in log] == list(range(1, len(log) + 1))
    assert all(row["loss"] > 0 for row in log) and any(row["valid_ndcg10"] is not None for row in log)
    baselines = version.metrics["baselines"]
    assert 0 <= baselines["popularity"] <= 1 and 0 <= baselines["item_knn"] <= 1
    assert sum(row["shoppers"] for row in version.metrics["slices"]) == version.data_snapshot["gate_users"]
    page = admin_client.get(f"/admin/dragonrec_recommender/modelversion/{version.pk}/change/").content.decode()
    gate = version.metrics["gate_ndcg@10"]
    assert f"NDCG@10 on {version.data_snapshot['gate_users']} held-out shoppers {gate:.3f}" in page
    assert f"item-kNN {baselines['item_knn']:.3f}" in page and "training loss" in page and "<svg" in page


@override_settings(RECOMMENDER={"STUDENT_MIN_EVENTS": 50})
def test_too_little_data_trains_nothing(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s", product=tiny_shop["monitor"])
    assert student_train_and_register(config=small_config()) is None
    assert not ModelVersion.objects.exists()


def make_version(name: str, ndcg: float, status: str = ModelVersion.Status.CANDIDATE, **metrics: float) -> ModelVersion:
    activated = timezone.now() if status == ModelVersion.Status.ACTIVE else None
    return ModelVersion.objects.create(
        version=name,
        status=status,
        artifact=f"dragonrec/models/{name}",
        metrics={"valid_ndcg@10": ndcg, **metrics},
        activated_at=activated,
    )


def gate_scores(**scores: float | None):  # type: ignore[no-untyped-def]
    """A gate scorer with known answers per version name (the real one, GateScorer, needs trained artifacts)."""
    return lambda version: scores[version.version]


def test_promotion_gate_refuses_a_worse_model_and_accepts_a_better_one() -> None:
    active = make_version("v1", 0.30, ModelVersion.Status.ACTIVE)
    worse = make_version("v2", 0.25)
    better = make_version("v3", 0.32)
    scorer = gate_scores(v1=0.30, v2=0.25, v3=0.32)
    assert model_version_promote_if_better(version=worse, scorer=scorer) is False
    active.refresh_from_db()
    assert active.status == ModelVersion.Status.ACTIVE
    with override_settings(RECOMMENDER={"STUDENT_PROMOTION_MARGIN": 0.05}):
        assert model_version_promote_if_better(version=better, scorer=scorer) is False  # 0.32 < 0.30 + margin 0.05
    assert model_version_promote_if_better(version=better, scorer=scorer) is True
    active.refresh_from_db()
    assert active.status == ModelVersion.Status.ARCHIVED
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE).version == "v3"
    better.refresh_from_db()
    assert better.metrics["gate_ndcg@10"] == 0.32 and better.metrics["active_gate_ndcg@10"] == 0.30


def test_gate_compares_with_the_version_active_at_promotion_time() -> None:
    # given: v3 was trained while v1 was active, but v2 (stronger) was activated before v3's promotion
    make_version("v1", 0.10, ModelVersion.Status.ACTIVE)
    candidate = make_version("v3", 0.20)
    model_version_activate(version=make_version("v2", 0.40))
    scorer = gate_scores(v1=0.10, v2=0.40, v3=0.30)

    # when
    promoted = model_version_promote_if_better(version=candidate, scorer=scorer)

    # then: judged against v2 re-scored on the gate split (0.30 < 0.40), not against the v1 it started from
    assert promoted is False
    candidate.refresh_from_db()
    assert candidate.metrics["gate_compared_with"] == "v2" and candidate.metrics["active_gate_ndcg@10"] == 0.40
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE).version == "v2"


def test_an_unscoreable_active_version_does_not_block_but_an_unscoreable_candidate_is_refused() -> None:
    make_version("v1", 0.3, ModelVersion.Status.ACTIVE)
    unscoreable_candidate = gate_scores(v1=0.3, v2=None)
    assert model_version_promote_if_better(version=make_version("v2", 0.1), scorer=unscoreable_candidate) is False
    unscoreable_active = gate_scores(v1=None, v3=0.1)
    assert model_version_promote_if_better(version=make_version("v3", 0.1), scorer=unscoreable_active) is True


def test_gate_shoppers_are_disjoint_from_early_stopping_and_never_trained_on() -> None:
    from dragonrec.recommender.core.types import HistoryEvent
    from dragonrec.recommender.services.registry import is_gate_shopper, training_split

    sequences = {
        f"s:{i}": [HistoryEvent(product_id=1000 * i + t, event_type="view", timestamp=float(t)) for t in range(4)]
        for i in range(400)
    }
    sequences["s:short"] = sequences["s:0"][:2]

    train, valid, gate = training_split(sequences)

    held_out = {target for _, target in valid + gate}
    assert not held_out & {e.product_id for events in train for e in events}  # no target is trained on
    gate_shoppers = {target // 1000 for _, target in gate}
    valid_shoppers = {target // 1000 for _, target in valid}
    assert not gate_shoppers & valid_shoppers and len(gate_shoppers) + len(valid_shoppers) == 400
    assert 40 < len(gate) < 120  # ~20% of the shoppers
    assert all(is_gate_shopper(f"s:{i}") for i in gate_shoppers)  # stable: the same shoppers every retrain
    assert sequences["s:short"] in train


def test_rollback_reactivates_the_previous_version() -> None:
    v1 = make_version("v1", 0.3)
    v2 = make_version("v2", 0.4)
    model_version_activate(version=v1)
    model_version_activate(version=v2)
    assert model_version_rollback().version == "v1"
    assert ModelVersion.objects.get(version="v2").status == ModelVersion.Status.ARCHIVED
    with pytest.raises(ValueError, match="no usable artifact"):
        model_version_activate(version=make_version("v9", 0.1, ModelVersion.Status.FAILED))


def test_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import CommandError, call_command

    make_version("v1", 0.3, ModelVersion.Status.ACTIVE)
    make_version("v2", 0.2)
    with pytest.raises(CommandError, match="does not beat"):
        call_command("recommender_promote", "v2")
    call_command("recommender_promote", "v2", "--force", "--reason", "hand-picked for a demo")
    forced = ModelVersion.objects.get(version="v2")
    assert forced.status == ModelVersion.Status.ACTIVE
    assert "force-activated by manage.py recommender_promote --force" in forced.notes
    assert "hand-picked for a demo" in forced.notes
    call_command("recommender_rollback")
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE).version == "v1"


def test_admin_compares_versions(admin_client) -> None:  # type: ignore[no-untyped-def]
    a = make_version("v1", 0.3)
    b = make_version("v2", 0.4)
    a.training_log = [{"epoch": 2, "valid_ndcg10": 0.2}, {"epoch": 4, "valid_ndcg10": 0.3}]
    a.save()
    response = admin_client.post(
        "/admin/dragonrec_recommender/modelversion/", {"action": "compare", "_selected_action": [a.pk, b.pk]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Compare model versions" in html and "0.4000" in html and "validation NDCG@10" in html


def test_clicked_impressions_become_listwise_reward_labels(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.registry import reward_labels

    shown = [(tiny_shop[key].id, 1.0, "embedding", 1.0) for key in ["cable", "pan", "keyboard"]]
    clicked = stored_list(shown, session_id="s-rl", history=[tiny_shop["monitor"].id])
    served_outcomes(clicked, 3, clicked_at=timezone.now(), purchased_at=timezone.now())
    stored_list(shown, session_id="s-rl-2", history=[tiny_shop["monitor"].id])  # never clicked: no label
    (label,) = reward_labels()
    assert [e.product_id for e in label.history] == [tiny_shop["monitor"].id]
    assert label.candidate_ids == [tiny_shop["cable"].id, tiny_shop["pan"].id, tiny_shop["keyboard"].id]
    assert label.scores == [0.0, 0.0, 10.0] and label.confidence == 0.5


def test_the_active_version_cannot_be_deleted_only_replaced_and_the_replacement_is_recorded(admin_client) -> None:  # type: ignore[no-untyped-def]
    active = make_version("v1", 0.3, status=ModelVersion.Status.ACTIVE)
    other = make_version("v2", 0.4)
    base = "/admin/dragonrec_recommender/modelversion/"
    # no delete link on its page, the confirmation page and its POST refused, the bulk action refused
    assert f"{base}{active.pk}/delete/" not in admin_client.get(f"{base}{active.pk}/change/").content.decode()
    assert admin_client.get(f"{base}{active.pk}/delete/").status_code == 403
    assert admin_client.post(f"{base}{active.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(base, {"action": "delete_selected", "_selected_action": [active.pk], "post": "yes"})
    assert ModelVersion.objects.get(pk=active.pk).status == ModelVersion.Status.ACTIVE
    # a candidate can be deleted
    assert f"{base}{other.pk}/delete/" in admin_client.get(f"{base}{other.pk}/change/").content.decode()
    # replaced by activating another: recorded on both
    model_version_activate(version=other)
    active.refresh_from_db()
    other.refresh_from_db()
    assert active.status == ModelVersion.Status.ARCHIVED and "replaced by v2" in active.decision
    assert "activated, replacing v1" in other.decision
    assert admin_client.post(f"{base}{active.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not ModelVersion.objects.filter(pk=active.pk).exists()
