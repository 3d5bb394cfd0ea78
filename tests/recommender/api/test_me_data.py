"""A shopper's own data: export, erasure (API and support command), and erased shoppers left out of training."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from dragonrec.recommender.models import ServedList, TeacherJudgment
from dragonrec.recommender.services.impressions import (
    SEEN_KEY,
    impression_record_build,
    impressions_flush,
    impressions_write,
)
from dragonrec.recommender.services.recommendations import teacher_cache_key
from dragonrec.recommender.services.registry import reward_labels, teacher_labels, training_sequences
from dragonrec.tracking.factories import EventFactory
from dragonrec.tracking.models import Event, ShopperErasure, UserPreference
from tests.served_lists import served_outcomes, stored_list

pytestmark = pytest.mark.django_db
URL = "/api/me/data/"
COOKIE = "dragonrec_shopper"


def browse(client: APIClient, shop) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """An anonymous visit: two views, a stated preference, a served list with a click on it."""
    for key in ["monitor", "cable"]:
        event = {"id": str(uuid.uuid4()), "type": "view", "product_id": shop[key].id}
        client.post("/api/events/", {"events": [event]}, format="json")
    client.put("/api/preferences/", {"categories": ["Electronics > Monitors"]}, format="json")
    body = client.get("/api/recommendations/", {"n": 3}).json()
    click = {
        "id": str(uuid.uuid4()),
        "type": "click",
        "product_id": body["items"][0]["product"]["id"],
        "context": {"request_id": body["request_id"], "position": 1},
    }
    client.post("/api/events/", {"events": [click]}, format="json")
    impressions_flush()
    return body


def session_of(client: APIClient) -> str:
    return client.cookies[COOKIE].value.split(":")[0]


def judgment_for(key: str, **extra: object) -> TeacherJudgment:
    return TeacherJudgment.objects.create(
        prompt_version="v1",
        model="m",
        user_key=key,
        cache_key="abc",
        history=[[1, "view"]],
        candidates=[1, 2],
        scores={"1": 9, "2": 1},
        **extra,
    )


def test_an_anonymous_shopper_downloads_their_own_data_only(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: two shoppers
    me, other = APIClient(), APIClient()
    body = browse(me, tiny_shop)
    browse(other, tiny_shop)
    judgment_for(f"s:{session_of(me)}")
    # when
    data = me.get(URL).json()
    # then
    assert data["session_id"] == session_of(me) and data["user_id"] is None
    assert sorted(e["type"] for e in data["events"]) == ["click", "view", "view"]
    assert data["preferences"][0]["categories"] == ["Electronics > Monitors"]
    assert [i["request_id"] for i in data["impressions"]] == [body["request_id"]]
    assert data["impressions"][0]["items"][0]["clicked_at"] is not None
    assert len(data["judgments"]) == 1 and data["judgments"][0]["scores"] == {"1": 9, "2": 1}


def test_erasure_removes_everything_of_the_shopper_and_nothing_of_others(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    me, other = APIClient(), APIClient()
    browse(me, tiny_shop)
    browse(other, tiny_shop)
    mine, theirs = f"s:{session_of(me)}", f"s:{session_of(other)}"
    judgment_for(mine)
    cache.set(teacher_cache_key(mine, "sig"), {"1": {"score": 9}})
    cache.set(teacher_cache_key(theirs, "sig"), {"1": {"score": 9}})
    redis = get_redis_connection("default")
    assert redis.exists(SEEN_KEY.format(mine))
    # when
    response = me.delete(URL)
    # then
    assert response.status_code == 200
    erased = response.json()["erased"]
    assert erased["events"] == 3 and erased["impressions"] == 1 and erased["judgments"] == 1
    assert not Event.objects.filter(session_id=mine[2:]).exists()
    assert not UserPreference.objects.filter(session_id=mine[2:]).exists()
    assert not ServedList.objects.filter(session_id=mine[2:]).exists()
    assert not redis.exists(SEEN_KEY.format(mine)) and cache.get(teacher_cache_key(mine, "sig")) is None
    # the other shopper keeps everything
    assert Event.objects.filter(session_id=theirs[2:]).count() == 3
    assert cache.get(teacher_cache_key(theirs, "sig")) and redis.exists(SEEN_KEY.format(theirs))
    # and the browser gets a new, empty identity
    assert session_of(me) != mine[2:]
    assert me.get(URL).json()["events"] == []


def test_a_signed_in_user_erases_their_account_data_and_their_browsers(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("hal", password="pw-hal-123")
    client = APIClient()
    client.post("/api/auth/login/", {"username": "hal", "password": "pw-hal-123"}, format="json")
    browse(client, tiny_shop)
    EventFactory(user=user, session_id="", product=tiny_shop["kettle"], type="purchase")
    data = client.get(URL).json()
    assert data["user_id"] == user.id and len(data["events"]) == 4
    client.delete(URL)
    assert not Event.objects.filter(user=user).exists() and not ServedList.objects.filter(user=user).exists()
    assert ShopperErasure.objects.count() == 2  # the account and the browser's anonymous id


def test_erasing_a_shopper_with_10000_events_takes_under_a_minute(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: 10,000 events and 1,000 served lists of one shopper
    now = timezone.now()
    products = list(tiny_shop.products.values())
    Event.objects.bulk_create(
        Event(
            type="view",
            session_id="s-heavy",
            product=products[i % len(products)],
            timestamp=now - timedelta(seconds=i),
        )
        for i in range(10_000)
    )
    impressions_write(
        [
            impression_record_build(
                request_id=uuid.uuid4(), user_id=None, session_id="s-heavy", scenario="home", anchor_ids=[],
                ranker="embedding", model_version="", context={}, items=[(products[0].pk, 1, 1.0, "", 1.0)],
            )
            for _ in range(1_000)
        ]
    )  # fmt: skip
    assert ServedList.objects.count() == 1_000
    # when
    started = time.monotonic()
    call_command("dragonrec_forget", "--session", "s-heavy", stdout=_Null())
    elapsed = time.monotonic() - started
    # then
    assert elapsed < 60, elapsed
    assert not Event.objects.filter(session_id="s-heavy").exists()
    assert not ServedList.objects.exists()


def test_forget_by_user_for_support_staff(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("ivy")
    EventFactory(user=user, session_id="", product=tiny_shop["kettle"])
    UserPreference.objects.create(user=user, categories=["Home"])
    call_command("dragonrec_forget", "--user", str(user.id), stdout=_Null())
    assert not Event.objects.filter(user=user).exists() and not UserPreference.objects.filter(user=user).exists()
    assert ShopperErasure.objects.get().requested_by == "support"


def test_erased_shoppers_are_left_out_of_later_training_data(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: two shoppers, one of whom is erased
    for session in ["s-keep", "s-gone"]:
        for key in ["monitor", "cable", "keyboard"]:
            EventFactory(session_id=session, product=tiny_shop[key])
    call_command("dragonrec_forget", "--session", "s-gone", stdout=_Null())
    # when: data about the erased shopper lands afterwards (a buffered list, an in-flight judgment, a late event)
    EventFactory(session_id="s-gone", product=tiny_shop["mouse"])
    judgment_for("s:s-gone")
    judgment_for("s:s-keep")
    for session in ["s-keep", "s-gone"]:
        shown = [(tiny_shop[key].pk, 1.0, "embedding", 1.0) for key in ["monitor", "mouse"]]
        served_outcomes(stored_list(shown, session_id=session, ranker="embedding"), 1, clicked_at=timezone.now())
    # then: the builders leave the erased shopper out
    assert set(training_sequences()) == {"s:s-keep"}
    assert len(teacher_labels()) == 1
    assert len(reward_labels()) == 1


class _Null:
    def write(self, *_: object) -> None:
        pass

    def flush(self) -> None:
        pass
