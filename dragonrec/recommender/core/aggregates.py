"""Pure aggregate computations over event lists: trending scores, item complements, category complements.

Serving's Celery beat jobs call these with rows read from the database and store the results; the evaluation
harness calls them with the training part of a dataset. Same function, same numbers.

    >>> trending = trending_scores([(1, "purchase", now - 3600), (2, "view", now)], now=now, half_life_s=86400,
    ...                            weights=DEFAULT_EVENT_WEIGHTS)
    >>> config = AggregateConfig(window=5, min_count=2, top_k=20, category_top_k=10)
    >>> comps = item_complements(sessions, products=products, config=config)
    >>> cats = category_complements(sessions, products=products, config=config)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from dragonrec.recommender.core.defaults import DEFAULTS
from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId

# How much intent each event type shows: RECOMMENDER["EVENT_WEIGHTS"] (core/defaults.py says why).
DEFAULT_EVENT_WEIGHTS: Mapping[str, float] = dict(DEFAULTS["EVENT_WEIGHTS"])

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class AggregateConfig:
    """Defaults for the periodic aggregate jobs (the Celery beat tasks and the evaluation use the same ones)."""

    # trending should react within days, not weeks (a shop's promotions cycle)
    half_life_s: float = DEFAULTS["TRENDING_HALF_LIFE_HOURS"] * 3600.0
    event_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    window: int = 5  # a session's next ~5 actions still relate to the current product; further ones drift
    # one co-occurrence is an anecdote: require a second session before calling it a pair
    min_count: int = DEFAULTS["COMPLEMENTS_MIN_COUNT"]
    top_k: int = 50  # complements kept per product; serving shows ~10, the rest absorbs stock-outs and exclusions
    category_top_k: int = 10
    # A leaf category's partners kept only while at least this share of its strongest partner's PMI: weaker ones
    # are cross-shopping noise that a single category's list should not reach into (on the demo shop: a laptop's
    # phone cases at 26% of its laptop bags, a keyboard's SSDs at 24% of its mice; its true partners sit at 29-100%).
    category_min_share: float = 0.3
    shrinkage: float = 5.0  # count at which a pair's PMI keeps half its value (significance weighting)


def trending_scores(
    events: Iterable[tuple[ProductId, str, float]],
    *,
    now: float,
    half_life_s: float,
    weights: Mapping[str, float] = DEFAULT_EVENT_WEIGHTS,
) -> dict[ProductId, float]:
    """Exponentially time-decayed, intent-weighted event counts per product.

    score(p) = sum over events of weights[type] * 0.5 ** (age / half_life_s): the time-decay weighting of
    Ding & Li, "Time Weight Collaborative Filtering" (CIKM 2005), applied to popularity. Events of unknown types
    count 0; events in the future (clock skew) count as age 0. `half_life_s=math.inf` gives plain weighted counts
    (what the evaluation uses: the public datasets have no comparable timestamps).
    """
    scores: dict[ProductId, float] = defaultdict(float)
    for product_id, event_type, timestamp in events:
        weight = weights.get(event_type, 0.0)
        if weight == 0.0:
            continue
        age = max(0.0, now - timestamp)
        scores[product_id] += weight * 0.5 ** (age / half_life_s)
    return dict(scores)


def _keyed_events(
    session: Sequence[HistoryEvent], key_of: Callable[[ProductId], K | None], weights: Mapping[str, float]
) -> list[tuple[int, K, float]]:
    """(position, key, weight) of a session's events with a known key and a positive weight."""
    out = []
    for position, event in enumerate(session):
        key = key_of(event.product_id)
        weight = weights.get(event.event_type, 0.0)
        if key is not None and weight > 0:
            out.append((position, key, weight))
    return out


def cooccurrence_pmi(
    sessions: Iterable[Sequence[HistoryEvent]],
    *,
    key_of: Callable[[ProductId], K | None],
    related: Callable[[K, K], bool],
    top_k: int,
    config: AggregateConfig,
) -> dict[K, list[tuple[K, float]]]:
    """Pairs of keys that co-occur within `config.window` events of a session more than their popularity explains
    (in at least `config.min_count` sessions), the `top_k` strongest per key.

    Each session counts a key or a pair at most once, weighted by intent (strongest event, normalised to the
    largest weight, so a purchase-purchase pair counts 1 and a view-view pair 0.2). The association is pointwise
    mutual information (Church & Hanks, Computational Linguistics 1990), log(c_ab * N / (c_a * c_b)), which
    removes the "everyone buys the bestseller" effect that raw co-counts have, shrunk towards 0 by
    n_ab / (n_ab + shrinkage) so rare pairs do not win on one lucky session (significance weighting, Herlocker et
    al. SIGIR 1999; shrinkage as in Koren, KDD 2008). Only positive PMI is kept. Pairs with `related(a, b)` true
    (e.g. same leaf category: substitutes, not complements) are dropped.
    """
    window, min_count, shrinkage, weights = config.window, config.min_count, config.shrinkage, config.event_weights
    max_weight = max(weights.values(), default=1.0) or 1.0
    key_count: dict[K, float] = defaultdict(float)
    pair_count: dict[tuple[K, K], float] = defaultdict(float)
    pair_sessions: dict[tuple[K, K], int] = defaultdict(int)
    n_sessions = 0.0
    for session in sessions:
        events = _keyed_events(session, key_of, weights)
        if not events:
            continue
        n_sessions += 1.0
        strength: dict[K, float] = {}
        for _, key, weight in events:
            strength[key] = max(strength.get(key, 0.0), weight / max_weight)
        for key, value in strength.items():
            key_count[key] += value
        pairs: dict[tuple[K, K], float] = {}
        for i, (pos_a, key_a, w_a) in enumerate(events):
            for pos_b, key_b, w_b in events[i + 1 :]:
                if pos_b - pos_a > window:
                    break
                if key_a == key_b or related(key_a, key_b):
                    continue
                pair = (key_a, key_b) if repr(key_a) <= repr(key_b) else (key_b, key_a)
                # Geometric mean: a view next to a purchase is weaker evidence than two purchases.
                pairs[pair] = max(pairs.get(pair, 0.0), math.sqrt(w_a * w_b) / max_weight)
        for pair, value in pairs.items():
            pair_count[pair] += value
            pair_sessions[pair] += 1

    neighbours: dict[K, list[tuple[K, float]]] = defaultdict(list)
    for (key_a, key_b), count in pair_count.items():
        n_ab = pair_sessions[(key_a, key_b)]
        if n_ab < min_count:
            continue
        pmi = math.log(count * n_sessions / (key_count[key_a] * key_count[key_b]))
        if pmi <= 0:
            continue
        score = pmi * n_ab / (n_ab + shrinkage)
        neighbours[key_a].append((key_b, score))
        neighbours[key_b].append((key_a, score))
    return {key: sorted(items, key=lambda item: (-item[1], repr(item[0])))[:top_k] for key, items in neighbours.items()}


def item_complements(
    sessions: Iterable[Sequence[HistoryEvent]],
    *,
    products: Mapping[ProductId, Product],
    config: AggregateConfig | None = None,
) -> dict[ProductId, list[tuple[ProductId, float]]]:
    """Products bought/viewed together (see `cooccurrence_pmi`), excluding pairs in the same leaf category; the
    `config.top_k` strongest per product.

    Same-category pairs are alternatives (two shampoos), which the embedding "similar" source already finds;
    complements are what goes *with* a product (a conditioner). Products missing from `products` are skipped;
    products without a category are never considered related, since nothing says they are substitutes.
    """

    def key_of(product_id: ProductId) -> ProductId | None:
        return product_id if product_id in products else None

    def same_leaf(a: ProductId, b: ProductId) -> bool:
        category = products[a].category
        return bool(category) and category == products[b].category

    config = config or AggregateConfig()
    return cooccurrence_pmi(sessions, key_of=key_of, related=same_leaf, top_k=config.top_k, config=config)


def category_complements(
    sessions: Iterable[Sequence[HistoryEvent]],
    *,
    products: Mapping[ProductId, Product],
    config: AggregateConfig | None = None,
) -> dict[str, list[tuple[str, float]]]:
    """Leaf categories (full paths) that go together, by the same PMI at category level (the `category_top_k`
    strongest per category), each category's list cut where a partner falls below `config.category_min_share` of
    its strongest (AggregateConfig says why).

    Category pairs have far more data than product pairs, so they exist from day one for a new product: the
    complement candidate source reaches a brand-new phone case through "Phones -> Phone Cases".
    """

    def key_of(product_id: ProductId) -> str | None:
        product = products.get(product_id)
        return product.category if product is not None and product.category else None

    config = config or AggregateConfig()
    found = cooccurrence_pmi(
        sessions, key_of=key_of, related=lambda a, b: False, top_k=config.category_top_k, config=config
    )
    min_share = config.category_min_share
    return {
        category: [(other, score) for other, score in partners if score >= min_share * partners[0][1]]
        for category, partners in found.items()
        if partners
    }
