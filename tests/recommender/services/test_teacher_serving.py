"""The teacher in serving: judged off the request path, stored whatever happens, used when cached. Against the
fake OpenAI-compatible server of tests/llm_server.py over real HTTP, with the real Redis."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import TeacherJudgment
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.recommender.services.recommendations import recommendation_list, teacher_payload
from dragonrec.recommender.tasks import teacher_score
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher_on(llm_server, redis_client) -> Any:  # type: ignore[no-untyped-def]
    cache.clear()
    fast = {
        "TEACHER_BASE_URL": llm_server.base_url,
        "TEACHER_MODEL": "fake-teacher",
        "TEACHER_TIMEOUT_S": 0.5,
        "TEACHER_MAX_RETRIES": 1,
        "TEACHER_BACKOFF_BASE_S": 0.01,
        "TEACHER_BACKOFF_CAP_S": 0.2,
        "TEACHER_BREAKER_THRESHOLD": 3,
        "TEACHER_BREAKER_COOLDOWN_S": 30,
        "SNAPSHOT_TTL_S": 0,
    }
    with override_settings(RECOMMENDER=fast):
        get_redis = __import__("django_redis").get_redis_connection
        get_redis("default").flushdb()  # breaker, budget and cache state of earlier tests
        yield llm_server
    cache.clear()


def history(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-t", product=tiny_shop["shoe_road"], type="view")
    EventFactory(session_id="s-t", product=tiny_shop["socks_run"], type="add_to_cart")


def test_teacher_judges_off_the_request_path_then_orders_the_next_list(
    teacher_on, tiny_shop, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    history(tiny_shop)
    # when: the first request is served by the local ranker; its buffered impression, once written, queues the
    # teacher after commit
    first = recommendation_list(scenario="home", session_id="s-t", n=5)
    assert first.ranker == "embedding"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert impressions_flush() == 1
    assert teacher_on.request_count == 0 and len(callbacks) == 1
    # the task body, run synchronously (a real worker runs it in test_worker.py)
    assert teacher_score.apply(args=[str(first.request_id)]).get() == "ok"
    judgment = TeacherJudgment.objects.get()
    assert judgment.error == "" and judgment.request_id == first.request_id
    assert set(map(int, judgment.scores)) <= set(judgment.candidates) and judgment.raw_answer
    # then: the same history is now ordered by the teacher, with its reasons
    second = recommendation_list(scenario="home", session_id="s-t", n=5)
    assert second.ranker == "teacher"
    judged = {int(k): v for k, v in judgment.scores.items()}
    assert judged[second.items[0].product_id] == max(
        judged[i.product_id] for i in second.items if i.product_id in judged
    )
    assert second.items[0].reason.startswith("shares")


@pytest.mark.parametrize("mode", ["500", "malformed", "partial", "slow"])
def test_a_failing_teacher_is_stored_and_serving_carries_on(teacher_on, tiny_shop, mode) -> None:  # type: ignore[no-untyped-def]
    history(tiny_shop)
    teacher_on.mode = mode
    teacher_on.slow_s = 2.0
    served = recommendation_list(scenario="home", session_id="s-t", n=5)
    impressions_flush()
    teacher_score.apply(args=[str(served.request_id)])
    judgment = TeacherJudgment.objects.get()
    assert judgment.error in {"server_error", "bad_answer", "timeout"}, judgment.error
    assert judgment.scores == {}
    started = time.monotonic()
    again = recommendation_list(scenario="home", session_id="s-t", n=5)
    assert again.ranker == "embedding" and len(again.items) == 5
    assert time.monotonic() - started < 1.0  # never waits on the teacher


def test_the_request_never_waits_when_the_teacher_is_down(teacher_on, tiny_shop, api_client, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    history(tiny_shop)
    teacher_on.mode = "slow"
    teacher_on.slow_s = 5.0
    started = time.monotonic()
    response = shopper_cookie(api_client, "s-t").get("/api/recommendations/", {"n": 5})
    assert response.status_code == 200 and time.monotonic() - started < 1.0
    assert teacher_on.request_count == 0


def test_payload_is_rebuilt_from_the_impression(teacher_on, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    history(tiny_shop)
    served = recommendation_list(scenario="home", session_id="s-t", n=5)
    assert teacher_payload(request_id=served.request_id) is None  # still buffered
    impressions_flush()
    payload = teacher_payload(request_id=served.request_id)
    assert payload["candidates"] == [i.product_id for i in served.items][: recommender_settings.TEACHER_CANDIDATES]
    assert payload["history"][-1] == [tiny_shop["socks_run"].id, "add_to_cart"]
    assert payload["user_key"] == "s:s-t"


def test_a_request_that_waits_for_the_teacher_writes_its_impression_at_once(teacher_on, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    from dragonrec.recommender.models import Impression

    history(tiny_shop)
    with override_settings(RECOMMENDER={**settings.RECOMMENDER, "TEACHER_WAIT_MS": 50}):
        started = time.monotonic()
        served = recommendation_list(scenario="home", session_id="s-t", n=5)
        # no worker runs the judgment here: the request gives up after its budget and serves the local ranking
        assert time.monotonic() - started < 1.0 and served.ranker == "embedding"
    assert Impression.objects.filter(request_id=served.request_id).exists()
