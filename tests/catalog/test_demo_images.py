"""The demo catalog's own pictures: one small SVG per leaf category, served by the app, and the import rule that
points every demo product at its category's picture instead of a host that does not exist."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from dragonrec.catalog.demo import images
from dragonrec.catalog.demo.sessions import PRODUCTS_PATH, load_products
from dragonrec.catalog.factories import ProductFactory
from dragonrec.catalog.models import Product
from dragonrec.catalog.services import catalog_import

SVG = "{http://www.w3.org/2000/svg}svg"


GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "demo_images.py"


def test_the_committed_pictures_are_what_the_generator_draws() -> None:
    spec = importlib.util.spec_from_file_location("demo_images", GENERATOR)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # its dataclasses look their module up while being defined
    spec.loader.exec_module(generator)

    assert generator.main(["--check"]) == 0, "run: .venv/bin/python scripts/demo_images.py"
    # the shop finds a picture by its leaf category's slug: every drawing is named so
    assert {images.image_name(f"Demo > {leaf}") for leaf in generator.DRAWINGS} == set(generator.render_all())


def test_every_demo_category_has_a_small_picture_of_its_own() -> None:
    categories = {p["category"] for p in load_products()}
    names = {c: images.image_name(c) for c in categories}
    assert all(names.values()), [c for c, n in names.items() if not n]
    assert len(set(names.values())) == len(categories), "two categories share a picture"
    for name in names.values():
        path = images.OUTPUT / str(name)
        assert path.stat().st_size < 2048, f"{name} is not small"
        assert ET.fromstring(path.read_text()).tag == SVG


def test_with_demo_image_points_at_the_static_picture() -> None:
    row = {
        "item_id": "X",
        "category": "Electronics > Displays > Monitors",
        "image_url": "https://img.nowhere.example/x.jpg",
    }
    assert images.with_demo_image(row)["image_url"] == "/static/dragonrec/demo/products/monitors.svg"
    unknown = {"item_id": "Y", "category": "Garden > Hoses", "image_url": "https://cdn.shop/y.jpg"}
    assert images.with_demo_image(unknown) == unknown


@pytest.mark.django_db
def test_every_imported_demo_product_has_a_picture_the_app_serves(client: Client) -> None:
    # when: the demo catalog is imported as dragonrec_demo_data does it
    report = catalog_import(path=PRODUCTS_PATH, transform=images.with_demo_image)
    assert report.created == 300 and not report.errors
    # then: no product names a host that does not exist, and each picture is served by the app as an SVG
    urls = set(Product.objects.values_list("image_url", flat=True))
    assert len(urls) == 26 and all(u.startswith("/static/dragonrec/demo/products/") for u in urls)
    for url in urls:
        assert finders.find(url.removeprefix("/static/")), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "image/svg+xml"
    # and a second import changes nothing (the rule is applied the same way every time)
    assert catalog_import(path=PRODUCTS_PATH, transform=images.with_demo_image).updated == 0


@pytest.mark.django_db
def test_a_demo_product_with_a_site_path_picture_can_be_saved_in_the_admin(admin_client: Client) -> None:
    product = ProductFactory(image_url="/static/dragonrec/demo/products/mugs.svg")
    url = f"/admin/dragonrec_catalog/product/{product.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(category=product.category_id, price="12.50", attributes="{}")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert product.price == 12.5 and product.image_url == "/static/dragonrec/demo/products/mugs.svg"
    # a full address still has to be a URL
    data["image_url"] = "not a url at all"
    assert admin_client.post(url, data).status_code == 200
