"""Key tasks through a real Celery worker process (not eager mode), on the real broker and database."""

from __future__ import annotations

import time

import pytest

from dragonrec.catalog.factories import ProductFactory
from dragonrec.recommender.models import ProductEmbedding, TrendingScore
from dragonrec.tracking.factories import EventFactory

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def wait_for(predicate, timeout: float = 90.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_worker_embeds_a_new_product_and_recomputes_trending(celery_worker_process) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.tasks import embed_products, trending_recompute

    # given: a product saved outside any test transaction (the worker sees committed rows only)
    product = ProductFactory(title="Trail Running Shoes")
    EventFactory(product=product, type="purchase", session_id="s-w")
    # when: the tasks go through the broker to the worker process
    embed_products.delay()
    trending_recompute.delay()
    # then
    assert wait_for(lambda: ProductEmbedding.objects.filter(product=product).exists()), "worker did not embed"
    assert wait_for(lambda: TrendingScore.objects.filter(product=product).exists()), "worker did not run trending"
    # and the worker recorded both runs for the job-health page (Celery's task signals, in the worker process)
    from dragonrec.recommender.models import JobRun

    assert wait_for(
        lambda: JobRun.objects.filter(
            task="dragonrec.recommender.tasks.trending_recompute", last_outcome="success", last_duration_s__gte=0
        ).exists()
    ), "the worker's run was not recorded"


def test_worker_writes_buffered_impressions(celery_worker_process, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.models import ServedList
    from dragonrec.recommender.services.recommendations import recommendation_list

    EventFactory(product=tiny_shop["shoe_road"], type="view", session_id="s-worker")
    # when: a list is served (its impression goes to the Redis buffer, and a flush is scheduled for the worker)
    served = recommendation_list(scenario="home", session_id="s-worker", n=3)
    # then
    assert wait_for(lambda: ServedList.objects.filter(request_id=served.request_id).exists()), "no flush"
    assert len(ServedList.objects.get(request_id=served.request_id).item_ids) == 3
