#!/usr/bin/env python
"""Replays the event-ingest abuse of issue #21 against a running server (e.g. `make demo`) and checks each is refused.

    python bench/event_limits.py --url http://127.0.0.1:8000

As a browser would (the shopper cookie the server issues, no API key):
1. one cookie posts 24 batches of 500 purchases of one product as fast as it can (the audit stored all 12,000 in
   3.9 s): at most PURCHASES_PER_HOUR of them may be accepted;
2. another cookie posts 24 batches of 500 views: at most the per-shopper event rate may be accepted (a batch of 500
   counts 500), the rest rejected per item or, once nothing fits, answered 429;
3. a purchase with value -9999999999.99 and events dated 0001-01-01, 1970-01-01 and ten years ago: all rejected.
Prints what each answer was, with reasons and timings; exits 1 when a limit let through what it should refuse.
Run it on a fresh shopper budget (the counters are per hour); it writes at most a few hundred events.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

BATCHES, BATCH = 24, 500


class Browser:
    """One shopper: a cookie jar, as a browser keeps it."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def post_events(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        return self.call("POST", "/api/events/", {"events": items})


def flood(browser: Browser, make: Any) -> tuple[Counter[str], Counter[str], float]:
    """BATCHES posts of BATCH items back to back: item statuses (and 429s), rejection reasons, seconds."""
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    started = time.perf_counter()
    for _ in range(BATCHES):
        code, body = browser.post_events([make() for _ in range(BATCH)])
        if code != 200:
            statuses[f"HTTP {code} (whole batch)"] += BATCH
            continue
        for result in body["results"]:
            statuses[result["status"]] += 1
            if result["status"] == "rejected":
                reasons[result["error"].split(";")[0]] += 1
    return statuses, reasons, time.perf_counter() - started


def report(title: str, statuses: Counter[str], reasons: Counter[str], seconds: float) -> None:
    print(f"{title}: {sum(statuses.values())} items in {BATCHES} posts, {seconds:.1f} s")
    for status, count in statuses.most_common():
        print(f"  {status:>24}: {count}")
    for reason, count in reasons.most_common(3):
        print(f"    {count} x {reason}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--max-purchases", type=int, default=50, help="PURCHASES_PER_HOUR on the server")
    parser.add_argument("--max-events", type=int, default=600, help="events.shopper per window on the server")
    args = parser.parse_args()
    failures: list[str] = []

    first = Browser(args.url)
    first.call("GET", "/api/auth/session/")
    code, page = first.call("GET", "/api/products/?page=1")
    if code != 200 or not page["results"]:
        raise SystemExit(f"GET /api/products/ answered {code}: is the demo catalog loaded?")
    product = page["results"][0]
    price = product.get("price") or "1.00"

    def a_purchase() -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "type": "purchase", "product_id": product["id"], "value": price}

    def a_view() -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "type": "view", "product_id": product["id"]}

    statuses, reasons, seconds = flood(first, a_purchase)
    report(f"1. purchases of product {product['id']} from one cookie", statuses, reasons, seconds)
    if statuses["accepted"] > args.max_purchases:
        failures.append(f"{statuses['accepted']} purchases accepted from one cookie (cap {args.max_purchases})")

    second = Browser(args.url)
    second.call("GET", "/api/auth/session/")
    statuses, reasons, seconds = flood(second, a_view)
    report("2. views from one cookie", statuses, reasons, seconds)
    if statuses["accepted"] > args.max_events * (1 + int(seconds // 60) + 1):
        failures.append(f"{statuses['accepted']} views accepted from one cookie in {seconds:.0f} s")

    third = Browser(args.url)
    third.call("GET", "/api/auth/session/")
    now = datetime.now(UTC)
    probes = {
        "value -9999999999.99": {**a_purchase(), "value": "-9999999999.99"},
        "timestamp 0001-01-01": {**a_view(), "timestamp": "0001-01-01T00:00:00Z"},
        "timestamp 1970-01-01": {**a_view(), "timestamp": "1970-01-01T00:00:00Z"},
        "timestamp ten years ago": {**a_view(), "timestamp": (now - timedelta(days=3653)).isoformat()},
    }
    code, body = third.post_events(list(probes.values()))
    print("3. single bad items:")
    for (name, _), result in zip(probes.items(), body["results"] if code == 200 else [], strict=False):
        print(f"  {name:>24}: {result['status']} ({result.get('error', '')})")
        if result["status"] != "rejected":
            failures.append(f"{name} was {result['status']}")
    if code != 200:
        failures.append(f"the bad-items batch answered {code}")

    for failure in failures:
        print(f"FAIL: {failure}")
    print("all refused as they should be" if not failures else f"{len(failures)} limit(s) let through abuse")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
