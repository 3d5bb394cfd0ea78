"""A realistic shopper mix for load tests (issue #24), with locust (https://locust.io):

    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8107 --headless -u 20 -r 5 -t 2m \
        --csv var/bench/load      # per-endpoint p50/p95/p99 and throughput in var/bench/load_stats.csv

Each simulated shopper is a browser with its own cookie jar (the shopper cookie, CSRF): it opens the home page's
recommendations, browses a category, opens products (with their complements, similar items and product-page
recommendations), searches, carts, looks at the cart's recommendations, sometimes buys, and sends what it did as
event batches (the storefront's tracker flushes every few seconds). Weights follow a shop's funnel: many views, few
purchases. Requests are named by endpoint (ids stripped) so the statistics group per endpoint.

Point --host at any stack (`scripts/demo.py` with DRAGONREC_BIND=127.0.0.1:8107 is the production-like one:
gunicorn, a Celery worker and beat); the throttles of that stack apply, so raise them for a load test
(DRAGONREC_THROTTLE_RATES, config/settings/base.py) or the answers are 429s.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from locust import HttpUser, between, task

WORDS = ["set", "kit", "lamp", "bottle", "mat", "case", "keyboard", "monitor", "mouse", "coffee", "shoes", "cable"]


class ShopperMix:
    """One shopper's behaviour over an HTTP client (locust's HttpSession): the tasks below, and their state. Requests
    are named `<prefix><endpoint>`, so bench/load.py can play one mix against two stacks and tell them apart."""

    def __init__(self, client: Any, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.pending: list[dict[str, Any]] = []
        self.cart: list[int] = []
        self.seen: list[int] = []
        self.csrf = ""
        self.categories: list[str] = [""]

    def start(self) -> None:
        response = self.client.get("/api/auth/session/", name=f"{self.prefix}/api/auth/session/")
        self.csrf = response.cookies.get("csrftoken", "") or self.client.cookies.get("csrftoken", "")
        categories = self.client.get("/api/categories/", name=f"{self.prefix}/api/categories/")
        if categories.status_code == 200:
            self.categories = [c["path"] for c in categories.json() if c.get("product_count")] or [""]

    # ----------------------------------------------------------------------------------------------- helpers
    def _event(self, kind: str, product_id: int | None, **extra: Any) -> None:
        self.pending.append(
            {
                "id": str(uuid.uuid4()),
                "type": kind,
                "product_id": product_id,
                "timestamp": datetime.now(UTC).isoformat(),
                **extra,
            }
        )
        if len(self.pending) >= 5:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        body, self.pending = {"events": self.pending}, []
        self.client.post(
            "/api/events/",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf},
            name=f"{self.prefix}/api/events/ (batch)",
        )

    def _recommendations(self, scenario: str, product_id: int | None = None) -> list[int]:
        params: dict[str, Any] = {"scenario": scenario, "n": 10}
        if product_id:
            params["product_id"] = product_id
        response = self.client.get(
            "/api/recommendations/", params=params, name=f"{self.prefix}/api/recommendations/ {scenario}"
        )
        if response.status_code != 200:
            return []
        return [item["product"]["id"] for item in response.json().get("items", [])]

    def _open(self, product_id: int) -> None:
        p = self.prefix
        self.client.get(f"/api/products/{product_id}/", name=f"{p}/api/products/{{id}}/")
        self.client.get(f"/api/products/{product_id}/complements/", name=f"{p}/api/products/{{id}}/complements/")
        self.client.get(f"/api/products/{product_id}/similar/", name=f"{p}/api/products/{{id}}/similar/")
        self.seen += self._recommendations("product", product_id)
        self._event("view", product_id)

    # ------------------------------------------------------------------------------------------------- tasks
    def home(self) -> None:
        self.seen += self._recommendations("home")

    def browse_category(self) -> None:
        category = random.choice(self.categories)
        response = self.client.get(
            "/api/products/",
            params={"category": category, "page_size": 24},
            name=f"{self.prefix}/api/products/?category",
        )
        if response.status_code == 200:
            items = response.json().get("results", [])
            if items:
                self._open(random.choice(items)["id"])

    def open_recommended(self) -> None:
        if self.seen:
            self._open(random.choice(self.seen[-30:]))

    def search(self) -> None:
        query = random.choice(WORDS)
        response = self.client.get("/api/search/", params={"q": query}, name=f"{self.prefix}/api/search/")
        if response.status_code == 200:
            self._event("search", None, context={"query": query})
            items = response.json().get("items", [])
            if items:
                self._open(items[0]["product"]["id"])

    def add_to_cart(self) -> None:
        if self.seen:
            product = random.choice(self.seen[-10:])
            self.cart.append(product)
            self._event("add_to_cart", product)
            self.seen += self._recommendations("cart")

    def buy(self) -> None:
        for product in self.cart:
            self._event("purchase", product)
        self.cart = []
        self.flush()


# The funnel's weights: many views, few purchases (bench/load.py plays the same ones).
WEIGHTS = {"home": 4, "browse_category": 5, "open_recommended": 6, "search": 2, "add_to_cart": 2, "buy": 1}


class Shopper(HttpUser):
    wait_time = between(0.5, 3.0)  # a person reads between clicks

    def on_start(self) -> None:
        self.mix = ShopperMix(self.client)
        self.mix.start()

    @task(WEIGHTS["home"])
    def home(self) -> None:
        self.mix.home()

    @task(WEIGHTS["browse_category"])
    def browse_category(self) -> None:
        self.mix.browse_category()

    @task(WEIGHTS["open_recommended"])
    def open_recommended(self) -> None:
        self.mix.open_recommended()

    @task(WEIGHTS["search"])
    def search(self) -> None:
        self.mix.search()

    @task(WEIGHTS["add_to_cart"])
    def add_to_cart(self) -> None:
        self.mix.add_to_cart()

    @task(WEIGHTS["buy"])
    def buy(self) -> None:
        self.mix.buy()

    def on_stop(self) -> None:
        self.mix.flush()
