"""recommender.selectors: the product rendering's serializer, shared within a thread and never across threads."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.test import override_settings
from rest_framework import serializers

from dragonrec.catalog.models import Product
from dragonrec.recommender.selectors import _product_renderer


class StatefulTitleSerializer(serializers.Serializer[Product]):
    """A shop's serializer that keeps state on itself between two steps of a rendering (as a method field caching
    on `self` would): correct as long as one thread at a time uses an instance."""

    def to_representation(self, instance: Product) -> dict[str, Any]:
        self.current = instance
        time.sleep(0.002)  # another thread's rendering runs here, on a shared instance
        return {"id": self.current.pk, "title": self.current.title}


def test_each_thread_renders_with_its_own_serializer() -> None:
    products = [Product(pk=i, title=f"product {i}") for i in range(1, 41)]
    wrong: list[tuple[int, dict[str, Any]]] = []
    per_thread: list[tuple[Any, Any]] = []

    def render(chunk: list[Product]) -> None:
        first = _product_renderer()
        for product in chunk:
            data = _product_renderer().to_representation(product)
            if data != {"id": product.pk, "title": product.title}:
                wrong.append((product.pk, data))
        per_thread.append((first, _product_renderer()))

    path = f"{__name__}.StatefulTitleSerializer"
    with override_settings(RECOMMENDER={"PRODUCT_SERIALIZER": path}):
        threads = [threading.Thread(target=render, args=(products[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not wrong, f"renderings mixed between threads: {wrong[:3]}"
    # built once per thread (the point of keeping it), one per thread
    assert all(first is again for first, again in per_thread)
    assert len({id(first) for first, _ in per_thread}) == 4
