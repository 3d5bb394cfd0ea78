"""The impression buffer under faults: overlapping flushers, a flusher that dies mid-batch, and Redis down while
the teacher is on. Against the real Redis and PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.test import override_settings
from django_redis import get_redis_connection

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.services import impressions as buffer
from dragonrec.recommender.services.impressions import impression_record, impression_record_build, impressions_flush
from dragonrec.tracking.factories import EventFactory


@pytest.fixture
def redis() -> Any:
    client = get_redis_connection("default")
    client.flushdb()
    yield client
    client.flushdb()


def push(n: int, product_id: int) -> list[str]:
    ids = []
    for position in range(n):
        request_id = uuid.uuid4()
        ids.append(str(request_id))
        impression_record(
            impression_record_build(
                request_id=request_id,
                user_id=None,
                session_id=f"s-{position}",
                scenario="home",
                anchor_ids=[],
                ranker="embedding",
                model_version="",
                context={},
                items=[(product_id, 1, 0.5, "ann")],
            )
        )
    return ids


@pytest.mark.django_db(transaction=True)
def test_two_flushers_with_a_lock_shorter_than_the_flush_write_each_record_once(redis, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given 3000 buffered lists (several batches) and a flush lock that expires long before they are written
    ids = push(3000, tiny_shop["monitor"].id)
    written: list[int] = []
    errors: list[BaseException] = []

    def flusher(delay: float) -> None:
        try:
            time.sleep(delay)
            written.append(impressions_flush(lock_timeout_s=0.05, reschedule=False))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    # when a second flusher starts once the first one's lock has expired, while the first is still writing
    threads = [threading.Thread(target=flusher, args=(delay,)) for delay in (0.0, 0.15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # then both flushed, every record was written exactly once, and nothing is left behind
    assert not errors
    assert all(count > 0 for count in written), written  # they really overlapped
    assert sum(written) == 3000
    assert ServedList.objects.filter(request_id__in=ids).count() == 3000
    assert sum(len(i) for i in ServedList.objects.filter(request_id__in=ids).values_list("item_ids", flat=True)) == 3000
    assert buffer.impressions_buffered() == 0
    assert not redis.keys(buffer.PROCESSING_KEY.format("*"))


@pytest.mark.django_db
def test_a_batch_claimed_by_a_flusher_that_died_is_written_by_the_next_flush(redis, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given a flusher that claimed a batch and was killed before writing it (its alive mark then expires)
    ids = push(10, tiny_shop["monitor"].id)
    token = "dead-flusher"
    claimed = redis.eval(
        buffer._CLAIM_SCRIPT,
        4,
        buffer.BUFFER_KEY,
        buffer.PROCESSING_KEY.format(token),
        buffer.FLUSHERS_KEY,
        buffer.ALIVE_KEY.format(token),
        6,
        token,
        1,
    )
    assert len(claimed) == 6 and redis.llen(buffer.BUFFER_KEY) == 4
    assert buffer.impressions_buffered() == 10  # claimed records still count as not written
    # while its mark lives, its batch is left alone
    assert impressions_flush() == 4
    assert buffer.impressions_buffered() == 6
    redis.delete(buffer.ALIVE_KEY.format(token))  # what the expiry does
    # when the next flush runs, then nothing was lost
    assert impressions_flush() == 6
    assert ServedList.objects.filter(request_id__in=ids).count() == 10
    assert buffer.impressions_buffered() == 0


@pytest.mark.django_db
def test_with_redis_down_and_the_teacher_on_requests_are_served_and_impressions_written_inline(
    api_client, tiny_shop, llm_server, shopper_cookie
) -> None:  # type: ignore[no-untyped-def]
    # given the teacher on and the cache/buffer Redis unreachable (a port nothing listens on)
    EventFactory(session_id="s-down", product=tiny_shop["shoe_road"], type="view")
    down = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    teacher = {**settings.RECOMMENDER, "TEACHER_BASE_URL": llm_server.base_url, "TEACHER_MODEL": "fake-teacher"}
    with override_settings(CACHES={"default": down}, RECOMMENDER=teacher):
        # when shoppers ask for lists (with history: the teacher would be asked to judge them)
        browser = shopper_cookie(api_client.__class__(), "s-down")
        responses = [browser.get("/api/recommendations/", {"n": 4}) for _ in range(3)]
        anonymous = api_client.get("/api/recommendations/", {"n": 4})
    cache.clear()
    # then every request is served, and every list is already in the database
    assert [r.status_code for r in responses] == [200, 200, 200] and anonymous.status_code == 200
    assert all(r.json()["items"] for r in responses)
    ids = [r.json()["request_id"] for r in [*responses, anonymous]]
    assert ServedList.objects.filter(request_id__in=ids).count() == 4


@pytest.mark.django_db(transaction=True)
def test_buffer_state_counts_claimed_batches_and_dates_the_oldest_record_wherever_it_waits(
    redis, tiny_shop, admin_client, settings
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    # given a list served a minute ago, claimed by a flusher that has not written it yet, and three newer ones
    old = impression_record_build(
        request_id=uuid.uuid4(), user_id=None, session_id="s-old", scenario="home", anchor_ids=[], ranker="embedding",
        model_version="", context={}, items=[(tiny_shop["monitor"].id, 1, 0.5, "ann", 1.0)],
    )  # fmt: skip
    served_at = timezone.now() - timedelta(minutes=1)
    old["created_at"] = served_at.isoformat()
    impression_record(old)
    redis.eval(buffer._CLAIM_SCRIPT, 4, buffer.BUFFER_KEY, buffer.PROCESSING_KEY.format("slow"), buffer.FLUSHERS_KEY,
               buffer.ALIVE_KEY.format("slow"), 1, "slow", 60)  # fmt: skip
    push(3, tiny_shop["kettle"].id)
    # when the state is read, then the claimed record is counted and is the oldest
    state = buffer.impressions_buffer_state()
    assert state.depth == 4 and state.oldest_at == served_at
    assert 60 <= state.lag_s(timezone.now()) < 120
    # and /metrics and the dashboard report the same
    settings.DRAGONREC_METRICS_ENABLED = True
    body = admin_client.get("/metrics").content.decode()
    assert "dragonrec_impression_buffer_depth 4.0" in body
    page = admin_client.get("/admin/dragonrec_recommender/experiment/dashboard/").content.decode()
    assert "Impression buffer: 4 lists waiting to be written" in page
    # and once everything is written the buffer is empty and has no age
    redis.delete(buffer.ALIVE_KEY.format("slow"))
    while buffer.impressions_buffered():
        impressions_flush()
    assert buffer.impressions_buffer_state() == buffer.BufferState(depth=0, oldest_at=None)
