"""How fast a shopper sees recommendations in the storefront: navigation to the first recommended card, in Chromium.

    python bench/storefront_speed.py --url http://127.0.0.1:8000 --pages 30     # against `make demo`

For each of `--pages` product pages (client-side navigation from the previous one, as a shopper clicking through
the shop), the time from the navigation to the first card of the page's "Recommended for you" list (a new
request id) being in the page, and the same for the home list after a full load. Prints p50/p95/max and the
gzipped size of the JavaScript the first load fetched.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
import urllib.request

import numpy as np

# the product-scenario list holds a request id other than the previous page's, and a card
NEW_LIST = """(old) => {
  const s = document.querySelector('section[data-list=product]');
  return Boolean(s && s.dataset.requestId && s.dataset.requestId !== old && s.querySelector('li a'));
}"""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with urllib.request.urlopen(f"{args.url}/api/products/?page_size=100") as response:
        products = [p["id"] for p in json.load(response)["results"]]
    js_bytes = 0
    product_ms: list[float] = []
    home_ms: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
        page = browser.new_page()
        scripts: list[str] = []
        page.on("response", lambda r: scripts.append(r.url) if r.url.endswith(".js") else None)
        for _ in range(3):
            started = time.perf_counter()
            page.goto(f"{args.url}/")
            page.get_by_role("region", name="Recommended for you").get_by_role("link").first.wait_for()
            home_ms.append((time.perf_counter() - started) * 1000)
        for url in dict.fromkeys(scripts):
            with urllib.request.urlopen(url) as response:
                js_bytes += len(gzip.compress(response.read()))
        for pid in (products * 10)[: args.pages]:
            old = page.evaluate("() => document.querySelector('section[data-list=product]')?.dataset.requestId ?? ''")
            started = time.perf_counter()
            page.evaluate(
                "(path) => { history.pushState({}, '', path); dispatchEvent(new PopStateEvent('popstate')); }",
                f"/products/{pid}",
            )
            page.wait_for_function(NEW_LIST, arg=old, polling="raf")
            product_ms.append((time.perf_counter() - started) * 1000)
        browser.close()
    for name, values in (("home (full load)", home_ms), ("product page (navigation)", product_ms)):
        arr = np.array(values)
        print(
            f"{name}: recommendations visible after p50 {np.percentile(arr, 50):.0f} ms, "
            f"p95 {np.percentile(arr, 95):.0f} ms, max {arr.max():.0f} ms ({len(arr)} pages)"
        )
    print(f"first load JavaScript: {js_bytes / 1024:.0f} KB gzipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
