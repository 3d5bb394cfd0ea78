"""GET /api/search/ and /api/search/suggest/ on the demo catalog (300 products, real MiniLM embeddings): the bars of
issue #20 as a shopper would notice them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

import dragonrec.catalog.demo as demo
from dragonrec.recommender.models import ServedList
from tests.served_lists import served_item

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_catalog(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo catalog, indexed and embedded (no events: searches here are a new visitor's unless a test adds
    history), rolled back after the module."""
    from django.db import transaction

    from dragonrec.catalog.services import catalog_import
    from dragonrec.recommender.services.embeddings import product_embeddings_refresh_all

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            catalog_import(path=Path(demo.__file__).parent / "products.jsonl")
            product_embeddings_refresh_all()
            yield None
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def search(client: Any, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def leaves(body: dict[str, Any], n: int = 5) -> list[str]:
    return [item["product"]["category"].rsplit(" > ", 1)[-1] for item in body["items"][:n]]


@pytest.mark.parametrize(("query", "kind"), [("keyboard", "Keyboards"), ("mouse", "Mice"), ("yoga mat", "Yoga Mats")])
def test_the_top_five_are_all_of_the_kind_asked_for(api_client, demo_catalog, query, kind) -> None:  # type: ignore[no-untyped-def]
    assert leaves(search(api_client, query)) == [kind] * 5


@pytest.mark.parametrize(
    ("query", "kind", "corrected"),
    [("moniter", "Monitors", "monitor"), ("coffe maker", "Coffee Makers", "coffee maker")],
)
def test_misspellings_find_the_intended_kind_and_say_so(api_client, demo_catalog, query, kind, corrected) -> None:  # type: ignore[no-untyped-def]
    body = search(api_client, query)
    assert leaves(body).count(kind) >= 3
    assert body["corrected_query"] == corrected


def test_fullwidth_and_soft_hyphen_queries_find_what_the_ascii_one_finds(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    plain = search(api_client, "monitor", page_size=50)
    assert plain["count"] > 20
    for variant in ("\uff4d\uff4f\uff4e\uff49\uff54\uff4f\uff52", "mon\u00aditor", "MONITOR"):
        body = search(api_client, variant, page_size=50)
        assert [i["product"]["id"] for i in body["items"]] == [i["product"]["id"] for i in plain["items"]], variant


def test_words_that_differ_from_the_titles_still_find_the_kind(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    body = search(api_client, "something to type on")
    assert leaves(body, 3) == ["Keyboards"] * 3
    assert all(item["source"] == "semantic" for item in body["items"][:3])


def test_a_zero_result_query_offers_a_correction_and_recommendations(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    body = search(api_client, "mnitr")  # two letters short: no product word, no semantic neighbour
    assert body["count"] == 0 and body["items"] == []
    assert body["corrected_query"] == "monitor"
    assert len(body["recommendations"]["items"]) > 0 and body["recommendations"]["request_id"]
    assert search(api_client, body["corrected_query"])["count"] > 0
    nothing = search(api_client, "!!!")  # no word at all: still an answer, not an error
    assert nothing["count"] == 0 and nothing["recommendations"]["items"]
    # a query no product has every word of: "did you mean" the words that find something
    assert search(api_client, "moniter xqzvbnw")["corrected_query"] == "monitor"


def test_sorts_and_pages(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    relevance = search(api_client, "monitor", page_size=10)
    cheap = search(api_client, "monitor", sort="price_asc", page_size=100)
    prices = [float(i["product"]["price"]) for i in cheap["items"]]
    assert prices == sorted(prices) and cheap["count"] == relevance["count"]
    dear = search(api_client, "monitor", sort="price_desc", page_size=5)
    assert float(dear["items"][0]["product"]["price"]) == max(prices)
    second = search(api_client, "monitor", page=2, page_size=10)
    assert len(relevance["items"]) == 10 and not {i["product"]["id"] for i in relevance["items"]} & {
        i["product"]["id"] for i in second["items"]
    }
    category = search(api_client, "lumora", category="Electronics > Displays")
    assert category["count"] > 0 and set(leaves(category, 100)) == {"Monitors"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "x" * 201},
        {"q": "mouse", "page_size": 0},
        {"q": "mouse", "page_size": 101},
        {"q": "mouse", "sort": "cheapest"},
        {"q": "mouse", "page": "x"},
    ],
)
def test_bad_parameters_are_a_400(api_client, demo_catalog, params) -> None:  # type: ignore[no-untyped-def]
    response = api_client.get("/api/search/", params)
    assert response.status_code == 400, response.content


def test_a_nul_or_control_character_is_a_400_or_a_separator_never_a_500(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    assert api_client.get("/api/search/", {"q": "mou\x00se"}).status_code == 400  # DRF refuses NULs in text
    assert api_client.get("/api/search/suggest/", {"q": "mou\x00se"}).status_code == 400
    assert search(api_client, "yoga\x1bmat")["count"] == search(api_client, "yoga mat")["count"]


def _view(client: Any, product_id: int) -> None:
    response = client.post(
        "/api/events/",
        {"events": [{"id": str(uuid.uuid4()), "type": "view", "product_id": product_id}]},
        format="json",
    )
    assert response.json()["results"][0]["status"] == "accepted"


def test_a_shopper_who_browsed_one_brand_of_monitors_sees_it_first(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    new_visitor = search(api_client, "monitor", page_size=20)
    ranked_brands = [i["product"]["brand"] for i in new_visitor["items"]]
    # the brand of monitors a new visitor sees last among the top 20 (Lumora, Vistrel... whichever)
    brand = ranked_brands[-1]
    before = ranked_brands[:5].count(brand)
    # given: the shopper looks at two of that brand's monitors
    for pid in [i["product"]["id"] for i in new_visitor["items"] if i["product"]["brand"] == brand][:2]:
        _view(api_client, pid)
    # when
    body = search(api_client, "monitor", page_size=20)
    # then: personalised, and that brand's monitors move up among the monitors
    assert body["personalised"] and body["ranker"].startswith("search+")
    brands = [i["product"]["brand"] for i in body["items"][:5]]
    assert brands[0] == brand and brands.count(brand) > before
    assert {i["product"]["category"] for i in body["items"][:5]} == {"Electronics > Displays > Monitors"}
    # and a shop that turns it off gets the same order for everyone
    with override_settings(RECOMMENDER={"SEARCH": {"personalise": False}}):
        plain = search(api_client, "monitor", page_size=20)
    assert not plain["personalised"]
    assert [i["product"]["id"] for i in plain["items"]] == [i["product"]["id"] for i in new_visitor["items"]]


def test_an_exact_title_match_stays_first_when_personalised(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    title = "Vistrel Arena 27Q 27-Inch QHD Fast IPS Gaming Monitor"
    others = search(api_client, "lumora monitor")["items"]
    for item in others[:3]:
        _view(api_client, item["product"]["id"])
    body = search(api_client, title.upper())
    assert body["personalised"]
    assert body["items"][0]["product"]["title"] == title


def test_a_click_on_a_result_is_attributed_to_the_search_and_in_the_reward_log(
    api_client, demo_catalog, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.impressions import impressions_flush
    from dragonrec.recommender.services.reward_log import reward_log_rows

    body = search(api_client, "coffee maker")
    impressions_flush()
    listed = ServedList.objects.get(request_id=body["request_id"])
    assert listed.scenario == "search" and listed.context["query"] == "coffee maker"
    clicked = body["items"][1]
    # when: the storefront reports the click with the list's request_id and the item's position (the receivers run
    # on commit, as they do outside a test transaction)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/events/",
            {
                "events": [
                    {
                        "id": str(uuid.uuid4()),
                        "type": "click",
                        "product_id": clicked["product"]["id"],
                        "context": {"request_id": body["request_id"], "position": 2},
                    }
                ]
            },
            format="json",
        )
    assert response.json()["results"][0]["status"] == "accepted"
    # then
    item = served_item(body["request_id"], 2)
    assert item.clicked_at is not None and item.product_id == clicked["product"]["id"]
    row = next(r for r in reward_log_rows() if str(r["request_id"]) == body["request_id"])
    assert row["scenario"] == "search"
    assert next(i for i in row["items"] if i.get("clicked_at"))["position"] == 2


def test_a_search_event_needs_its_query(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    events = [
        {"id": str(uuid.uuid4()), "type": "search", "context": {"query": "coffee maker"}},
        {"id": str(uuid.uuid4()), "type": "search", "context": {}},
    ]
    results = api_client.post("/api/events/", {"events": events}, format="json").json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert "context.query" in results[1]["error"]


def test_suggestions_complete_what_is_typed(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    body = api_client.get("/api/search/suggest/", {"q": "coffee ma"}).json()
    texts = [s["text"] for s in body["suggestions"]]
    assert texts[0].startswith("coffee maker") and "coffee mat" not in texts  # completions that go with "coffee"
    assert any(s["kind"] == "category" and s["text"] == "Coffee Makers" for s in body["suggestions"])
    assert any(s["kind"] == "product" and "Coffee Maker" in s["text"] for s in body["suggestions"])
    typo = api_client.get("/api/search/suggest/", {"q": "moniter"}).json()
    assert typo["corrected_query"] == "monitor" and typo["suggestions"][0]["text"] == "monitor"


def test_an_ab_test_splits_shoppers_between_personalised_and_plain_search(api_client, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.services.experiments import ArmSpec, experiment_create, experiment_start
    from dragonrec.recommender.services.impressions import impressions_flush

    experiment = experiment_create(
        name="search-personalised",
        scenarios=["search"],
        arms=[ArmSpec("personal", "student:active", 0.5), ArmSpec("plain", "trending", 0.5)],
    )
    experiment_start(experiment=experiment)
    seen = {}
    for _ in range(12):  # shoppers with a little history each, until both arms have served
        client = type(api_client)()
        first = search(client, "monitor")
        _view(client, first["items"][0]["product"]["id"])
        body = search(client, "monitor")
        assert body["experiment"] == "search-personalised"
        seen[body["arm"]] = body
        if len(seen) == 2:
            break
    assert set(seen) == {"personal", "plain"}
    assert seen["personal"]["personalised"] and not seen["plain"]["personalised"]
    impressions_flush()
    stored = ServedList.objects.select_related("policy").get(request_id=seen["plain"]["request_id"])
    assert (stored.policy.experiment, stored.policy.arm, stored.scenario) == ("search-personalised", "plain", "search")
