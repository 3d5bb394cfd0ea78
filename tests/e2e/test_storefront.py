"""The storefront as a shopper uses it, in Debian's Chromium, against the real stack: the built React shop served
by gunicorn, the API, a Celery worker flushing impressions, PostgreSQL and Redis (tests/e2e/stack.py).

Each test reads like the shopper's story and checks what the shopper sees or what the database then holds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import stack as stack_module
from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MONITORS = "/api/products/?category=Electronics > Displays > Monitors"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def shop(browser: Any) -> Iterator[stack_module.Stack]:
    yield from stack_module.start()


@pytest.fixture
def visitor(browser: Any, shop: stack_module.Stack) -> Iterator[Any]:
    """A new visitor: a fresh browser context (no cookies, empty localStorage). Whatever the story, the shop runs
    under its Content-Security-Policy without Chromium blocking anything."""
    context = browser.new_context(viewport=DESKTOP, base_url=shop.url)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert blocked == [], f"the Content-Security-Policy blocked: {blocked}"


def test_every_page_of_the_shop_carries_the_policy_and_may_not_be_framed(shop: stack_module.Stack) -> None:
    import urllib.request

    # "/" is Django's view of the shell; /index.html is the same file answered by WhiteNoise itself
    for path in ("/", "/index.html", "/cart", "/admin/login/", "/api/docs/"):
        with urllib.request.urlopen(shop.url + path, timeout=10) as response:
            assert response.status == 200, path
            assert response.headers["X-Frame-Options"] == "DENY", path
            csp = response.headers["Content-Security-Policy"] or ""
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (path, csp)


def recommendations(page: Any, action: Any, *, scenario: str = "home") -> dict[str, Any]:
    """Run `action` and return the recommendations answer the page received for `scenario`."""
    with page.expect_response(
        lambda r: "/api/recommendations/" in r.url and f"scenario={scenario}" in r.url and r.status == 200
    ) as response:
        action()
    return response.value.json()


def list_section(page: Any, title: str) -> Any:
    return page.get_by_role("region", name=title)


def shopper_events(shop: stack_module.Stack, event_ids: list[str]) -> list[tuple[Any, ...]]:
    return shop.sql(
        "SELECT id::text, type, user_id, context FROM dragonrec_tracking_event WHERE id::text = ANY(%s)",
        (event_ids,),
    )


def queued_ids(page: Any) -> list[str]:
    raw = page.evaluate("() => window.localStorage.getItem('dragonrec:queue')")
    return [e["id"] for e in json.loads(raw or "[]")]


def sent_event_ids(request: Any) -> list[dict[str, Any]]:
    """The events a POST /api/events/ carried."""
    return list(json.loads(request.post_data or "{}").get("events", []))


def test_a_new_visitor_sees_a_varied_home_list(visitor: Any) -> None:
    answer = recommendations(visitor, lambda: visitor.goto("/"))
    section = list_section(visitor, "Recommended for you")
    section.get_by_role("link").first.wait_for()
    assert section.get_by_role("listitem").count() == len(answer["items"]) >= 8
    categories = {item["product"]["category"].split(" > ")[-1] for item in answer["items"]}
    assert len(categories) >= 4, f"cold start should be varied, got {categories}"
    assert section.get_by_text(answer["items"][0]["reason"]).first.is_visible()
    visitor.screenshot(path=str(SCREENSHOTS / "home-desktop.png"), full_page=False)


def test_stating_a_preference_changes_the_home_list(visitor: Any) -> None:
    before = recommendations(visitor, lambda: visitor.goto("/"))
    visitor.goto("/account#preferences")
    visitor.get_by_role("checkbox", name="Office", exact=True).check()
    with visitor.expect_response(lambda r: "/api/preferences/" in r.url and r.request.method == "PUT") as saved:
        visitor.get_by_role("button", name="Save preferences").click()
    assert saved.value.status == 200
    after = recommendations(visitor, lambda: visitor.get_by_role("link", name="See your recommendations").click())
    ids_before = [i["product"]["id"] for i in before["items"]]
    ids_after = [i["product"]["id"] for i in after["items"]]
    assert ids_after != ids_before
    office = [i for i in after["items"] if i["product"]["category"].startswith("Office")]
    assert len(office) > sum(1 for i in before["items"] if i["product"]["category"].startswith("Office"))


def test_a_monitor_page_shows_accessories_under_goes_well_with(visitor: Any, shop: stack_module.Stack) -> None:
    monitor = visitor.request.get(shop.url + MONITORS).json()["results"][0]
    with visitor.expect_response(lambda r: f"/api/products/{monitor['id']}/complements/" in r.url) as response:
        visitor.goto(f"/products/{monitor['id']}")
    visitor.get_by_role("heading", name=monitor["title"]).wait_for()
    section = list_section(visitor, "Goes well with")
    section.get_by_role("link").first.wait_for()
    leaves = [item["product"]["category"].split(" > ")[-1] for item in response.value.json()["items"]]
    assert leaves and "Monitors" not in leaves[:4], f"accessories expected first, got {leaves}"
    assert any(re.search(r"Keyboard|Mice|Mouse|Cable|Stand|Webcam|Dock|Headset", leaf) for leaf in leaves[:6])
    visitor.screenshot(path=str(SCREENSHOTS / "product-desktop.png"), full_page=True)


def test_clicking_a_recommendation_is_credited_to_the_list_item(visitor: Any, shop: stack_module.Stack) -> None:
    answer = recommendations(visitor, lambda: visitor.goto("/"))
    second = answer["items"][1]["product"]
    card = list_section(visitor, "Recommended for you").get_by_role("listitem").nth(1)
    with visitor.expect_request(
        lambda r: r.url.endswith("/api/events/") and any(e["type"] == "click" for e in sent_event_ids(r)),
        timeout=15_000,
    ) as posted:
        card.get_by_role("link").first.click()
        visitor.get_by_role("button", name=re.compile("Add to cart|Out of stock")).wait_for()
    (click,) = [e for e in sent_event_ids(posted.value) if e["type"] == "click"]
    assert click["product_id"] == second["id"]
    assert click["context"]["request_id"] == answer["request_id"] and click["context"]["position"] == 2
    # the worker flushes the served list; the click is then on its item
    rows = shop.wait_for(
        "SELECT at FROM dragonrec_recommender_servedoutcome WHERE request_id = %s AND position = 2 AND kind = 1",
        (answer["request_id"],),
        timeout=60,
    )
    listed = shop.sql(
        "SELECT count(*) FROM dragonrec_recommender_servedlist WHERE request_id = %s", (answer["request_id"],)
    )
    stored = shop.sql("SELECT session_id, context FROM dragonrec_tracking_event WHERE id = %s", (click["id"],))
    assert rows, f"the impression item was not marked clicked (list flushed: {listed}, click stored: {stored})"


def test_cart_complements_and_an_attributed_checkout(visitor: Any, shop: stack_module.Stack) -> None:
    answer = recommendations(visitor, lambda: visitor.goto("/"))
    first = answer["items"][0]["product"]
    list_section(visitor, "Recommended for you").get_by_role("listitem").first.get_by_role("link").first.click()
    visitor.get_by_role("button", name="Add to cart").click()
    cart = recommendations(
        visitor, lambda: visitor.get_by_role("link", name=re.compile("Cart")).click(), scenario="cart"
    )
    section = list_section(visitor, "Complete your setup")
    section.get_by_role("link").first.wait_for()
    assert cart["items"] and first["id"] not in [i["product"]["id"] for i in cart["items"]]
    visitor.screenshot(path=str(SCREENSHOTS / "cart-desktop.png"), full_page=False)

    with visitor.expect_request(
        lambda r: r.url.endswith("/api/events/") and any(e["type"] == "purchase" for e in sent_event_ids(r)),
        timeout=15_000,
    ) as posted:
        visitor.get_by_role("button", name="Checkout").click()
        visitor.get_by_role("heading", name="Thank you for your order").wait_for()
    (purchase,) = [e for e in sent_event_ids(posted.value) if e["type"] == "purchase"]
    rows = shop.wait_for("SELECT type, context FROM dragonrec_tracking_event WHERE id = %s", (purchase["id"],))
    assert rows and rows[0][0] == "purchase"
    assert rows[0][1]["request_id"] == answer["request_id"] and rows[0][1]["position"] == 1
    # once the click is on its list item (the flush of the list may still be on its way), the rewards job (beat,
    # every 30 min; run here) credits the purchase to that item
    clicked = shop.wait_for(
        "SELECT at FROM dragonrec_recommender_servedoutcome WHERE request_id = %s AND position = 1 AND kind = 1",
        (answer["request_id"],),
        timeout=60,
    )
    assert clicked, "the click on the list item was never recorded"
    shop_manage(shop, "from dragonrec.recommender.services.feedback import rewards_attribute; rewards_attribute()")
    credited = shop.wait_for(
        "SELECT at FROM dragonrec_recommender_servedoutcome WHERE request_id = %s AND position = 1 AND kind = 3",
        (answer["request_id"],),
    )
    assert credited, "the purchase was not credited to the list it came from"


def test_events_queued_offline_arrive_exactly_once_even_across_a_reload(visitor: Any, shop: stack_module.Stack) -> None:
    visitor.goto("/")
    list_section(visitor, "Recommended for you").get_by_role("link").first.wait_for()
    products = visitor.request.get(f"{shop.url}/api/products/?category=Sports %26 Outdoors").json()["results"][:3]
    # given: the connection drops and the shopper keeps browsing (client-side navigation)
    visitor.context.set_offline(True)
    for product in products:
        visitor.evaluate(
            "(path) => { history.pushState({}, '', path); dispatchEvent(new PopStateEvent('popstate')); }",
            f"/products/{product['id']}",
        )
        visitor.wait_for_timeout(300)
    visitor.wait_for_timeout(2500)  # past a batch interval: the sends fail and stay queued
    queued = queued_ids(visitor)
    assert len(queued) >= len(products), "views made offline must be queued"
    assert not shopper_events(shop, queued)
    # when: back online, the page is reloaded in the middle of delivery
    visitor.context.set_offline(False)
    visitor.reload()
    list_section(visitor, "Recommended for you").get_by_role("link").first.wait_for()
    # then: every queued event is stored exactly once, the queue drains
    deadline_rows: list[tuple[Any, ...]] = []
    for _ in range(40):
        deadline_rows = shopper_events(shop, queued)
        if len(deadline_rows) == len(queued):
            break
        visitor.wait_for_timeout(500)
    assert sorted(r[0] for r in deadline_rows) == sorted(queued)
    visitor.wait_for_timeout(2500)
    assert not set(queued) & set(queued_ids(visitor))


def test_signing_in_keeps_the_anonymous_history(visitor: Any, shop: stack_module.Stack) -> None:
    products = visitor.request.get(f"{shop.url}/api/products/?category=Office").json()["results"][:2]
    with visitor.expect_request(
        lambda r: r.url.endswith("/api/events/") and any(e["type"] == "view" for e in sent_event_ids(r)),
        timeout=15_000,
    ) as posted:
        for product in products:
            visitor.goto(f"/products/{product['id']}")
            visitor.get_by_role("heading", name=product["title"]).wait_for()
    viewed = [e["id"] for e in sent_event_ids(posted.value) if e["type"] == "view"]
    assert shop.wait_for("SELECT 1 FROM dragonrec_tracking_event WHERE id::text = ANY(%s)", (viewed,))

    visitor.goto("/account")
    visitor.get_by_label("Username").fill(stack_module.SHOPPER)
    visitor.get_by_label("Password").fill(stack_module.SHOPPER_PASSWORD)
    visitor.get_by_role("button", name="Sign in").click()
    visitor.get_by_text(f"Signed in as {stack_module.SHOPPER}").wait_for()

    (user_id,) = shop.sql("SELECT id FROM auth_user WHERE username = %s", (stack_module.SHOPPER,))[0]
    owners = {row[2] for row in shopper_events(shop, viewed)}
    assert owners == {user_id}, "the anonymous views must now belong to the signed-in shopper"


@pytest.mark.parametrize("route", ["/", "product", "/cart"])
def test_phone_screenshots(browser: Any, shop: stack_module.Stack, route: str) -> None:
    """Readable on a phone: no horizontal scrolling; saved for docs/screenshots."""
    context = browser.new_context(viewport=PHONE, base_url=shop.url, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        if route == "product":
            monitor = page.request.get(shop.url + MONITORS).json()["results"][0]
            page.goto(f"/products/{monitor['id']}")
            list_section(page, "Goes well with").get_by_role("link").first.wait_for()
            name = "product"
        elif route == "/cart":
            page.goto("/")
            list_section(page, "Recommended for you").get_by_role("link").first.click()
            page.get_by_role("button", name="Add to cart").click()
            page.goto("/cart")
            list_section(page, "Complete your setup").get_by_role("link").first.wait_for()
            name = "cart"
        else:
            page.goto("/")
            list_section(page, "Recommended for you").get_by_role("link").first.wait_for()
            name = "home"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways on a phone by {overflow}px"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=False)
    finally:
        context.close()


def shop_manage(shop: stack_module.Stack, code: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=stack_module.REPO,
        env=shop.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]


# ------------------------------------------------------------------------------- what the shopper sees (issue #19)


LIST_URL = re.compile(r"/api/(?:products/\d+/)?(similar|complements|recommendations)/")


def watch_problems(page: Any) -> list[str]:
    """Collects what a shopper's browser would count as something wrong: failed requests, answers >= 400, console
    errors and uncaught page errors."""
    problems: list[str] = []
    page.on("requestfailed", lambda r: problems.append(f"failed {r.method} {r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.request.method} {r.url}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return problems


def pictures(page: Any) -> tuple[int, int]:
    """(product pictures in the page's content, how many are still the initials placeholder), once every picture is
    the shop's own image or 15 s have passed: a broken picture is reported with the other problems, not as a
    timeout."""
    from contextlib import suppress

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with suppress(PlaywrightTimeout):
        page.wait_for_function(
            "() => document.querySelectorAll('#main img').length > 0"
            " && !document.querySelector('#main img[data-placeholder]')",
            timeout=15_000,
        )
    return int(page.locator("#main img").count()), int(page.locator("#main img[data-placeholder]").count())


def test_a_walk_through_the_shop_has_no_failed_request_and_no_console_error(
    visitor: Any, shop: stack_module.Stack
) -> None:
    problems = watch_problems(visitor)
    lists_asked: list[tuple[str, str]] = []  # (which list, URL) in the order the page asked
    visitor.on("request", lambda r: (m := LIST_URL.search(r.url)) and lists_asked.append((m[1], r.url)))
    # home
    visitor.goto("/")
    list_section(visitor, "Recommended for you").get_by_role("link").first.wait_for()
    shown = {"home": pictures(visitor)}
    # search
    search = visitor.get_by_role("search").get_by_label("Search products")
    search.fill("keyboard")
    # as a shopper does: the suggestions arrive while typing, then Enter (pressing it while a suggestion request is
    # in flight cancels that request, which Chromium reports as a failed one on a slow machine)
    visitor.get_by_role("listbox", name="Suggestions").wait_for()
    search.press("Enter")
    visitor.get_by_role("heading", name="Results for “keyboard”").wait_for()
    shown["search"] = pictures(visitor)
    # a category
    visitor.get_by_role("navigation", name="Categories").get_by_role("link", name="Office", exact=True).click()
    visitor.get_by_role("heading", level=1, name="Office").wait_for()
    shown["category"] = pictures(visitor)
    # a product: the picture, and its three lists asked one after the other, each without what the others show
    in_stock = visitor.request.get(f"{shop.url}/api/products/?category=Office&in_stock=true").json()["results"][0]
    visitor.locator("#main").get_by_role("link", name=in_stock["title"]).first.click()
    visitor.get_by_role("button", name="Add to cart").wait_for()
    for title in ("Goes well with", "Similar products", "Recommended for you"):
        list_section(visitor, title).get_by_role("link").first.wait_for()
    shown["product"] = pictures(visitor)
    ids = {
        title: [
            int(a.split("/")[-1])
            for a in list_section(visitor, title)
            .get_by_role("link")
            .evaluate_all("links => links.map(a => a.getAttribute('href'))")
        ]
        for title in ("Goes well with", "Similar products")
    }
    asked = dict(lists_asked[-3:])
    assert list(asked) == ["complements", "similar", "recommendations"], lists_asked
    assert _exclude(asked["similar"]) == ids["Goes well with"]
    assert _exclude(asked["recommendations"]) == list(dict.fromkeys(ids["Goes well with"] + ids["Similar products"]))
    # the cart
    visitor.get_by_role("button", name="Add to cart").click()
    visitor.get_by_role("link", name=re.compile("Cart")).click()
    for title in ("Complete your setup", "Recommended for you"):
        list_section(visitor, title).get_by_role("link").first.wait_for()
    shown["cart"] = pictures(visitor)
    visitor.wait_for_load_state("networkidle")
    assert problems == []
    # every card, hero and cart line shows the product's picture, none the initials placeholder
    assert all(count >= 3 and left == 0 for count, left in shown.values()), shown


def _exclude(url: str) -> list[int]:
    from urllib.parse import parse_qs, urlsplit

    values = parse_qs(urlsplit(url).query).get("exclude", [""])
    return [int(i) for i in values[0].split(",") if i]


def test_the_shop_shows_reasons_and_keeps_internals_for_the_debug_view(visitor: Any) -> None:
    answer = recommendations(visitor, lambda: visitor.goto("/"))
    section = list_section(visitor, "Recommended for you")
    section.get_by_role("link").first.wait_for()
    # given a shopper: each card says why it is there; nothing says which model or experiment served the list
    assert section.get_by_text(answer["items"][0]["reason"]).first.is_visible()
    for internal in ("Ranked by", answer["ranker"], "experiment"):
        assert visitor.get_by_text(internal).count() == 0, internal
    # when a developer opens the page with ?debug=1, the ranker and the request id are shown, for the whole tab
    debug = recommendations(visitor, lambda: visitor.goto("/?debug=1"))
    list_section(visitor, "Recommended for you").get_by_text(f"Ranked by {debug['ranker']}").wait_for()
    visitor.get_by_role("link", name=re.compile("Cart")).click()
    visitor.get_by_role("heading", name="Your cart").wait_for()
    visitor.get_by_role("link", name=re.compile("DragonRec Demo Shop")).click()
    again = list_section(visitor, "Recommended for you")
    again.get_by_role("link").first.wait_for()
    assert again.get_by_test_id("list-debug").is_visible()
