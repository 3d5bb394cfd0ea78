"""A synthetic large shop for load tests and scale benchmarks (`manage.py dragonrec_generate`).

What it writes, all drawn from one seed (the same seed gives the same rows, event ids included):
- a category tree: departments > aisles > leaf categories (DEPARTMENTS x AISLES x NOUNS, 240 leaves), each leaf with
  a price band (log-normal around its own median), a handful of brands and 2 complement leaves in other departments;
- products spread over the leaves with Zipf-skewed sizes, each with a Zipf popularity (the rank-frequency shape of
  real catalogs: a few products get most of the traffic);
- shopper sessions: views in one leaf (popular products more likely), some end in a cart, some carts in a purchase,
  and some purchases are followed by a view -> cart -> purchase of a product from a complement leaf (the
  cross-category co-purchases complements are learned from).

Everything is written with COPY (psycopg's `cursor.copy`); for big loads into empty tables the secondary indexes and
outgoing foreign keys are dropped first and rebuilt once at the end (one sort instead of millions of random btree
inserts). Products carry `attributes["generated"]` (the seed) so nobody mistakes them for a real catalog; their
embeddings are written by the recommender (`recommender_embed`, real or `--synthetic`), not here: tracking (which
may write catalog rows, never the reverse) does not depend on the recommender.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection

from dragonrec.bulk import bulk_load, copy_rows
from dragonrec.catalog.models import Category, Product
from dragonrec.tracking.models import Event

DEPARTMENTS = [
    "Electronics", "Home", "Kitchen", "Sports", "Beauty", "Toys",
    "Garden", "Office", "Fashion", "Books", "Grocery", "Automotive",
]  # fmt: skip
AISLES = ["Essentials", "Accessories", "Premium", "Outdoor", "Travel"]
NOUNS = ["Set", "Kit", "Stand", "Case", "Bag", "Lamp", "Bottle", "Mat", "Cable", "Organizer",
         "Tool", "Cover", "Holder", "Pack", "Brush", "Box", "Light", "Rack", "Pad", "Clip"]  # fmt: skip
LEAVES_PER_AISLE = 4
ADJECTIVES = ["Pro", "Max", "Lite", "Plus", "Air", "Ultra", "Mini", "Prime", "Neo", "Edge", "Core", "Flex"]
SYLLABLES = ["ka", "lo", "vi", "ra", "te", "mo", "zu", "ne", "si", "po", "da", "fi", "ro", "xa", "be", "lu"]

# The session model (means): 2.5 views, 25% of sessions cart the last viewed product, half of the carts are bought,
# half of the purchases are followed by a complement from another department (view -> cart -> purchase).
VIEW_P = 0.4  # views per session ~ geometric(0.4), capped at MAX_VIEWS
MAX_VIEWS = 12
CART_P, BUY_P, CROSS_P = 0.25, 0.5, 0.5
SESSIONS_PER_CHUNK = 200_000  # ~600k events, ~150 MB of COPY text at a time


@dataclass
class GenerateReport:
    categories: int = 0
    products: int = 0
    events: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Shop:
    leaf_ids: np.ndarray  # category pk per leaf
    product_ids: np.ndarray  # product pk, sorted by leaf
    product_leaf: np.ndarray  # leaf index per product
    product_price: np.ndarray
    cum_weight: np.ndarray  # cumulative popularity over products (in leaf order)
    leaf_lo: np.ndarray  # per leaf: cumulative weight before its first product
    leaf_hi: np.ndarray
    complements: np.ndarray  # (leaves, 2) complement leaf indexes


def shop_generate(
    *,
    products: int,
    shoppers: int,
    events: int,
    seed: int = 0,
    end: datetime | None = None,
    days: int = 28,
    progress: Callable[[str], None] | None = None,
) -> GenerateReport:
    """Write a generated shop (see the module docstring) ending at `end` (default now) over `days` days."""
    if products < 1 or shoppers < 1 or events < 0:
        raise ValueError("products and shoppers must be at least 1, events at least 0")
    prefix = f"G{seed}-"
    if Product.objects.filter(sku__startswith=prefix).exists():
        raise ValueError(f"products of seed {seed} exist already (sku {prefix}...): use another seed or a fresh db")
    say = progress or (lambda _: None)
    rng = np.random.default_rng(seed)
    end = end or datetime.now().astimezone()
    report = GenerateReport()

    started = time.perf_counter()
    leaves = _categories_write(report)
    report.seconds["categories"] = time.perf_counter() - started
    say(f"{report.categories} categories")

    started = time.perf_counter()
    shop = _products_write(rng, leaves, products, prefix=prefix, seed=seed, when=end)
    report.products = products
    report.seconds["products"] = time.perf_counter() - started
    say(f"{products} products in {report.seconds['products']:.1f} s")

    started = time.perf_counter()
    report.events = _events_write(rng, shop, shoppers=shoppers, events=events, seed=seed, end=end, days=days, say=say)
    report.seconds["events"] = time.perf_counter() - started
    say(f"{report.events} events in {report.seconds['events']:.1f} s")
    with connection.cursor() as cursor:
        for table in (Product._meta.db_table, Event._meta.db_table):
            cursor.execute(f"ANALYZE {table}")
    return report


def _categories_write(report: GenerateReport) -> list[Category]:
    leaves: list[Category] = []
    for d, department in enumerate(DEPARTMENTS):
        top, _ = Category.objects.get_or_create(path=department, defaults={"name": department})
        for a, aisle in enumerate(AISLES):
            middle = Category.objects.filter(path=f"{department} > {aisle}").first() or Category.objects.create(
                name=aisle, parent=top
            )
            for k in range(LEAVES_PER_AISLE):
                noun = NOUNS[(d * 7 + a * LEAVES_PER_AISLE + k) % len(NOUNS)]
                name = f"{aisle} {noun}s"
                leaf = Category.objects.filter(path=f"{middle.path} > {name}").first() or Category.objects.create(
                    name=name, parent=middle
                )
                leaves.append(leaf)
    report.categories = Category.objects.count()
    return leaves


def _pseudo_word(rng: np.random.Generator) -> str:
    return "".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), rng.integers(2, 4))).capitalize()


def _zipf_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Weights 1/rank^exponent handed out in random order."""
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return rng.permutation(weights)


def _products_write(
    rng: np.random.Generator, leaves: list[Category], n: int, *, prefix: str, seed: int, when: datetime
) -> _Shop:
    n_leaves = len(leaves)
    # leaf sizes: Zipf over leaves (some categories are much bigger), every leaf gets at least one product when n allows
    leaf_of = np.sort(rng.choice(n_leaves, size=n, p=_normalised(_zipf_weights(n_leaves, 0.8, rng))))
    median = np.exp(rng.uniform(np.log(5), np.log(800), n_leaves))  # each leaf's price band: $5 .. $800 medians
    price = np.round(median[leaf_of] * rng.lognormal(0.0, 0.35, n), 2)
    brand_pool = [_pseudo_word(rng) for _ in range(max(20, n // 500))]
    leaf_brands = rng.integers(0, len(brand_pool), (n_leaves, 8))
    brand = leaf_brands[leaf_of, np.minimum(rng.geometric(0.35, n) - 1, 7)]  # a leaf's first brands dominate
    adjective = rng.integers(0, len(ADJECTIVES), n)
    model_no = rng.integers(2, 999, n)
    popularity = _zipf_weights(n, 1.05, rng)
    complements = np.stack(
        [(np.arange(n_leaves) + shift) % n_leaves for shift in rng.integers(20, n_leaves - 20, 2)], axis=1
    )  # 20+ leaves away: another department (5 aisles x 4 leaves = 20 leaves per department)

    stamp = when.isoformat()
    attributes = json.dumps({"generated": seed})
    leaf_names = [leaf.name for leaf in leaves]
    leaf_pks = [leaf.pk for leaf in leaves]

    def rows() -> Iterator[str]:
        for i in range(n):
            leaf = int(leaf_of[i])
            title = f"{brand_pool[brand[i]]} {leaf_names[leaf][:-1]} {ADJECTIVES[adjective[i]]} {model_no[i]}"
            yield (
                f"{prefix}{i:08d}\t{title}\tA generated {leaf_names[leaf][:-1].lower()} for load tests.\t"
                f"{brand_pool[brand[i]]}\t{leaf_pks[leaf]}\t{price[i]:.2f}\tUSD\t10\tt\tt\t{attributes}\t\t"
                f"{stamp}\t{stamp}\n"
            )

    columns = (
        "sku, title, description, brand, category_id, price, currency, stock_quantity, in_stock, is_active, "
        "attributes, image_url, created_at, updated_at"
    )
    table = Product._meta.db_table
    with bulk_load(table, rows=n):
        copy_rows(table, columns, rows())
    with connection.cursor() as cursor:
        # the skus are zero-padded, so their order is the generation order
        cursor.execute(f"SELECT id FROM {table} WHERE sku LIKE %s ORDER BY sku", [prefix + "%"])
        ids = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64, count=n)
    cum = np.cumsum(popularity)
    starts = np.searchsorted(leaf_of, np.arange(n_leaves), side="left")
    stops = np.searchsorted(leaf_of, np.arange(n_leaves), side="right")
    lo = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    hi = np.where(stops > 0, cum[np.maximum(stops - 1, 0)], 0.0)
    return _Shop(np.asarray(leaf_pks), ids, leaf_of, price, cum, lo, hi, complements)


def _normalised(weights: np.ndarray) -> np.ndarray:
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def _pick(rng: np.random.Generator, shop: _Shop, leaves: np.ndarray) -> np.ndarray:
    """A product index per entry of `leaves`, by popularity within the leaf (inverse CDF on the cumulative weights);
    an empty leaf (small catalogs) yields a product of the whole catalog."""
    lo, hi = shop.leaf_lo[leaves], shop.leaf_hi[leaves]
    empty = hi <= lo
    lo, hi = np.where(empty, 0.0, lo), np.where(empty, shop.cum_weight[-1], hi)
    target = lo + rng.random(len(leaves)) * (hi - lo)
    picked: np.ndarray = np.minimum(np.searchsorted(shop.cum_weight, target, side="right"), len(shop.cum_weight) - 1)
    return picked


def _events_write(
    rng: np.random.Generator,
    shop: _Shop,
    *,
    shoppers: int,
    events: int,
    seed: int,
    end: datetime,
    days: int,
    say: Callable[[str], None],
) -> int:
    table = Event._meta.db_table
    columns = "id, type, user_id, session_id, product_id, quantity, value, timestamp, context, source, received_at"
    shopper_weight = _normalised(_zipf_weights(shoppers, 0.7, rng))  # a few shoppers come back often
    leaf_weight = _normalised(np.maximum(shop.leaf_hi - shop.leaf_lo, 0.0))
    end_s = end.timestamp()
    span = days * 86400.0
    written = 0
    with bulk_load(table, rows=events):
        while written < events:
            chunk = _session_chunk(rng, shop, shopper_weight, leaf_weight, end_s=end_s, span=span)
            take = min(len(chunk[0]), events - written)
            copy_rows(table, columns, _event_lines(rng, chunk, take=take, seed=seed, shop=shop))
            written += take
            say(f"  {written:,} events")
    return written


def _session_chunk(
    rng: np.random.Generator,
    shop: _Shop,
    shopper_weight: np.ndarray,
    leaf_weight: np.ndarray,
    *,
    end_s: float,
    span: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(type code, shopper, product index, unix time) of the events of SESSIONS_PER_CHUNK sessions, in session
    order. Type codes index EVENT_TYPES."""
    s = SESSIONS_PER_CHUNK
    shopper = rng.choice(len(shopper_weight), size=s, p=shopper_weight)
    leaf = rng.choice(len(leaf_weight), size=s, p=leaf_weight)
    views = np.minimum(rng.geometric(VIEW_P, s), MAX_VIEWS)
    cart = rng.random(s) < CART_P
    buy = cart & (rng.random(s) < BUY_P)
    cross = buy & (rng.random(s) < CROSS_P)
    start = end_s - span + rng.random(s) * (span - 3600)

    view_session = np.repeat(np.arange(s), views)
    view_product = _pick(rng, shop, leaf[view_session])
    first_view = np.concatenate([[0], np.cumsum(views)[:-1]])
    view_offset = (np.arange(len(view_session)) - first_view[view_session]) * 30.0
    last_viewed = view_product[np.cumsum(views) - 1]
    other = shop.complements[leaf, rng.integers(0, shop.complements.shape[1], s)]
    cross_product = _pick(rng, shop, other[cross])
    c_sessions, b_sessions, x_sessions = np.flatnonzero(cart), np.flatnonzero(buy), np.flatnonzero(cross)
    gap = views * 30.0
    parts = [
        (0, view_session, view_product, view_offset),
        (1, c_sessions, last_viewed[c_sessions], gap[c_sessions] + 20),
        (2, b_sessions, last_viewed[b_sessions], gap[b_sessions] + 80),
        (0, x_sessions, cross_product, gap[x_sessions] + 140),
        (1, x_sessions, cross_product, gap[x_sessions] + 170),
        (2, x_sessions, cross_product, gap[x_sessions] + 230),
    ]
    kind = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int8) for p in parts])
    session = np.concatenate([p[1] for p in parts])
    product = np.concatenate([p[2] for p in parts])
    when = np.concatenate([start[p[1]] + p[3] for p in parts])
    order = np.lexsort((when, session))  # each session's events together, in time order
    return kind[order], shopper[session[order]], product[order], when[order]


EVENT_TYPES = ["view", "add_to_cart", "purchase"]


def _event_ids(rng: np.random.Generator, n: int) -> list[str]:
    """n random version-4 UUIDs (as 32 hex digits) from the seeded generator."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


def _event_lines(
    rng: np.random.Generator,
    chunk: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    take: int,
    seed: int,
    shop: _Shop,
) -> Iterator[str]:
    kind, shopper, product, when = (column[:take] for column in chunk)
    ids = _event_ids(rng, take)
    stamps = np.datetime_as_string((when * 1e6).astype("datetime64[us]"), unit="us")
    values = np.where(kind == 2, shop.product_price[product], -1.0)
    pks = shop.product_ids[product]
    for i in range(take):
        value = f"{values[i]:.2f}" if values[i] >= 0 else "\\N"
        stamp = stamps[i]
        yield (
            f"{ids[i]}\t{EVENT_TYPES[kind[i]]}\t\\N\tgen{seed}-{shopper[i]}\t{pks[i]}\t1\t{value}\t{stamp}+00\t{{}}\t"
            f"generated\t{stamp}+00\n"
        )
