"""Admin actions that change state need the change permission; a model version's status moves only through the
promotion gate or a recorded force action."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.catalog.models import Product
from dragonrec.recommender.models import ModelVersion
from dragonrec.tracking.models import ApiKey

pytestmark = pytest.mark.django_db
VERSIONS = "/admin/dragonrec_recommender/modelversion/"


def staff_client(*codenames: str) -> Client:
    user = get_user_model().objects.create_user(f"staff-{len(codenames)}", password="pw-staff-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def version(name: str, ndcg: float, status: str = ModelVersion.Status.CANDIDATE) -> ModelVersion:
    return ModelVersion.objects.create(
        version=name,
        status=status,
        artifact=f"dragonrec/models/{name}",
        metrics={"valid_ndcg@10": ndcg, "active_valid_ndcg@10": 0.30},
        activated_at=timezone.now() if status == ModelVersion.Status.ACTIVE else None,
    )


def test_view_only_staff_cannot_run_catalog_bulk_actions() -> None:
    product = ProductFactory()
    client = staff_client("view_product")
    page = client.get("/admin/dragonrec_catalog/product/")
    assert page.status_code == 200 and b"deactivate" not in page.content
    client.post("/admin/dragonrec_catalog/product/", {"action": "deactivate", "_selected_action": [product.pk]})
    assert Product.objects.get(pk=product.pk).is_active


def test_view_only_staff_cannot_activate_a_model_version() -> None:
    version("v1", 0.30, ModelVersion.Status.ACTIVE)
    worse = version("v2", 0.10)
    client = staff_client("view_modelversion")
    client.post(VERSIONS, {"action": "force_activate", "_selected_action": [worse.pk]})
    client.post(VERSIONS, {"action": "promote", "_selected_action": [worse.pk]})
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE).version == "v1"


def test_status_is_not_editable_by_hand(admin_client) -> None:  # type: ignore[no-untyped-def]
    worse = version("v2", 0.10)
    version("v1", 0.30, ModelVersion.Status.ACTIVE)
    page = admin_client.get(f"{VERSIONS}{worse.pk}/change/")
    assert b'name="status"' not in page.content
    admin_client.post(f"{VERSIONS}{worse.pk}/change/", {"status": "active", "notes": "sneaky"})
    assert ModelVersion.objects.get(pk=worse.pk).status == ModelVersion.Status.CANDIDATE


def test_promote_goes_through_the_gate_and_forcing_is_recorded(admin_client) -> None:  # type: ignore[no-untyped-def]
    version("v1", 0.30, ModelVersion.Status.ACTIVE)
    worse = version("v2", 0.10)
    # the gate refuses a worse model
    admin_client.post(VERSIONS, {"action": "promote", "_selected_action": [worse.pk]})
    assert ModelVersion.objects.get(pk=worse.pk).status == ModelVersion.Status.CANDIDATE
    # forcing works, and says who did it, in the version's notes and the admin log
    admin_client.post(VERSIONS, {"action": "force_activate", "_selected_action": [worse.pk]})
    worse.refresh_from_db()
    assert worse.status == ModelVersion.Status.ACTIVE
    assert "force-activated by admin user" in worse.notes and "past the promotion gate" in worse.notes
    assert LogEntry.objects.filter(object_id=str(worse.pk), change_message__contains="Force-activated").exists()


def test_an_api_key_created_in_the_admin_is_shown_once_and_stored_hashed(admin_client) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(
        "/admin/dragonrec_tracking/apikey/add/", {"name": "shop", "scopes": ["events:write"]}, follow=True
    )
    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"] if "drk_" in str(m)]
    assert len(shown) == 1 and key.scopes == ["events:write"]
    raw = shown[0].rsplit(" ", 1)[1]
    assert raw.startswith(f"drk_{key.prefix}_") and raw.split("_", 2)[2] not in key.hashed_key
