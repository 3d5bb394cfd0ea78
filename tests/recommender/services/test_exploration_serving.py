"""Exploration in serving: the reward log carries each item's propensity and the policy, and a request id
reproduces its list."""

from __future__ import annotations

import uuid

import pytest

from dragonrec.recommender.models import ServedList
from dragonrec.recommender.services.impressions import impressions_flush
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db

EXPLORE = {"enabled": True, "deterministic_slots": 2, "pool": 6, "temperature": 0.5}


@pytest.fixture
def exploring(settings):  # type: ignore[no-untyped-def]
    settings.RECOMMENDER = {**settings.RECOMMENDER, "EXPLORATION": {"home": EXPLORE}}


def test_the_reward_log_records_propensities_and_the_policy(tiny_shop, exploring, redis_client) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-explore", product=tiny_shop["monitor"], type="view")
    served = recommendation_list(scenario="home", session_id="s-explore", n=5)
    impressions_flush()
    impression = ServedList.objects.select_related("policy").get(request_id=served.request_id)
    assert impression.policy.policy["exploration"] == EXPLORE
    assert impression.policy.policy["ranker"] == served.ranker
    propensities = impression.propensity_list()
    assert propensities[:2] == [1.0, 1.0]  # the deterministic head
    assert all(0 < p < 1 for p in propensities[2:])
    assert propensities == pytest.approx([item.propensity for item in served.items], rel=1e-6)  # stored as float4


def test_a_reproduced_list_equals_the_served_one(tiny_shop, exploring) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-again", product=tiny_shop["shoe_road"], type="view")
    lists = {
        tuple(i.product_id for i in recommendation_list(scenario="home", session_id="s-again", n=5, record=False).items)
        for _ in range(12)
    }
    assert len(lists) > 1, "different requests explore differently"
    request_id = uuid.uuid4()
    served = recommendation_list(scenario="home", session_id="s-again", n=5, record=False, request_id=request_id)
    again = recommendation_list(scenario="home", session_id="s-again", n=5, record=False, request_id=request_id)
    assert [(i.product_id, i.propensity) for i in served.items] == [(i.product_id, i.propensity) for i in again.items]


def test_exploration_off_serves_the_ranked_list(tiny_shop, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RECOMMENDER = {**settings.RECOMMENDER, "EXPLORATION": {"home": {"enabled": False}}}
    EventFactory(session_id="s-fixed", product=tiny_shop["kettle"], type="view")
    lists = {
        tuple(i.product_id for i in recommendation_list(scenario="home", session_id="s-fixed", n=5, record=False).items)
        for _ in range(5)
    }
    assert len(lists) == 1
    served = recommendation_list(scenario="home", session_id="s-fixed", n=5, record=False)
    assert {i.propensity for i in served.items} == {1.0}
