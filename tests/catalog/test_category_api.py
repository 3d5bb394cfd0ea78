from __future__ import annotations

from decimal import Decimal

import pytest

from dragonrec.catalog.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_categories_come_flat_by_path_with_active_counts_below_each(api_client, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    # given a small tree: two monitors (one retired), a mouse, and an empty kitchen
    electronics = CategoryFactory(name="Electronics")
    monitors = CategoryFactory(name="Monitors", parent=electronics)
    mice = CategoryFactory(name="Mice", parent=electronics)
    CategoryFactory(name="Kitchen")
    ProductFactory(category=monitors, price=Decimal("300"))
    ProductFactory(category=monitors, is_active=False)
    ProductFactory(category=mice)

    # when
    with django_assert_num_queries(2):
        response = api_client.get("/api/categories/")

    # then
    assert response.status_code == 200
    rows = {row["path"]: row for row in response.json()}
    assert list(rows) == ["Electronics", "Electronics > Mice", "Electronics > Monitors", "Kitchen"]
    assert rows["Electronics"]["product_count"] == 2  # its children's, not the retired monitor
    assert rows["Electronics > Monitors"] == {
        "id": monitors.id,
        "name": "Monitors",
        "path": "Electronics > Monitors",
        "parent_id": electronics.id,
        "depth": 1,
        "product_count": 1,
    }
    assert rows["Kitchen"]["product_count"] == 0
