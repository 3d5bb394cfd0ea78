"""The teacher loop end to end through a real Celery worker process: a served list is buffered, flushed by the
worker, judged by the (fake, real-HTTP) LLM, and the next request for the same history is ordered by that
judgment. Nothing here runs a task body in the test process."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from dragonrec.recommender.models import ServedList, TeacherJudgment
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.tracking.factories import EventFactory
from tests.recommender.test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def worker_env(llm_server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The worker process reads the teacher from its environment, as in production."""
    return {"OPENAI_BASE_URL": llm_server.base_url, "DRAGONREC_TEACHER_MODEL": "fake-teacher"}


def test_the_worker_judges_a_served_list_and_the_next_request_uses_it(
    llm_server, celery_worker_process, tiny_shop
) -> None:  # type: ignore[no-untyped-def]
    teacher = {**settings.RECOMMENDER, "TEACHER_BASE_URL": llm_server.base_url, "TEACHER_MODEL": "fake-teacher"}
    # three distinct products: enough history to be judged (TEACHER_MIN_HISTORY)
    EventFactory(session_id="s-e2e", product=tiny_shop["shirt_run"], type="view")
    EventFactory(session_id="s-e2e", product=tiny_shop["shoe_road"], type="view")
    EventFactory(session_id="s-e2e", product=tiny_shop["socks_run"], type="add_to_cart")
    with override_settings(RECOMMENDER=teacher):
        cache.clear()
        # when: a list is served (local ranker), and the worker flushes it and asks the teacher
        first = recommendation_list(scenario="home", session_id="s-e2e", n=5)
        assert first.ranker != "teacher"
        assert wait_for(lambda: ServedList.objects.filter(request_id=first.request_id).exists()), "no flush"
        assert wait_for(lambda: TeacherJudgment.objects.filter(request_id=first.request_id).exists()), "no judgment"
        judgment = TeacherJudgment.objects.get(request_id=first.request_id)
        assert judgment.error == "" and judgment.scores and llm_server.request_count >= 1
        # then: the same shopper with the same history gets the teacher's order
        second = recommendation_list(scenario="home", session_id="s-e2e", n=5)
    assert second.ranker == "teacher"
    assert second.items[0].reason.startswith("shares")
