"""Re-ranking: business rules, then diversity (MMR + a per-category cap), then pins. Pure functions.

    >>> rules = RerankRules(diversity=0.3, category_cap=3, exclude=frozenset(blocked), pins={42: 0})
    >>> page = rerank(ranked_items, products=products_by_id, index=index, rules=rules, n=10, fallback=trending)

Order of operations and why:
1. hard rules drop what must never show (inactive, out of stock, blocked, bought non-consumables,
   outside the category or price restriction) and apply boosts, so diversity works on what can actually show;
2. MMR (Carbonell & Goldstein, SIGIR 1998) picks the page greedily, trading relevance against similarity to what is
   already picked, with at most `category_cap` items per leaf category; the first `diversity_keep_top` slots follow
   relevance alone and only similarity above `diversity_threshold` counts (near-duplicates, not related items);
3. if the candidates run dry, `fallback` items (trending) fill the page, then the cap is relaxed, then `rested`
   (fatigued) items come back: a full page beats a perfectly diverse or perfectly fresh half page;
4. pins are placed last at their positions, so they never count against the cap or push each other around.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dragonrec.categories import category_within
from dragonrec.recommender.core.defaults import PIPELINE_DEFAULTS
from dragonrec.recommender.core.stores import VectorIndex
from dragonrec.recommender.core.types import PURCHASE, RATING, HistoryEvent, Product, ProductId, ScoredItem

BOUGHT_EVENT_TYPES = frozenset({PURCHASE, RATING})  # a review is the public datasets' purchase signal


@dataclass(frozen=True)
class RerankConfig:
    """How one scenario's page is diversified (see mmr_select): the five RECOMMENDER re-rank keys, read once by
    `from_settings` and handed through the serving policy into RerankRules."""

    diversity: float = PIPELINE_DEFAULTS["DIVERSITY"]
    keep_top: int = PIPELINE_DEFAULTS["DIVERSITY_KEEP_TOP"]
    threshold: float = PIPELINE_DEFAULTS["DIVERSITY_THRESHOLD"]
    category_cap: int | None = PIPELINE_DEFAULTS["CATEGORY_CAP"]
    category_bonus: float = PIPELINE_DEFAULTS["CATEGORY_BONUS"]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RerankConfig:
        """From RECOMMENDER-shaped keys (DIVERSITY, DIVERSITY_KEEP_TOP, ...); a missing key keeps its default."""
        cap = settings.get("CATEGORY_CAP", cls.category_cap)
        return cls(
            diversity=float(settings.get("DIVERSITY", cls.diversity)),
            keep_top=int(settings.get("DIVERSITY_KEEP_TOP", cls.keep_top)),
            threshold=float(settings.get("DIVERSITY_THRESHOLD", cls.threshold)),
            category_cap=None if cap is None else int(cap),
            category_bonus=float(settings.get("CATEGORY_BONUS", cls.category_bonus)),
        )


@dataclass(frozen=True)
class RerankRules:
    diversity: float = 0.0  # MMR trade-off in [0, 1]: 0 = pure relevance (off), 1 = only novelty w.r.t. the page
    diversity_keep_top: int = 0  # the first slots follow relevance alone (the category cap still applies)
    diversity_threshold: float = 0.0  # cosine below this is "different enough" (0 = classic MMR: all similarity)
    category_bonus: float = 0.0  # relevance an item of a leaf category not yet on the page gains (below keep_top)
    category_cap: int | None = None  # max items per leaf category on a page (None = no cap)
    exclude: frozenset[ProductId] = frozenset()  # blocked, already in cart, ...
    # shown often and never clicked (impression fatigue): left out unless the page would be short without them
    rested: frozenset[ProductId] = frozenset()
    bought: frozenset[ProductId] = frozenset()  # recently bought: dropped unless the product is consumable
    pins: Mapping[ProductId, int] = field(default_factory=dict)  # product id -> 0-based position
    boosts: Mapping[ProductId, float] = field(default_factory=dict)  # product id -> score multiplier
    categories: tuple[str, ...] = ()  # only products under these category paths (empty = all)
    price_min: float | None = None
    price_max: float | None = None
    drop_unavailable: bool = True
    # What the shopper stated (core.policy): a price range no item leaves while enough items fit it (relaxed last,
    # after everything else, when the page would be short), and liked categories/brands, which gain `prefer_bonus`
    # relevance; `prefer_cap` (a cold list) lets each preferred leaf category hold that many items above the cap.
    stated_price_min: float | None = None
    stated_price_max: float | None = None
    prefer_categories: tuple[str, ...] = ()
    prefer_brands: tuple[str, ...] = ()
    prefer_bonus: float = 0.0
    prefer_cap: int | None = None
    # Leaf categories (full paths) of a recent purchase: substitutes of what was just bought. Left out like rested
    # items, back only before a page would go short.
    avoid_categories: frozenset[str] = frozenset()


def bought_ids(history: Iterable[HistoryEvent]) -> frozenset[ProductId]:
    return frozenset(e.product_id for e in history if e.event_type in BOUGHT_EVENT_TYPES)


def is_allowed(product: Product | None, rules: RerankRules) -> bool:
    """Whether a product may appear at all under the hard rules."""
    if product is None or product.id in rules.exclude:
        return False
    if rules.drop_unavailable and not (product.is_active and product.in_stock):
        return False
    if product.id in rules.bought and not product.consumable:
        return False
    if rules.categories and not category_within(product.category, rules.categories):
        return False
    if product.category and product.category in rules.avoid_categories:
        return False
    # An unknown price passes: a restriction drops what is known to violate it (catalogs without prices still work).
    if product.price is not None:
        if rules.price_min is not None and product.price < rules.price_min:
            return False
        if rules.price_max is not None and product.price > rules.price_max:
            return False
        if not within_stated_price(product, rules):
            return False
    return True


def within_stated_price(product: Product, rules: RerankRules) -> bool:
    """Whether a product fits the shopper's stated price range (an unknown price fits)."""
    if product.price is None:
        return True
    if rules.stated_price_min is not None and product.price < rules.stated_price_min:
        return False
    return rules.stated_price_max is None or product.price <= rules.stated_price_max


def is_preferred(product: Product | None, rules: RerankRules) -> bool:
    """In a category or of a brand the shopper said they like."""
    if product is None:
        return False
    if rules.prefer_categories and product.category and category_within(product.category, rules.prefer_categories):
        return True
    return bool(rules.prefer_brands) and product.brand.casefold() in {b.casefold() for b in rules.prefer_brands}


def _boosted(score: float, boost: float) -> float:
    # Multiplying a negative score would demote it; dividing keeps "boost > 1 moves the item up" for any sign.
    return score * boost if score >= 0 else score / boost


def apply_rules(
    items: Sequence[ScoredItem], products: Mapping[ProductId, Product], rules: RerankRules
) -> list[ScoredItem]:
    """Allowed items only, boosts applied, best first (stable for equal scores)."""
    kept = []
    for item in items:
        product = products.get(item.product_id)
        if not is_allowed(product, rules):
            continue
        boost = rules.boosts.get(item.product_id)
        if boost:
            item = replace(item, score=_boosted(item.score, boost))
        if rules.prefer_bonus and is_preferred(product, rules):
            item = replace(item, score=item.score + rules.prefer_bonus)
        kept.append(item)
    return sorted(kept, key=lambda item: -item.score)


def mmr_select(
    scores: np.ndarray,
    vectors: np.ndarray,
    *,
    n: int,
    diversity: float,
    categories: Sequence[str] | None = None,
    category_cap: int | None = None,
    keep_top: int = 0,
    threshold: float = 0.0,
    category_bonus: float = 0.0,
    category_caps: Mapping[str, int] | None = None,
) -> list[int]:
    """Indices of up to `n` items picked by Maximal Marginal Relevance under a per-category cap.

    Each step picks argmax (1 - diversity) * relevance - diversity * redundancy, with relevance min-max scaled to
    [0, 1] so `diversity` means the same whatever the ranker's score range, and redundancy the max cosine to the
    items already picked above `threshold`, rescaled to [0, 1]: (cos - threshold) / (1 - threshold), 0 below it.
    With threshold 0 this is classic MMR (Carbonell & Goldstein, SIGIR 1998), which also pushes down merely related
    items, i.e. exactly what a sequential recommender predicts well; a threshold penalises near-duplicates only.
    The first `keep_top` picks ignore redundancy: the top slots carry most of a list's value (and of NDCG), so they
    follow the ranker. Below them, an item whose leaf category is not on the page yet gains `category_bonus`
    (relevance units): a new category wins a slot only from an item at most that much more relevant. Items whose
    category already holds `category_cap` picks (or its own cap in `category_caps`) are skipped (empty category =
    unknown, never capped). May return fewer than `n` when the cap leaves too few items.
    """
    count = len(scores)
    if count == 0 or n <= 0:
        return []
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.max() - scores.min()
    relevance = (scores - scores.min()) / spread if spread > 0 else np.ones(count)
    vectors = np.asarray(vectors, dtype=np.float32)
    max_similarity = np.zeros(count)
    # Per pick, a handful of whole-array operations (a list of 20 is ~200 of them, most of the re-rank's CPU), so
    # what does not change between picks is computed once: the relevance part of the gain, each item's category
    # bonus (zeroed when its category reaches the page), and -inf where an item is taken. The arithmetic is the
    # same as the textbook form, operation for operation, so the picks are identical.
    relevant = (1.0 - diversity) * relevance
    spread_above = max(1.0 - threshold, 1e-9)
    taken = np.zeros(count)
    per_category: dict[str, int] = {}
    picked: list[int] = []
    members: dict[str, list[int]] = {}
    item_bonus: np.ndarray | None = None
    if category_bonus > 0 and categories is not None:
        # the items of each leaf category: an item's bonus goes when its category gets on the page
        for position, name in enumerate(categories):
            members.setdefault(name, []).append(position)
        item_bonus = np.full(count, category_bonus)
    left = count
    while len(picked) < n and left:
        if len(picked) < keep_top:
            gain = relevance + taken
        else:
            if diversity > 0:
                redundancy = np.maximum((max_similarity - threshold) / spread_above, 0.0)
                gain = relevant - diversity * redundancy
            else:
                gain = relevance.copy()
            if item_bonus is not None:
                gain += item_bonus
            gain += taken
        best = int(np.argmax(gain))  # first maximum: ties keep the ranker's order
        taken[best] = -np.inf
        left -= 1
        category = categories[best] if categories is not None else ""
        cap = category_caps.get(category, category_cap) if category_caps else category_cap
        if cap is not None and category and per_category.get(category, 0) >= cap:
            continue
        picked.append(best)
        if category:
            per_category[category] = per_category.get(category, 0) + 1
            if item_bonus is not None:
                item_bonus[members[category]] = 0.0
        if diversity > 0:
            np.maximum(max_similarity, vectors @ vectors[best], out=max_similarity)
    return picked


def _fill(
    page: list[ScoredItem],
    pools: Iterable[Sequence[ScoredItem]],
    *,
    n: int,
    category_of: Mapping[ProductId, str],
    category_cap: int | None,
    category_caps: Mapping[str, int] | None = None,
) -> list[ScoredItem]:
    """Append items from the pools in order until the page holds `n`, skipping duplicates and capped categories."""
    seen = {item.product_id for item in page}
    per_category: dict[str, int] = {}
    for item in page:
        category = category_of.get(item.product_id, "")
        per_category[category] = per_category.get(category, 0) + 1
    for pool in pools:
        for item in pool:
            if len(page) >= n:
                return page
            category = category_of.get(item.product_id, "")
            cap = (
                category_caps.get(category, category_cap)
                if category_caps and category_cap is not None
                else category_cap
            )
            capped = cap is not None and category and per_category.get(category, 0) >= cap
            if item.product_id in seen or capped:
                continue
            page.append(item)
            seen.add(item.product_id)
            per_category[category] = per_category.get(category, 0) + 1
    return page


def place_pins(page: list[ScoredItem], pins: Sequence[tuple[int, ScoredItem]], *, n: int) -> list[ScoredItem]:
    """Insert pinned items at their positions (lowest position first), dropping their duplicates; length <= n."""
    pinned_ids = {item.product_id for _, item in pins}
    page = [item for item in page if item.product_id not in pinned_ids]
    for position, item in sorted(pins, key=lambda pin: pin[0]):
        page.insert(min(position, len(page)), item)
    return page[:n]


def rerank(
    items: Sequence[ScoredItem],
    *,
    products: Mapping[ProductId, Product],
    index: VectorIndex | None,
    rules: RerankRules,
    n: int,
    fallback: Sequence[ScoredItem] | Callable[[], Sequence[ScoredItem]] = (),
) -> list[ScoredItem]:
    """The final page of up to `n` items (see the module docstring for the order of operations).

    `products` must contain every id in `items`, `fallback` and `rules.pins`; unknown ids are dropped. `fallback`
    may be a function, called only when the candidates leave the page short (most pages never need it: building
    a few hundred trending items and looking them up was ~5% of a served list's CPU); it must return its items'
    products in `products` by then (serving's pipeline adds them to the same dict).
    """
    soft = rules
    if rules.rested:
        rules = replace(rules, exclude=rules.exclude | rules.rested)
    pins = [
        (position, ScoredItem(product_id=pid, score=0.0, source="pinned", reason="pinned"))
        for pid, position in rules.pins.items()
        if is_allowed(products.get(pid), rules)
    ]
    free = n - len(pins)
    ranked = apply_rules([i for i in items if i.product_id not in rules.pins], products, rules)
    category_of = {pid: product.category for pid, product in products.items()}
    categories = [category_of[item.product_id] for item in ranked]
    caps = _preferred_caps(products, rules)
    if ranked and (rules.diversity > 0 or rules.category_cap is not None or rules.category_bonus > 0):
        vectors = (
            index.vectors([item.product_id for item in ranked])[0]
            if index is not None and rules.diversity > 0
            else np.zeros((len(ranked), 1), dtype=np.float32)
        )
        scores = np.array([item.score for item in ranked])
        chosen = mmr_select(
            scores,
            vectors,
            n=free,
            diversity=rules.diversity,
            categories=categories,
            category_cap=rules.category_cap,
            keep_top=rules.diversity_keep_top,
            threshold=rules.diversity_threshold,
            category_bonus=rules.category_bonus,
            category_caps=caps,
        )
        page = [ranked[i] for i in chosen]
    else:
        page = ranked[:free]
    if len(page) < free:
        # The page is short: only now are the fallback and the relaxations worth their cost (each step below is a
        # no-op on a full page, so skipping them there changes nothing).
        if callable(fallback):
            fallback = fallback()
            category_of = {pid: product.category for pid, product in products.items()}
            caps = _preferred_caps(products, rules)  # a preferred category may show up in the fallback alone
        extra = apply_rules([i for i in fallback if i.product_id not in rules.pins], products, rules)
        page = _fill(
            page, [extra], n=free, category_of=category_of, category_cap=rules.category_cap, category_caps=caps
        )
        # Still short: relax the cap rather than show a half-empty page.
        page = _fill(page, [ranked, extra], n=free, category_of=category_of, category_cap=None)
        unpinned = [i for i in [*items, *fallback] if i.product_id not in soft.pins]
        if len(page) < free and soft.rested:
            # Fatigue is a preference, not a rule: rested items come back (best first) before a page goes short.
            tired = [i for i in unpinned if i.product_id in soft.rested]
            page = _fill(page, [apply_rules(tired, products, soft)], n=free, category_of=category_of, category_cap=None)
        # Then substitutes of a recent purchase, and last of all what lies outside the stated price range: the
        # shopper's own statement holds longest (the caller sees it was relaxed: an item outside the range is
        # shown).
        previous = soft
        for relaxed in (
            replace(soft, avoid_categories=frozenset()),
            replace(soft, avoid_categories=frozenset(), stated_price_min=None, stated_price_max=None),
        ):
            if len(page) >= free:
                break
            if relaxed != previous:
                pool = apply_rules(unpinned, products, relaxed)
                page = _fill(page, [pool], n=free, category_of=category_of, category_cap=None)
            previous = relaxed
    return place_pins(page, pins, n=n)


def _preferred_caps(products: Mapping[ProductId, Product], rules: RerankRules) -> dict[str, int] | None:
    """Per leaf category caps where the shopper's stated categories and brands are (`prefer_cap` instead of
    `category_cap`): a cold list may hold its share of what they said they like."""
    if rules.prefer_cap is None or not (rules.prefer_categories or rules.prefer_brands):
        return None
    return {p.category: rules.prefer_cap for p in products.values() if p.category and is_preferred(p, rules)}
