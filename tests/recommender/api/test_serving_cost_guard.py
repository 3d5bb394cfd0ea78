"""The CI guard on serving cost (issue #27): a recommendation request may cost at most K times the same server's
floor, a plain catalog GET (one product), measured interleaved in one run through the whole Django stack
(middleware, authentication, throttles, view, rendering). Not a timed test but a ratio of CPU time: each request's
thread CPU time (time.thread_time) does not count the time other processes take the cores from it, so a loaded CI
machine moves both sides alike, while a feature that doubles a list's cost moves the ratio at once. Round trips
(which wait, not compute) are pinned separately: test_request_budget.py.

K: after #27's fixes the ratio of medians measured 1.33 and 1.40 (tiny catalog, returning shoppers, cookie and API
key, load average 11-16 on 2 cores); with 5 ms of CPU added per list (the list's own cost: a doubling) it measured
2.84. K = 2.2 leaves ~1.6x headroom for noise and fails a doubling. Medians, not p95: 60 pairs give a stable median,
while a p95 of 60 samples is 3 of them.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

pytestmark = pytest.mark.django_db
K = 2.2
PAIRS = 60
WARMUP = 10


def _timed(client: Any, url: str, query: dict[str, str]) -> float:
    started = time.thread_time()
    response = client.get(url, query)
    elapsed = time.thread_time() - started
    assert response.status_code == 200, response.content
    return elapsed


def test_a_recommendation_costs_at_most_k_times_a_catalog_get(
    api_client, tiny_shop, shopper_cookie, api_key, settings
) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.conf import DEFAULTS
    from dragonrec.tracking.factories import EventFactory

    # given the serving settings (a catalog snapshot reused for SNAPSHOT_TTL_S, as in production) and two returning
    # shoppers, a browser and an integration's
    # and every list computed in full: the same four lists repeat here, so the scored-candidate memo would serve
    # them and hide a slower candidate source or ranker (a miss is what the guard must price)
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "SNAPSHOT_TTL_S": DEFAULTS["SNAPSHOT_TTL_S"],
        "SCORED_CANDIDATES_TTL_S": 0,
    }
    for session_id in ("c-guard-browser", "c-guard-backend"):
        for key in ("shoe_road", "shoe_trail", "monitor", "keyboard"):
            EventFactory(session_id=session_id, product=tiny_shop[key], type="view")
    browser = shopper_cookie(api_client.__class__(), "c-guard-browser")
    integration = api_client.__class__()
    integration.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['recommendations:read'])}")
    lists = [
        (browser, {"scenario": "home"}),
        (integration, {"scenario": "home", "session_id": "c-guard-backend"}),
        (browser, {"scenario": "product", "product_id": str(tiny_shop["monitor"].pk)}),
        (integration, {"scenario": "cart", "session_id": "c-guard-backend"}),
    ]
    floor_url = f"/api/products/{tiny_shop['mouse'].pk}/"
    recommendations, floor = [], []
    # when recommendation requests and catalog GETs alternate on the same server
    for i in range(WARMUP + PAIRS):
        client, query = lists[i % len(lists)]
        rec = _timed(client, "/api/recommendations/", query)
        base = _timed(browser, floor_url, {})
        if i >= WARMUP:
            recommendations.append(rec)
            floor.append(base)
    # then a list costs at most K floors
    ratio = statistics.median(recommendations) / statistics.median(floor)
    assert ratio <= K, (
        f"a recommendation costs {ratio:.2f}x a catalog GET (median CPU {1000 * statistics.median(recommendations):.1f}"
        f" ms vs {1000 * statistics.median(floor):.1f} ms), above the guard's {K}x: profile it with "
        "bench/serving_profile.py"
    )
