"""One deletion path: a shopper's erasure and retention delete served lists (with their items) and teacher
judgments the same way, and answer the same report."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dragonrec.recommender.models import ServedList, ServedOutcome, TeacherJudgment
from dragonrec.recommender.services.privacy import shopper_data_erase
from dragonrec.recommender.services.retention import retention_apply
from tests.recommender.services.test_retention import retention
from tests.served_lists import stored_list

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def served_list(tiny_shop: Any, *, session_id: str, age: timedelta) -> uuid.UUID:
    items = [(tiny_shop[key].pk, 1.0, "trending", 1.0) for key in ("pan", "kettle")]
    return stored_list(items, session_id=session_id, age=age)


def judgment(*, user_key: str, age: timedelta) -> TeacherJudgment:
    made = TeacherJudgment.objects.create(prompt_version="v1", model="m", user_key=user_key, cache_key="")
    TeacherJudgment.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def test_erasure_and_retention_delete_alike_and_answer_the_same_report(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: a list and a judgment past their age (of a shopper who stays), a recent list and judgment of a shopper
    # who asks to be erased, and a recent list of a third shopper that neither may touch
    served_list(tiny_shop, session_id="s-old", age=400 * DAY)
    judgment(user_key="s:s-old", age=400 * DAY)
    served_list(tiny_shop, session_id="s-me", age=DAY)
    judgment(user_key="s:s-me", age=DAY)
    kept = served_list(tiny_shop, session_id="s-other", age=DAY)
    # when: the retention job runs (one row per batch), and the shopper is erased
    with retention(batch_size=1, impressions_days=180, judgments_days=180):
        aged = retention_apply()
    erased = shopper_data_erase(user_id=None, session_id="s-me")
    # then: one report shape, with the same counts for the same work
    counts = {"events", "preferences", "impressions", "judgments", "redis_keys"}
    assert type(aged) is type(erased) and set(aged.as_dict()) == set(erased.as_dict()) == counts
    assert (aged.impressions, aged.judgments, aged.more) == (1, 1, False)
    assert (erased.impressions, erased.judgments, erased.more) == (1, 1, False)
    # and each list went with its items, the other shopper's list untouched
    assert list(ServedList.objects.values_list("pk", flat=True)) == [kept]
    assert set(ServedOutcome.objects.values_list("request_id", flat=True)) <= {kept}
    assert not TeacherJudgment.objects.exists()
