"""What a shopper sees on the demo shop, in figures: the design's named failures, measured where shoppers meet them.

    .venv/bin/python bench/scenarios.py              # on this checkout's embedded services (config.embedded)
    .venv/bin/python bench/scenarios.py --train      # with a trained student, as `make demo` serves

Loads the demo shop into the development database (`dragonrec_demo_data`, idempotent) and drives the real HTTP API
(Django's test client through the real views, shopper cookies, the events API), a fresh shopper per case. Prints:
1. complement plausibility per anchor category: for every monitor, laptop, coffee maker, pair of running shoes and
   desk, the share of its "Goes well with" items (n=8) in a category a human judge accepts for it
   (bench/complement_labels.py, written from the category names, independent of the demo's map), and how many
   monitors' lists hold a keyboard or a mouse; once with the demo's whole category map
   (dragonrec/catalog/demo/complements.json) entered as merchant pairs, once with none (complements learned from
   the sessions alone, as `dragonrec_demo_data` loads the shop). The share in the map is printed for reference;
2. substitutes after a purchase: a shopper views, carts and buys one product, then home (n=12) and cart lists:
   how many items share the bought product's leaf category, and how many of its complements are there;
3. preference compliance: a cold statement of two categories and a price ceiling, the same with history, a
   brand: items above the ceiling, share in the stated categories / brand, and the reasons shown;
4. cross-list duplicates per page: a product page asked in page order (complements, similar with exclude,
   scenario=product with exclude) and a cart page (scenario=cart, then home with exclude), with and without
   `exclude`; and whether every list carries a request_id;
5. failed requests per page in Chromium (Playwright for Python driving /usr/bin/chromium): the built storefront
   served by gunicorn on --bind (default 127.0.0.1:8101) from the same database, a fresh browser walking home,
   a search, a category, a product page (then "Add to cart") and the cart; per page, requests that failed, answers
   >= 400, console errors and uncaught page errors, counted (each one listed). Skipped, saying why, with
   --no-browser or when Chromium, Playwright or npm is missing.
Each figure comes with the load average (the box is shared).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import argparse
import json
import re
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from complement_labels import plausible  # noqa: E402

MAP = json.loads((REPO / "dragonrec" / "catalog" / "demo" / "complements.json").read_text())
ANCHOR_LEAVES = ("Monitors", "Laptops", "Coffee Makers", "Running Shoes", "Desks")
BOUGHT_LEAVES = ("Monitors", "Laptops", "Coffee Makers", "Running Shoes", "Desks", "Coffee Beans")
INPUT_DEVICES = ("Keyboards", "Mice")


def leaf(path: str) -> str:
    return path.rsplit(" > ", 1)[-1]


class Shopper:
    """A fresh browser: its own shopper cookie, events through the events API."""

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client()

    def get(self, url: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(url, {k: v for k, v in params.items() if v is not None})
        assert response.status_code == 200, (url, params, response.status_code, response.content[:300])
        return response.json()  # type: ignore[no-any-return]

    def event(self, kind: str, product_id: int) -> None:
        body = {"events": [{"id": str(uuid.uuid4()), "type": kind, "product_id": product_id}]}
        response = self.client.post("/api/events/", json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 201, 202), response.content[:300]

    def state(self, **preferences: Any) -> None:
        response = self.client.put("/api/preferences/", json.dumps(preferences), content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    def buy(self, product_id: int) -> None:
        for kind in ("view", "add_to_cart", "purchase"):
            self.event(kind, product_id)


REASON_KINDS = (
    "Because you bought",
    "Goes well with",
    "Similar to",
    "You said you like",
    "Based on your recent browsing",
    "Popular in",
)


def reason_kind(reason: str) -> str:
    return next((kind for kind in REASON_KINDS if reason.startswith(kind)), "teacher/other")


def products_in(leaf_name: str) -> list[Any]:
    from dragonrec.catalog.models import Product

    return list(Product.objects.filter(category__name=leaf_name, is_active=True).order_by("sku"))


def merchant_pairs(*, entered: bool) -> None:
    """The shop's category complements with the demo's whole map entered as merchant pairs, or with none (learned
    from the sessions alone, as `dragonrec_demo_data` loads the shop); the learned ones recomputed either way."""
    from config.management.commands.dragonrec_demo_data import merchant_map_enter
    from dragonrec.recommender.core.caching import process_caches_reset
    from dragonrec.recommender.models import CategoryComplement
    from dragonrec.recommender.services.aggregates import complements_recompute

    CategoryComplement.objects.filter(manual=True).delete()
    if entered:
        merchant_map_enter()
    complements_recompute()
    process_caches_reset()  # this process's catalog snapshot holds the previous pairs


def complement_plausibility(*, entered: bool) -> None:
    label = "the demo's whole map entered as merchant pairs" if entered else "no merchant pairs (learned only)"
    print(f"1. complement plausibility ('Goes well with', n=8), per anchor category, {label}")
    print("   judged by a hand-written label set (bench/complement_labels.py) and, for reference, by the demo's map")
    merchant_pairs(entered=entered)
    for name in ANCHOR_LEAVES:
        anchors = products_in(name)
        judged = in_map = shown = with_input = 0
        rejected: Counter[str] = Counter()
        for product in anchors:
            body = Shopper().get(f"/api/products/{product.id}/complements/", n=8)
            paths = [item["product"]["category"] for item in body["items"]]
            judged += sum(plausible(product.category.path, p) for p in paths)
            rejected.update(leaf(p) for p in paths if not plausible(product.category.path, p))
            in_map += sum(p in MAP.get(product.category.path, []) for p in paths)
            shown += len(paths)
            with_input += any(leaf(p) in INPUT_DEVICES for p in paths)
        share, share_map = (judged / shown, in_map / shown) if shown else (0.0, 0.0)
        extra = f", {with_input}/{len(anchors)} lists hold a keyboard or a mouse" if name == "Monitors" else ""
        worst = ", ".join(f"{k} x{v}" for k, v in rejected.most_common(3))
        print(
            f"   {name:14s} {len(anchors):3d} anchors, {shown:3d} items, {share:6.1%} plausible (judge), "
            f"{share_map:6.1%} in the map{extra}" + (f"; rejected: {worst}" if worst else "")
        )


def substitutes_after_purchase() -> None:
    print("2. after a purchase: items in the bought product's leaf category (substitutes) / going with it (the judge)")
    for name in BOUGHT_LEAVES:
        product = products_in(name)[0]
        shopper = Shopper()
        shopper.buy(product.id)
        for scenario in ("home", "cart"):
            body = shopper.get("/api/recommendations/", scenario=scenario, n=12)
            paths = [item["product"]["category"] for item in body["items"]]
            same = sum(p == product.category.path for p in paths)
            goes = sum(plausible(product.category.path, p) for p in paths)
            top = Counter(leaf(p) for p in paths).most_common(1)[0] if paths else ("-", 0)
            print(
                f"   bought {name:14s} {scenario:4s}: {same:2d}/12 substitutes, {goes:2d}/12 complements, "
                f"largest category {top[0]} ({top[1]})"
            )


def preference_compliance() -> None:
    print("3. stated preferences: items above the ceiling, share in the stated categories, reasons")
    from dragonrec.catalog.models import Category

    def path(name: str) -> str:
        return Category.objects.get(name=name).path

    stated = [path("Yoga Mats"), path("Fitness Trackers")]
    cases: list[tuple[str, dict[str, Any], list[str], float | None]] = [
        ("cold: Yoga Mats + Fitness Trackers, price_max 100", {"categories": stated, "price_max": "100"}, [], 100.0),
        ("history: price_max 150, viewed a monitor", {"price_max": "150"}, ["Monitors"], 150.0),
        ("cold: brand Lumora", {"brands": ["Lumora"]}, [], None),
    ]
    for label, preferences, viewed, ceiling in cases:
        shopper = Shopper()
        shopper.state(**preferences)
        for name in viewed:
            shopper.event("view", products_in(name)[0].id)
        for scenario in ("home",) + (("product",) if viewed else ()):
            anchor = products_in(viewed[0])[0].id if scenario == "product" else None
            body = shopper.get("/api/recommendations/", scenario=scenario, product_id=anchor, n=12)
            items = [item["product"] for item in body["items"]]
            over = sum(1 for p in items if ceiling is not None and float(p["price"]) > ceiling)
            in_stated = sum(any(p["category"].startswith(s) for s in stated) for p in items)
            brand = sum(p.get("brand") == "Lumora" for p in items)
            reasons = Counter(reason_kind(item["reason"]) for item in body["items"])
            reasons_text = ", ".join(f"'{k}' x{v}" for k, v in reasons.most_common(3))
            share = (
                f"{in_stated}/12 in stated categories"
                if "categories" in preferences
                else f"{brand}/12 Lumora"
                if "brands" in preferences
                else ""
            )
            print(
                f"   {label:50s} {scenario:7s}: {over:2d} above the ceiling, {share}, relaxed={body['relaxed']}, "
                f"reasons: {reasons_text}"
            )
    cold = Shopper()
    body = cold.get("/api/recommendations/", scenario="home", n=12)
    browsing = sum(item["reason"] == "Based on your recent browsing" for item in body["items"])
    print(f"   a new visitor with no history: {browsing}/12 'Based on your recent browsing' reasons")


def page_duplicates() -> None:
    print("4. cross-list duplicates per page (page order as the storefront asks), request_id on every list")
    monitors = products_in("Monitors")
    for use_exclude in (False, True):
        duplicates = lists = with_id = 0
        for product in monitors:
            shopper = Shopper()
            shopper.event("view", product.id)
            shown: list[int] = []
            page: list[list[int]] = []
            for url, params in (
                (f"/api/products/{product.id}/complements/", {}),
                (f"/api/products/{product.id}/similar/", {}),
                ("/api/recommendations/", {"scenario": "product", "product_id": product.id}),
            ):
                exclude = ",".join(map(str, shown)) if use_exclude and shown else None
                body = shopper.get(url, n=8, exclude=exclude, **params)
                ids = [item["product"]["id"] for item in body["items"]]
                lists += 1
                with_id += bool(body.get("request_id"))
                page.append(ids)
                shown += ids
            duplicates += len(shown) - len(set(shown))
        label = "with exclude" if use_exclude else "without exclude"
        print(
            f"   product pages ({len(monitors)} monitors), {label:15s}: {duplicates / len(monitors):.2f} duplicates "
            f"per page, {with_id}/{lists} lists with a request_id"
        )
    for use_exclude in (False, True):
        shopper = Shopper()
        cart = [products_in("Laptops")[0].id, products_in("Monitors")[1].id]
        for pid in cart:
            shopper.event("view", pid)
            shopper.event("add_to_cart", pid)
        first = shopper.get("/api/recommendations/", scenario="cart", n=8)
        first_ids = [item["product"]["id"] for item in first["items"]]
        exclude = ",".join(map(str, cart + first_ids)) if use_exclude else None
        second = shopper.get("/api/recommendations/", scenario="home", n=8, exclude=exclude)
        second_ids = [item["product"]["id"] for item in second["items"]]
        dup = len(set(first_ids) & set(second_ids)) + len(set(cart) & set(second_ids))
        label = "with exclude" if use_exclude else "without exclude"
        print(f"   cart page, {label:15s}: {dup} duplicates")


CHROMIUM = "/usr/bin/chromium"


def browser_walk(bind: str) -> None:
    print(f"5. failed requests per page in Chromium ({CHROMIUM}), the storefront on http://{bind}")
    import shutil
    import time
    import urllib.request

    from config import frontend

    if not Path(CHROMIUM).exists() or shutil.which("npm") is None:
        print(f"   skipped: {'no Chromium at ' + CHROMIUM if not Path(CHROMIUM).exists() else 'npm is not on PATH'}")
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("   skipped: playwright is not installed (requirements.txt)")
        return
    frontend.ensure_built(quiet=True)
    manage = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"]
    subprocess.run(manage, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, DRAGONREC_BIND=bind, DRAGONREC_WEB_WORKERS="1", OMP_NUM_THREADS="1")
    web = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
    server = subprocess.Popen(web, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://{bind}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/categories/", timeout=2) as answer:
                    categories = json.loads(answer.read())
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    print("   skipped: gunicorn did not answer (is the address free?)")
                    return
                time.sleep(0.5)
        roots = categories if isinstance(categories, list) else categories.get("results", [])
        office = next((c["id"] for c in roots if c.get("name") == "Office"), roots[0]["id"] if roots else 1)
        monitor = products_in("Monitors")[0].id
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                # nothing but localhost is reachable here: keep Chromium from phoning home
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            )
            page = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}).new_page()
            problems: list[str] = []
            page.on("requestfailed", lambda r: problems.append(f"failed {r.method} {r.url}: {r.failure}"))

            def on_response(response: Any) -> None:
                if response.status >= 400:
                    problems.append(f"{response.status} {response.url}")

            def on_console(message: Any) -> None:
                if message.type == "error":
                    problems.append(f"console error: {message.text}")

            page.on("response", on_response)
            page.on("console", on_console)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            total = 0
            for name, path in (
                ("home", "/"),
                ("search", "/search?q=keyboard"),
                ("category", f"/category/{office}"),
                ("product", f"/products/{monitor}"),
                ("cart", "/cart"),
            ):
                problems.clear()
                if name == "cart":
                    # as a shopper gets there, through the header's link: a typed URL would unload the product
                    # page while its tracker's batch is in flight (Chromium counts that POST as aborted)
                    page.get_by_role("link", name=re.compile("Cart")).first.click()
                    page.wait_for_url(f"**{path}")
                    # the cart's lists are asked after its events are sent: wait for them, not for a quiet network
                    page.get_by_role("region", name="Recommended for you").get_by_role("link").first.wait_for()
                else:
                    page.goto(path)
                page.wait_for_load_state("networkidle")
                if name == "product":  # the cart page below shows this product and its lists
                    page.get_by_role("button", name="Add to cart").click()
                    page.wait_for_load_state("networkidle")
                pictures = page.locator("#main img").count()
                total += len(problems)
                print(f"   {name:8s} {path:22s}: {len(problems)} failed requests / errors, {pictures} pictures")
                for problem in problems[:5]:
                    print(f"      {problem[:160]}")
            browser.close()
        print(f"   in all: {total} failed requests, answers >= 400, console or page errors")
    finally:
        server.terminate()
        server.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", action="store_true", help="train a student if none is active (as make demo)")
    parser.add_argument("--bind", default="127.0.0.1:8101", help="where the browser walk's gunicorn listens")
    parser.add_argument("--no-browser", action="store_true", help="leave out the Chromium walk")
    args = parser.parse_args()
    command = [sys.executable, "manage.py", "dragonrec_demo_data"] + ([] if args.train else ["--skip-train"])
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)

    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from dragonrec.recommender.models import ModelVersion

    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    print(f"demo shop, ranker: {'student ' + active.version if active else 'embedding (no student)'}")
    complement_plausibility(entered=True)
    complement_plausibility(entered=False)  # last: the rest runs on the shop as the demo loads it
    substitutes_after_purchase()
    preference_compliance()
    page_duplicates()
    if args.no_browser:
        print("5. failed requests per page in Chromium: left out (--no-browser)")
    else:
        browser_walk(args.bind)
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
