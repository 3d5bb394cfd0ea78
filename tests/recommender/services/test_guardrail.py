"""The guardrail on simulated live traffic through the real API: shoppers ask for lists and click what they were
looking for; a promoted version that serves them worse is rolled back, one that serves them as well is left alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_redis import get_redis_connection

from dragonrec.recommender.core.caching import process_caches_reset
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.guardrail import served_outcomes
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.recommender.services.registry import model_version_activate
from dragonrec.recommender.tasks import model_guardrail, rewards_update
from dragonrec.tracking.factories import EventFactory
from tests.recommender.services.conftest import SETTINGS
from tests.recommender.services.test_online_update import scrambled_version

pytestmark = pytest.mark.django_db

GUARDED = {
    **SETTINGS,
    # a small shop's test: decide after 24 lists per version, count clicks as soon as they are attributed
    "GUARDRAIL": {"min_impressions": 24, "settle_minutes": 0, "margin": 0.05, "alpha": 0.05},
}
# a shopper who has seen these wants the next product of the pattern the student learned
WANTS = {("monitor", "cable"): "keyboard", ("shoe_road", "socks_run"): "bottle"}
LISTS = 24


def shop_for_an_hour(api_client, shopper_cookie, tiny_shop, tag: str) -> int:  # type: ignore[no-untyped-def]
    """LISTS shoppers each get a home list from GET /api/recommendations/ and, when what they want is among the
    first three items, click it with POST /api/events/ as the storefront does. Returns the clicks."""
    clicks = 0
    for s in range(LISTS):
        session = f"s-{tag}-{s}"
        seen, wanted = list(WANTS.items())[s % len(WANTS)]
        for key in seen:
            EventFactory(session_id=session, product=tiny_shop[key], type="view")
        client = shopper_cookie(api_client, session)
        body = client.get("/api/recommendations/", {"scenario": "home", "n": 4}).json()
        ids = [item["product"]["id"] for item in body["items"]]
        if tiny_shop[wanted].id not in ids[:3]:
            continue
        position = ids.index(tiny_shop[wanted].id) + 1
        click = {
            "id": str(uuid.uuid4()),
            "type": "click",
            "product_id": ids[position - 1],
            "context": {"request_id": body["request_id"], "position": position},
        }
        assert client.post("/api/events/", {"events": [click]}, format="json").status_code in (200, 201, 202)
        clicks += 1
    return clicks


def promote_and_serve(api_client, shopper_cookie, tiny_shop, new: ModelVersion) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """An hour of v1's traffic, then `new` is promoted and serves the next hour: the clicks before and after."""
    get_redis_connection("default").flushdb()  # lists an earlier test served but never flushed are not ours
    before = shop_for_an_hour(api_client, shopper_cookie, tiny_shop, "before")
    model_version_activate(version=new)
    process_caches_reset()  # this process's serving picks the new version up now rather than in MODEL_REFRESH_S
    after = shop_for_an_hour(api_client, shopper_cookie, tiny_shop, "after")
    # the beat jobs: buffered lists are written, then clicks are credited to them
    impressions_flush()
    rewards_update()
    return before, after


@override_settings(RECOMMENDER=GUARDED)
def test_the_guardrail_rolls_back_a_version_that_serves_shoppers_worse(
    api_client, shopper_cookie, tiny_shop, active, redis_client, admin_client
) -> None:  # type: ignore[no-untyped-def]
    # given: v2 (its student's product ids shuffled) was promoted after v1 and has served as many lists
    worse = scrambled_version(active, "v2")
    before, after = promote_and_serve(api_client, shopper_cookie, tiny_shop, worse)
    assert after < before  # shoppers find what they want less often in v2's lists
    # when: the guardrail's beat task runs
    assert model_guardrail() == "v2"
    # then: v1 serves again and v2 says why it was rolled back
    worse.refresh_from_db()
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == active
    assert worse.status == ModelVersion.Status.ARCHIVED and worse.rolled_back_at is not None
    assert "rolled back to v1 by the guardrail: click rate" in worse.decision
    report = worse.metrics["guardrail"]
    assert report["new"]["lists"] == LISTS and report["previous"]["lists"] == LISTS
    assert report["tests"]["click_rate"]["new_rate"] < report["tests"]["click_rate"]["old_rate"]
    assert api_client.get("/api/recommendations/", {"n": 3}).json()["ranker"] == "student:v1"
    # and the next run leaves v1 alone (v2 is no baseline to roll back to)
    assert model_guardrail() == ""
    # the admin's list of versions shows why
    page = admin_client.get("/admin/dragonrec_recommender/modelversion/").content.decode()
    assert "rolled back to v1 by the guardrail" in page


@override_settings(RECOMMENDER=GUARDED)
def test_the_guardrail_leaves_a_version_that_is_not_worse_alone(
    api_client, shopper_cookie, tiny_shop, active, redis_client
) -> None:  # type: ignore[no-untyped-def]
    # given: v2 serves as well as v1 (the same weights under a new version)
    same = ModelVersion.objects.create(
        version="v2", kind=ModelVersion.Kind.ONLINE, status=ModelVersion.Status.CANDIDATE, artifact=active.artifact
    )
    before, clicks = promote_and_serve(api_client, shopper_cookie, tiny_shop, same)
    assert clicks == before > LISTS // 2
    # (enough lists of both versions for the guardrail to decide)
    same.refresh_from_db()
    assert served_outcomes(version="v2", start=same.activated_at, end=timezone.now(), settle=timedelta(0)) == {
        "lists": LISTS,
        "click_rate": clicks,
        "purchase_rate": 0,
    }
    # (with the default settle time, lists this young are not counted yet)
    young = served_outcomes(version="v2", start=same.activated_at, end=timezone.now(), settle=timedelta(minutes=60))
    assert young["lists"] == 0
    # when
    assert model_guardrail() == ""
    # then
    same.refresh_from_db()
    assert same.status == ModelVersion.Status.ACTIVE and same.rolled_back_at is None
    # its decision log holds the activation only, nothing from the guardrail
    assert "activated, replacing v1" in same.decision and "guardrail" not in same.decision
