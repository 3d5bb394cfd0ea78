"""The hot path's database budget: a warm serving process answers a recommendation request with a pinned number of
queries (everything else comes from its process caches), so a change that adds a round trip per request fails
here instead of showing up as latency in production."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dragonrec.recommender.services.aggregates import trending_recompute
from dragonrec.recommender.services.recommendations import recommendation_list
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db

# A warm request reads nothing from the database: the shopper's own state (recent events, stated preferences) comes
# from its Redis cache, valid until their next write (tracking/state.py); catalog, embeddings, trending, complements,
# merchant rules, running experiments and the active student come from the process caches (core.caching) until
# their TTL; impressions are buffered in Redis, not written inline. The whole request, middleware and
# authentication included, is pinned in tests/recommender/api/test_request_budget.py.
WARM_REQUEST_QUERIES = 0


@pytest.fixture
def warm_settings(settings):  # type: ignore[no-untyped-def]
    # production-like TTLs (the test settings check the catalog on every request); exploration stays as configured
    settings.RECOMMENDER = {**settings.RECOMMENDER, "SNAPSHOT_TTL_S": 60, "MODEL_REFRESH_S": 60}


@pytest.mark.parametrize("scenario", ["home", "product", "cart"])
def test_a_warm_request_makes_a_pinned_number_of_queries(
    tiny_shop, warm_settings, scenario, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    # given: a shopper with a history and a cart, and a process that has served once
    for key in ["coffee", "kettle", "monitor", "shoe_road"]:
        EventFactory(session_id=f"s-{key}", product=tiny_shop[key], type="purchase")
    trending_recompute()
    EventFactory(session_id="s-me", product=tiny_shop["shoe_trail"], type="view")
    EventFactory(session_id="s-me", product=tiny_shop["monitor"], type="add_to_cart")
    anchor = tiny_shop["monitor"].pk if scenario == "product" else None
    recommendation_list(scenario=scenario, session_id="s-me", product_id=anchor)
    # when / then
    with django_assert_num_queries(WARM_REQUEST_QUERIES):
        served = recommendation_list(scenario=scenario, session_id="s-me", product_id=anchor)
    assert len(served.items) >= 5


def test_a_cold_process_pays_for_its_caches_once(tiny_shop, warm_settings) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-me", product=tiny_shop["shoe_trail"], type="view")
    with CaptureQueriesContext(connection) as cold:
        recommendation_list(scenario="home", session_id="s-me")
    assert len(cold.captured_queries) > WARM_REQUEST_QUERIES  # the snapshot, rules, experiments, student were built
