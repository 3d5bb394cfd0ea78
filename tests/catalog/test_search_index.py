"""The catalog's stored search vector stays in step with product text, and /api/products/?search= ranks by it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dragonrec.catalog.factories import CategoryFactory, ProductFactory
from dragonrec.catalog.models import Product
from dragonrec.catalog.services import catalog_import

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [p["title"] for p in response.json()["results"]]


@pytest.fixture
def desk():  # type: ignore[no-untyped-def]
    accessories = CategoryFactory(name="Computer Accessories")
    keyboards = CategoryFactory(name="Keyboards", parent=accessories)
    stands = CategoryFactory(name="Monitor Stands", parent=accessories)
    return {
        # id order puts the riser first: the old filter answered in id order
        "riser": ProductFactory(
            title="Wooden Monitor Riser", category=stands, description="Space to slide a keyboard underneath."
        ),
        "keyboard": ProductFactory(title="Mechanical Keyboard", brand="Keyforge", category=keyboards),
        "compact": ProductFactory(title="Compact Wireless Keyboard", brand="Tactile", category=keyboards),
    }


def test_a_title_match_ranks_above_a_description_mention(api_client, desk) -> None:  # type: ignore[no-untyped-def]
    found = titles(api_client.get("/api/products/", {"search": "keyboard"}))
    assert found[-1] == "Wooden Monitor Riser" and len(found) == 3


def test_fullwidth_soft_hyphen_and_case_find_what_the_plain_word_finds(api_client, desk) -> None:  # type: ignore[no-untyped-def]
    plain = titles(api_client.get("/api/products/", {"search": "keyboard"}))
    for variant in ("\uff4b\uff45\uff59\uff42\uff4f\uff41\uff52\uff44", "key\u00adboard", "KEYBOARD", "keyboards"):
        assert titles(api_client.get("/api/products/", {"search": variant})) == plain, variant


def test_edits_and_category_renames_are_searchable_at_once(api_client, desk) -> None:  # type: ignore[no-untyped-def]
    # given: a title edited in the admin (a save), and a category renamed
    desk["compact"].title = "Slim Typewriter Board"
    desk["compact"].save()
    stands = desk["riser"].category
    stands.name = "Desk Shelves"
    stands.save()
    # then: the new words find them, the old title word no longer finds the edited one
    assert titles(api_client.get("/api/products/", {"search": "typewriter"})) == ["Slim Typewriter Board"]
    assert titles(api_client.get("/api/products/", {"search": "shelves"})) == ["Wooden Monitor Riser"]
    assert titles(api_client.get("/api/products/", {"search": "compact"})) == []


def test_imported_products_are_indexed(api_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "items.jsonl"
    path.write_text(
        json.dumps({"item_id": "K1", "title": "Ergo Split Keyboard", "brand": "Tactile", "category": "A > Keyboards"})
        + "\n"
    )
    catalog_import(path=path)
    assert Product.objects.get(sku="K1").search_vector  # bulk_create sends no signal: the import indexes itself
    assert titles(api_client.get("/api/products/", {"search": "ergo keyb"})) == ["Ergo Split Keyboard"]


def test_page_size_is_honoured_and_a_bad_one_is_a_400(api_client) -> None:  # type: ignore[no-untyped-def]
    ProductFactory.create_batch(7)
    body = api_client.get("/api/products/", {"page_size": 3}).json()
    assert body["count"] == 7 and len(body["results"]) == 3
    assert len(api_client.get("/api/products/", {"page_size": 3, "page": 3}).json()["results"]) == 1
    for bad in ("0", "101", "x", ""):
        response = api_client.get("/api/products/", {"page_size": bad})
        assert response.status_code == 400 and list(response.json()) == ["page_size"], bad


def test_a_model_without_a_stored_vector_is_searched_the_same_way(desk) -> None:  # type: ignore[no-untyped-def]
    # a shop's own product model has no search_vector column: the vector is computed per query from its fields
    from dragonrec.textsearch import SearchFields, lexical_search

    stored = lexical_search(Product.objects.all(), "keyboard", fields=SearchFields(), limit=10)
    computed = lexical_search(
        Product.objects.all(),
        "\uff2b\uff25\uff39\uff22\uff2f\uff21\uff32\uff24",
        fields=SearchFields(vector_field=None),
        limit=10,
    )
    assert [pid for pid, _ in computed] == [pid for pid, _ in stored] and len(stored) == 3
