"""/metrics: 404 when off, 403 for anonymous, the Prometheus text with the token or a staff session."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_metrics_are_off_by_default(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/metrics").status_code == 404


def test_metrics_refuse_anonymous_and_answer_the_token_and_staff(client, admin_client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DRAGONREC_METRICS_ENABLED = True
    settings.DRAGONREC_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").content.decode()
    assert "dragonrec_teacher_calls_last_hour" in body and "dragonrec_active_model_info" in body
    assert admin_client.get("/metrics").status_code == 200


def test_metrics_count_the_lists_served_from_the_scored_candidates_memo(admin_client, settings, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.recommendations import recommendation_list

    settings.DRAGONREC_METRICS_ENABLED = True
    for _ in range(3):  # the same new visitor's home page: computed once, then served from the memo
        recommendation_list(scenario="home", session_id="metrics-visitor", record=False)

    body = admin_client.get("/metrics").content.decode()

    assert 'dragonrec_scored_memo_lookups_total{result="hit"} 2.0' in body
    assert 'dragonrec_scored_memo_lookups_total{result="miss"} 1.0' in body
