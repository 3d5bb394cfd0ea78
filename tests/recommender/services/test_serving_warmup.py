"""A fresh web process warms up (gunicorn's post_worker_init) before its first request."""

from __future__ import annotations

import pytest

from dragonrec.catalog.models import Product
from dragonrec.recommender.core.caching import process_caches_reset
from dragonrec.recommender.services.aggregates import trending_recompute
from dragonrec.recommender.services.recommendations import serving_warmup
from dragonrec.recommender.stores import current_snapshot
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db


def test_serving_warmup_leaves_the_process_ready(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    for key in ["coffee", "kettle", "monitor", "shoe_road"]:
        EventFactory(session_id=f"s-{key}", product=tiny_shop[key], type="purchase")
    trending_recompute()
    process_caches_reset()  # a fresh process
    serving_warmup()
    snapshot = current_snapshot()
    assert snapshot is not None and snapshot.size == Product.objects.count()
    assert len(snapshot.rendered) >= 4  # the trending products' API renderings are cached
