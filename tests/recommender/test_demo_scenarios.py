"""The cold-start, complement and diversity promises, on the shipped demo catalog and its generated events."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from dragonrec.catalog.models import Category, Product
from dragonrec.recommender.services.embeddings import product_embeddings_refresh
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db
URL = "/api/recommendations/"
ACCESSORIES = {"Keyboards", "Mice", "Cables & Adapters"}


def leaves(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["product"]["category"].rsplit(" > ", 1)[-1] for item in body["items"]]


@pytest.fixture
def monitor(demo_shop: None) -> Product:
    return Product.objects.filter(category__name="Monitors", in_stock=True).order_by("sku").first()


@pytest.mark.parametrize("scenario", ["product", "cart"])
def test_one_monitor_in_the_history_brings_accessories_not_ten_monitors(
    api_client, monitor, scenario, shopper_cookie
) -> None:  # type: ignore[no-untyped-def]
    # given: a shopper whose whole history is one monitor (viewed, then carted for the cart scenario)
    EventFactory(session_id="s-mon", product=monitor, type="view", timestamp=timezone.now() - timedelta(minutes=2))
    if scenario == "cart":
        EventFactory(session_id="s-mon", product=monitor, type="add_to_cart")
    # when
    body = shopper_cookie(api_client, "s-mon").get(URL, {"scenario": scenario, "product_id": monitor.id}).json()
    # then
    found = leaves(body)
    assert len(found) == 10
    assert Counter(found)["Monitors"] <= 3, found
    assert len(ACCESSORIES & set(found)) >= 2, found


def test_a_brand_new_visitor_gets_at_least_four_categories(api_client, demo_shop) -> None:  # type: ignore[no-untyped-def]
    body = api_client.get(URL).json()
    assert body["ranker"] == "trending"
    assert len(set(leaves(body))) >= 4 and max(Counter(leaves(body)).values()) <= 3


def test_a_product_created_a_minute_ago_is_reachable_from_its_neighbours(api_client, monitor) -> None:  # type: ignore[no-untyped-def]
    # given: a new edition of the accessory that best fits a monitor, in the category shoppers most often buy with
    # monitors; no interactions at all, embedded by the same service the Celery task calls
    from dragonrec.recommender.models import CategoryComplement
    from dragonrec.recommender.stores import serving_stores

    path = CategoryComplement.objects.filter(category_path=monitor.category.path).order_by("-score").first()
    category = Category.objects.get(path=path.complement_path)
    _, index = serving_stores()
    vectors, _ = index.vectors([monitor.id])
    ((sibling_id, _),) = index.search(vectors[0], k=1, categories=[category.path])
    sibling = Product.objects.get(id=sibling_id)
    new = Product.objects.create(
        sku="NEW-1",
        title=f"{sibling.title} (2026 edition)",
        description=sibling.description,
        brand=sibling.brand,
        category=category,
        price=sibling.price,
        stock_quantity=50,
    )
    product_embeddings_refresh(product_ids=[new.id])
    # then: it is similar to its sibling, and a complement of the monitor through the category complements
    similar = api_client.get(f"/api/products/{sibling.id}/similar/", {"n": 5}).json()
    assert new.id in [item["product"]["id"] for item in similar["items"]]
    complements = api_client.get(f"/api/products/{monitor.id}/complements/", {"n": 100}).json()
    assert new.id in [item["product"]["id"] for item in complements["items"]]


def test_the_demo_data_creates_no_superuser_outside_dev_settings(demo_shop) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    # the demo shop above was loaded under the test settings: no account with the README's password exists
    assert not get_user_model().objects.filter(username="admin").exists()


def test_the_demo_shopper_signs_in_and_gets_a_personal_home_page(demo_shop, client) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from django.contrib.auth import get_user_model

    from config.management.commands.dragonrec_demo_data import DEMO_SHOPPER, Command
    from dragonrec.catalog.models import Product

    # given: the demo shopper as `make demo` creates it (dev settings; the fixture loaded the shop under test ones)
    Command()._demo_shopper(Path(__file__).resolve().parents[2] / "dragonrec/catalog/demo/products.jsonl")
    shopper = get_user_model().objects.get(username=DEMO_SHOPPER[0])
    assert not shopper.is_staff and shopper.check_password(DEMO_SHOPPER[1])
    # when: a new visitor and the signed-in shopper open the home page
    stranger = client.get("/api/recommendations/", {"scenario": "home", "n": 10}).json()
    # (signed in as the storefront does it: the sign-in API, behind django-axes' lockout)
    signed = client.post(
        "/api/auth/login/", {"username": DEMO_SHOPPER[0], "password": DEMO_SHOPPER[1]}, content_type="application/json"
    )
    assert signed.status_code == 200, signed.content
    mine = client.get("/api/recommendations/", {"scenario": "home", "n": 10}).json()

    # then: the runner's list is running and sports gear, the stranger's is the shop's bestsellers
    def sports(body: dict) -> int:  # type: ignore[type-arg]
        ids = [item["product"]["id"] for item in body["items"]]
        paths = Product.objects.filter(id__in=ids).values_list("category__path", flat=True)
        return sum(1 for path in paths if str(path).startswith("Sports & Outdoors"))

    assert mine["ranker"] != "trending" and sports(mine) >= 6 and sports(mine) > sports(stranger)
