"""Retention: old events, served lists and judgments are deleted in short batches by the beat job; per-shopper
Redis keys always expire. Against the real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from dragonrec.recommender.models import Experiment, ServedList, TeacherJudgment
from dragonrec.recommender.services.deletion import shopper_key_patterns, shopper_keys_expire
from dragonrec.recommender.services.impressions import SEEN_KEY, impressions_flush
from dragonrec.recommender.services.retention import retention_apply
from dragonrec.recommender.services.schedule import periodic_tasks_install
from dragonrec.recommender.services.teacher import teacher_judge
from dragonrec.tracking.factories import EventFactory
from dragonrec.tracking.models import Event
from tests.served_lists import stored_list

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def served_list(product: Any, *, age: timedelta, experiment: str = "") -> uuid.UUID:
    return stored_list([(product.pk, 1.0, "trending", 1.0)], session_id="s-old", age=age, experiment=experiment)


def judgment(*, age: timedelta) -> TeacherJudgment:
    made = TeacherJudgment.objects.create(prompt_version="v1", model="m", user_key="s:s-old", cache_key="k")
    TeacherJudgment.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def retention(**overrides: Any) -> Any:
    return override_settings(RECOMMENDER={**settings.RECOMMENDER, "RETENTION": overrides})


def test_rows_past_their_age_are_deleted_in_batches_and_recent_ones_kept(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given five events and three lists and judgments past their age, and recent ones of each
    old_events = [EventFactory(product=tiny_shop["kettle"], timestamp=timezone.now() - 800 * DAY) for _ in range(5)]
    recent_event = EventFactory(product=tiny_shop["kettle"], timestamp=timezone.now() - 700 * DAY)
    old_lists = [served_list(tiny_shop["pan"], age=200 * DAY) for _ in range(3)]
    recent_list = served_list(tiny_shop["pan"], age=100 * DAY)
    old_judgments = [judgment(age=400 * DAY) for _ in range(3)]
    recent_judgment = judgment(age=300 * DAY)
    # when the job runs with two rows per batch
    with retention(batch_size=2), CaptureQueriesContext(connection) as queries:
        report = retention_apply()
    # then exactly the old rows are gone, the lists with their items
    assert (report.events, report.impressions, report.judgments, report.more) == (5, 3, 3, False)
    assert not Event.objects.filter(pk__in=[e.pk for e in old_events]).exists()
    assert list(Event.objects.values_list("pk", flat=True)) == [recent_event.pk]
    assert list(ServedList.objects.values_list("pk", flat=True)) == [recent_list]
    assert not ServedList.objects.filter(pk__in=old_lists).exists()
    assert list(TeacherJudgment.objects.values_list("pk", flat=True)) == [recent_judgment.pk]
    assert not TeacherJudgment.objects.filter(pk__in=[j.pk for j in old_judgments]).exists()
    # ...each DELETE touching at most one batch: 5 events took three statements
    event_deletes = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "dragonrec_tracking_event"')
    ]
    assert len(event_deletes) == 3


def test_a_running_experiments_lists_are_kept_until_it_stops(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    Experiment.objects.create(name="exp-run", scenarios=["home"], status=Experiment.Status.RUNNING)
    kept = served_list(tiny_shop["pan"], age=400 * DAY, experiment="exp-run")
    gone = served_list(tiny_shop["pan"], age=400 * DAY, experiment="exp-done")
    assert retention_apply().impressions == 1
    assert list(ServedList.objects.values_list("pk", flat=True)) == [kept]
    assert not ServedList.objects.filter(pk=gone).exists()


def test_a_run_out_of_time_asks_to_be_run_again_and_none_keeps_forever(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        EventFactory(product=tiny_shop["kettle"], timestamp=timezone.now() - 800 * DAY)
    served_list(tiny_shop["pan"], age=400 * DAY)
    with retention(batch_size=1):
        stopped = retention_apply(budget_s=0.0)
    # the old list's day was dropped whole (a DROP is one statement, not a batch the budget stops)
    assert stopped.more and Event.objects.count() == 3 and stopped.impressions == 1
    with retention(events_days=None):
        report = retention_apply()
    assert (report.events, report.impressions, report.more) == (0, 0, False) and Event.objects.count() == 3


def test_the_job_is_on_the_beat_schedule() -> None:
    from django_celery_beat.models import PeriodicTask

    periodic_tasks_install()
    task = PeriodicTask.objects.get(name="dragonrec: retention")
    assert task.task == "dragonrec.recommender.tasks.retention_apply" and task.expire_seconds


def test_every_per_shopper_redis_key_expires(tiny_shop, llm_server) -> None:  # type: ignore[no-untyped-def]
    redis = get_redis_connection("default")
    redis.flushdb()
    # given a shopper who browsed, was served lists, clicked one, and whose list the teacher judged
    teacher = {**settings.RECOMMENDER, "TEACHER_BASE_URL": llm_server.base_url, "TEACHER_MODEL": "fake-teacher"}
    client = APIClient()
    with override_settings(RECOMMENDER=teacher):
        for key in ["monitor", "cable", "keyboard"]:
            event = {"id": str(uuid.uuid4()), "type": "view", "product_id": tiny_shop[key].id}
            assert client.post("/api/events/", {"events": [event]}, format="json").status_code == 200
        body = client.get("/api/recommendations/", {"n": 3}).json()
        click = {
            "id": str(uuid.uuid4()),
            "type": "click",
            "product_id": body["items"][0]["product"]["id"],
            "context": {"request_id": body["request_id"], "position": 1},
        }
        client.post("/api/events/", {"events": [click]}, format="json")
        impressions_flush()
        session = client.cookies["dragonrec_shopper"].value.split(":")[0]
        history = [[tiny_shop[k].id, "view"] for k in ["monitor", "cable", "keyboard"]]
        payload = {
            "user_key": f"s:{session}",
            "signature": "sig",
            "history": history,
            "candidates": [tiny_shop["mouse"].id],
        }
        assert teacher_judge(payload=payload).ok
    # then every key that names the shopper (or their hashed cookie) expires, and every shopper key has a pattern
    names = [n.decode() for n in redis.scan_iter(count=1000)]
    ours = [n for n in names if session in n or ":throttle:" in n]
    assert {SEEN_KEY.format(f"s:{session}")} <= set(ours) and any("teacher-scores" in n for n in ours)
    assert any(":throttle:" in n for n in ours)
    assert [n for n in ours if redis.ttl(n) < 0] == []
    # ...and the retention job's sweep knows every one of them
    assert all(any(fnmatchcase(n, p) for p in shopper_key_patterns()) for n in ours)


def test_keys_written_without_an_expiry_get_one() -> None:
    redis = get_redis_connection("default")
    redis.flushdb()
    # given shopper keys left without an expiry (an older release) and a key that is not a shopper's
    forever = SEEN_KEY.format("s:legacy")
    redis.lpush(forever, "1:2,3")
    redis.set("dragonrec:fatigue:clicked:s:fine", 1, ex=60)
    redis.set("dragonrec:not-a-shopper", 1)
    # when the job checks them
    assert shopper_keys_expire(ttl_s=3600) == 1
    # then only the shopper key got the maximum, the others are untouched
    assert 0 < redis.ttl(forever) <= 3600
    assert 0 < redis.ttl("dragonrec:fatigue:clicked:s:fine") <= 60
    assert redis.ttl("dragonrec:not-a-shopper") == -1
