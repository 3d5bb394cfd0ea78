"""Candidate sources: cheap, recall-oriented proposals that the ranker then orders.

Every source takes the stores by keyword and its own options after them, so serving and evaluation build them the
same way:

    >>> sources = [
    ...     EmbeddingSource(products=products, index=index, embedder=embedder),
    ...     TrendingSource(products=products, index=index),
    ...     ComplementSource(products=products, index=index, max_anchors=3),
    ...     SimilarToAnchorSource(products=products, index=index),
    ... ]
    >>> sources[0].candidates(ctx, k=200)   # [Candidate(product_id=..., source="embedding", score=0.83), ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from dragonrec.recommender.core.base import CandidateSource
from dragonrec.recommender.core.embedder import Embedder
from dragonrec.recommender.core.profile import DEFAULT_PROFILE_CONFIG, ProfileConfig, context_profile
from dragonrec.recommender.core.rerank import BOUGHT_EVENT_TYPES, bought_ids
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.core.types import Candidate, Context, Product, ProductId

# Leaf categories a learned product pair must fall in to count as a complement: the anchor category's best ten
# (category pairs are learned from far more sessions than product pairs; a demo category has 2-7 true partners).
PLAUSIBLE_CATEGORIES = 10
# How much a pair's own evidence counts next to its category's rank (1 for the best category, 1/2, 1/3, ...): within
# a category the strongest pair leads; across categories at most +30%, so the first three ranks keep their order.
EVIDENCE_WEIGHT = 0.3


class StoreSource(CandidateSource):
    """Base for sources reading the product store and vector index."""

    reads_shopper = False  # a function of the history, statements and catalog only

    def __init__(self, *, products: ProductStore, index: VectorIndex, embedder: Embedder | None = None) -> None:
        self.products = products
        self.index = index
        self.embedder = embedder

    def _bought_excludes(self, ctx: Context) -> set[ProductId]:
        """ctx.exclude_ids plus bought products that are not consumable (nobody needs a second identical kettle)."""
        bought = bought_ids(ctx.history)
        durable = {pid for pid, p in self.products.get_many(bought).items() if not p.consumable}
        return set(ctx.exclude_ids) | durable

    def _candidates(
        self,
        rows: Iterable[tuple[ProductId, float]],
        *,
        exclude: set[ProductId],
        k: int,
        anchors: Mapping[ProductId, ProductId] | None = None,
    ) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[ProductId] = set()
        for product_id, score in rows:
            if product_id in exclude or product_id in seen:
                continue
            anchor = anchors.get(product_id) if anchors else None
            out.append(Candidate(product_id=product_id, source=self.name, score=float(score), anchor=anchor))
            seen.add(product_id)
            if len(out) >= k:
                break
        return out


def recent_anchors(ctx: Context, limit: int) -> list[ProductId]:
    """The scenario's anchors, or else the most recent distinct history products (newest first), what was bought
    before what was only looked at: after a purchase, home leans to what goes with it."""
    if ctx.anchor_ids:
        return list(dict.fromkeys(ctx.anchor_ids))[:limit]
    newest_first = list(reversed(ctx.history))
    bought = [e.product_id for e in newest_first if e.event_type in BOUGHT_EVENT_TYPES]
    recent = list(dict.fromkeys([*bought, *(e.product_id for e in newest_first)]))
    return recent[:limit]


class EmbeddingSource(StoreSource):
    """Nearest products to the user's profile vector (history + explicit preferences while history is thin)."""

    name = "embedding"

    def __init__(
        self,
        *,
        products: ProductStore,
        index: VectorIndex,
        embedder: Embedder | None = None,
        profile_config: ProfileConfig = DEFAULT_PROFILE_CONFIG,
        restrict_to_preferences: bool = False,
    ) -> None:
        super().__init__(products=products, index=index, embedder=embedder)
        self.profile_config = profile_config
        self.restrict_to_preferences = restrict_to_preferences

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        query = context_profile(ctx, index=self.index, embedder=self.embedder, config=self.profile_config)
        if query is None or k <= 0:
            return []
        exclude = self._bought_excludes(ctx)
        categories = ctx.preferences.categories if self.restrict_to_preferences else ()
        rows = self.index.search(query, k=k, exclude=exclude, categories=categories)
        return self._candidates(rows, exclude=exclude, k=k)


class TrendingSource(StoreSource):
    """What is popular now, restricted to the preferred categories when the user stated some."""

    name = "trending"

    def __init__(
        self,
        *,
        products: ProductStore,
        index: VectorIndex,
        embedder: Embedder | None = None,
        use_preferences: bool = True,
    ) -> None:
        super().__init__(products=products, index=index, embedder=embedder)
        self.use_preferences = use_preferences

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        if k <= 0:
            return []
        categories = ctx.preferences.categories if self.use_preferences else ()
        # Over-fetch by the exclusions so that filtering them out still leaves k.
        rows = self.products.trending(limit=k + len(ctx.exclude_ids), categories=categories)
        return self._candidates(rows, exclude=set(ctx.exclude_ids), k=k)


class ComplementSource(StoreSource):
    """What goes with the anchors (or the last history items): learned item complements first, then the
    nearest products (to the anchor) in the complementary leaf categories.

    The category step makes a product reachable from its first day, before it has any co-purchases: a new phone
    case is near the phone's vector and sits in a category that goes with phones.
    """

    name = "complements"

    def __init__(
        self,
        *,
        products: ProductStore,
        index: VectorIndex,
        embedder: Embedder | None = None,
        max_anchors: int = 3,  # older items describe yesterday's need, not today's basket
        per_anchor: int = 20,
        categories_per_anchor: int = 3,
        per_category: int = 5,
        anchor_decay: float = 0.5,  # each older anchor's complements count half as much as the next newer one's
    ) -> None:
        super().__init__(products=products, index=index, embedder=embedder)
        self.max_anchors = max_anchors
        self.per_anchor = per_anchor
        self.categories_per_anchor = categories_per_anchor
        self.per_category = per_category
        self.anchor_decay = anchor_decay

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        """Learned pairs (best first), then the category rows, each scored by how strongly its category goes with
        its anchor's (1 / (1 + rank) in the anchor category's complement list) times 1 + EVIDENCE_WEIGHT x the
        pair's own evidence (PMI relative to the anchor's best pair, or cosine to the anchor): an ordering of its
        own for "goes well with", where the page's ranker would favour whatever looks most like the anchor."""
        anchors = recent_anchors(ctx, self.max_anchors)
        if not anchors or k <= 0:
            return []
        exclude = set(ctx.exclude_ids) | set(anchors)
        anchor_products = self.products.get_many(anchors)
        ranks = {anchor: self._category_ranks(anchor_products.get(anchor)) for anchor in anchors}
        learned: dict[ProductId, float] = {}
        scores: dict[ProductId, float] = {}
        found_from: dict[ProductId, ProductId] = {}

        def note(product_id: ProductId, category: str, evidence: float, anchor: ProductId, weight: float) -> None:
            if ranks[anchor]:
                rank = ranks[anchor].get(category)
                strength = 1.0 / (1.0 + rank) if rank is not None else 0.0
            else:  # no category evidence yet (a new shop): the pairs' own evidence orders them
                strength = 1.0
            value = weight * strength * (1.0 + EVIDENCE_WEIGHT * evidence)
            if value > scores.get(product_id, -np.inf):
                scores[product_id] = value
                found_from[product_id] = anchor

        for position, anchor in enumerate(anchors):
            weight = self.anchor_decay**position
            pairs = self.products.complements(anchor, limit=self.per_anchor)
            pair_products = self.products.get_many(pid for pid, _ in pairs)
            if ranks[anchor]:
                # Co-purchase evidence meets category evidence: a pair counts only in a category that goes with the
                # anchor's. One odd session pair (a car charger after a monitor) is noise that the category level,
                # with far more data (or a merchant's entry), already rules out.
                pairs = [
                    (pid, s)
                    for pid, s in pairs
                    if pid in pair_products and pair_products[pid].category in ranks[anchor]
                ]
            top = max((s for _, s in pairs), default=0.0)
            for product_id, score in pairs:
                learned[product_id] = max(learned.get(product_id, 0.0), score * weight)
                category = pair_products[product_id].category if product_id in pair_products else ""
                note(product_id, category, score / top if top > 0 else 0.0, anchor, weight)
        rows = [pid for pid, _ in sorted(learned.items(), key=lambda item: -item[1])]
        for product_id, cosine, anchor, category in self._category_rows(anchors, anchor_products, exclude):
            note(product_id, category, max(0.0, cosine), anchor, self.anchor_decay ** anchors.index(anchor))
            rows.append(product_id)
        return self._candidates(((pid, scores[pid]) for pid in rows), exclude=exclude, k=k, anchors=found_from)

    def _category_ranks(self, product: Product | None) -> dict[str, int]:
        """The leaf categories that go with a product's (merchant-entered first, then learned), by rank; empty = no
        evidence yet."""
        if product is None or not product.category:
            return {}
        found = self.products.category_complements(product.category, limit=PLAUSIBLE_CATEGORIES)
        return {category: rank for rank, (category, _) in enumerate(found)}

    def _category_rows(
        self, anchors: list[ProductId], anchor_products: Mapping[ProductId, Product], exclude: set[ProductId]
    ) -> list[tuple[ProductId, float, ProductId, str]]:
        vectors, found = self.index.vectors(anchors)
        rows: list[tuple[ProductId, float, ProductId, str]] = []
        # a fixed budget of category look-ups per request: one anchor (a product's "goes well with") covers up to
        # max_anchors times as many of its categories as each of three anchors does
        per_anchor = self.categories_per_anchor * max(1, self.max_anchors // len(anchors))
        for row, anchor in enumerate(anchors):
            product = anchor_products.get(anchor)
            if product is None or not product.category:
                continue
            for category, _ in self.products.category_complements(product.category, limit=per_anchor):
                if found[row]:
                    hits = self.index.search(vectors[row], k=self.per_category, exclude=exclude, categories=[category])
                else:
                    hits = self.products.trending(limit=self.per_category + len(exclude), categories=[category])
                rows += [(pid, score, anchor, category) for pid, score in hits]
        return rows


class SimilarToAnchorSource(StoreSource):
    """Nearest neighbours of the anchor products ("more like this" on a product page), merged by best similarity."""

    name = "similar"

    def __init__(
        self,
        *,
        products: ProductStore,
        index: VectorIndex,
        embedder: Embedder | None = None,
        max_anchors: int = 5,
    ) -> None:
        super().__init__(products=products, index=index, embedder=embedder)
        self.max_anchors = max_anchors

    def candidates(self, ctx: Context, *, k: int) -> list[Candidate]:
        anchors = list(dict.fromkeys(ctx.anchor_ids))[: self.max_anchors]
        if not anchors or k <= 0:
            return []
        exclude = set(ctx.exclude_ids) | set(anchors)
        vectors, found = self.index.vectors(anchors)
        best: dict[ProductId, float] = {}
        found_from: dict[ProductId, ProductId] = {}
        for row in np.flatnonzero(found):
            for product_id, score in self.index.search(vectors[row], k=k, exclude=exclude):
                if score > best.get(product_id, -np.inf):
                    best[product_id] = score
                    found_from[product_id] = anchors[row]
        rows = sorted(best.items(), key=lambda item: -item[1])
        return self._candidates(rows, exclude=exclude, k=k, anchors=found_from)
