"""Key tasks through a real Celery worker process (not eager mode), on the real broker and database."""

from __future__ import annotations

import time

import pytest

from catalog.factories import ProductFactory
from recommender.models import ProductEmbedding, TrendingScore
from tracking.factories import EventFactory

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def wait_for(predicate, timeout: float = 90.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_worker_embeds_a_new_product_and_recomputes_trending(celery_worker_process) -> None:  # type: ignore[no-untyped-def]
    from recommender.tasks import embed_products, trending_recompute

    # given: a product saved outside any test transaction (the worker sees committed rows only)
    product = ProductFactory(title="Trail Running Shoes")
    EventFactory(product=product, type="purchase", session_id="s-w")
    # when: the tasks go through the broker to the worker process
    embed_products.delay()
    trending_recompute.delay()
    # then
    assert wait_for(lambda: ProductEmbedding.objects.filter(product=product).exists()), "worker did not embed"
    assert wait_for(lambda: TrendingScore.objects.filter(product=product).exists()), "worker did not run trending"
