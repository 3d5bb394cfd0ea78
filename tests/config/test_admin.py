"""Every admin page a shop owner opens renders (changelists with search, and the add forms)."""

from __future__ import annotations

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [m for m in admin.site._registry if m._meta.app_label.startswith("dragonrec_")],
    ids=lambda m: m._meta.label,
)
def test_changelist_and_add_pages_render(admin_client, model) -> None:  # type: ignore[no-untyped-def]
    opts = model._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"
    # follow: the dashboard's index entry is a changelist that redirects to the dashboard page
    assert admin_client.get(base, follow=True).status_code == 200
    assert admin_client.get(base, {"q": "x"}, follow=True).status_code == 200
    assert admin_client.get(f"{base}add/").status_code in (200, 403)


def test_product_bulk_actions(admin_client) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.catalog.factories import ProductFactory
    from dragonrec.catalog.models import Product

    a, b = ProductFactory(), ProductFactory()
    admin_client.post("/admin/dragonrec_catalog/product/", {"action": "deactivate", "_selected_action": [a.pk, b.pk]})
    assert not Product.objects.filter(is_active=True).exists()
    admin_client.post("/admin/dragonrec_catalog/product/", {"action": "mark_out_of_stock", "_selected_action": [a.pk]})
    assert Product.objects.get(pk=a.pk).in_stock is False
