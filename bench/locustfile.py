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


class Shopper(HttpUser):
    wait_time = between(0.5, 3.0)  # a person reads between clicks

    def on_start(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.cart: list[int] = []
        self.seen: list[int] = []
        response = self.client.get("/api/auth/session/", name="/api/auth/session/")
        self.csrf = response.cookies.get("csrftoken", "") or self.client.cookies.get("csrftoken", "")
        categories = self.client.get("/api/categories/", name="/api/categories/").json()
        self.categories = [c["path"] for c in categories if c.get("product_count")] or [""]

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
            name="/api/events/ (batch)",
        )

    def _recommendations(self, scenario: str, product_id: int | None = None) -> list[int]:
        params = {"scenario": scenario, "n": 10}
        if product_id:
            params["product_id"] = product_id
        response = self.client.get("/api/recommendations/", params=params, name=f"/api/recommendations/ {scenario}")
        if response.status_code != 200:
            return []
        return [item["product"]["id"] for item in response.json().get("items", [])]

    def _open(self, product_id: int) -> None:
        self.client.get(f"/api/products/{product_id}/", name="/api/products/{id}/")
        self.client.get(f"/api/products/{product_id}/complements/", name="/api/products/{id}/complements/")
        self.client.get(f"/api/products/{product_id}/similar/", name="/api/products/{id}/similar/")
        self.seen += self._recommendations("product", product_id)
        self._event("view", product_id)

    # ------------------------------------------------------------------------------------------------- tasks
    @task(4)
    def home(self) -> None:
        self.seen += self._recommendations("home")

    @task(5)
    def browse_category(self) -> None:
        category = random.choice(self.categories)
        response = self.client.get(
            "/api/products/", params={"category": category, "page_size": 24}, name="/api/products/?category"
        )
        if response.status_code == 200:
            items = response.json().get("results", [])
            if items:
                self._open(random.choice(items)["id"])

    @task(6)
    def open_recommended(self) -> None:
        if self.seen:
            self._open(random.choice(self.seen[-30:]))

    @task(2)
    def search(self) -> None:
        query = random.choice(WORDS)
        response = self.client.get("/api/search/", params={"q": query}, name="/api/search/")
        if response.status_code == 200:
            self._event("search", None, context={"query": query})
            items = response.json().get("items", [])
            if items:
                self._open(items[0]["product"]["id"])

    @task(2)
    def add_to_cart(self) -> None:
        if self.seen:
            product = random.choice(self.seen[-10:])
            self.cart.append(product)
            self._event("add_to_cart", product)
            self.seen += self._recommendations("cart")

    @task(1)
    def buy(self) -> None:
        for product in self.cart:
            self._event("purchase", product)
        self.cart = []
        self.flush()

    def on_stop(self) -> None:
        self.flush()
