"""The recommendation pipeline: candidate sources -> ranker -> re-rank (rules, diversity) -> trending fallback.

Serving and the offline evaluation both call `Pipeline.recommend`; only the stores differ.

    >>> pipeline = Pipeline.default(products=products, index=index, embedder=embedder)   # or Pipeline(...) below
    >>> pipeline.recommend(Context(scenario="product", anchor_ids=[42], history=events, n=10))
    Recommendation(items=[ScoredItem(product_id=7, score=0.91, source="similar"), ...], ranker="embedding")

Cold start is a blend, not a switch: the final score is alpha * ranker + (1 - alpha) * trending prior, where alpha
grows with what we know (0 with nothing, `preference_alpha` with stated preferences only, then
`alpha_by_events[n]` for the first events, 1 once the history is long enough or the scenario has anchors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dragonrec.recommender.core.base import CandidateSource, Ranker
from dragonrec.recommender.core.candidates import (
    ComplementSource,
    EmbeddingSource,
    SimilarToAnchorSource,
    TrendingSource,
)
from dragonrec.recommender.core.embedder import Embedder
from dragonrec.recommender.core.exploration import ExplorationConfig, explore_page, pool_size
from dragonrec.recommender.core.rankers import EmbeddingRanker
from dragonrec.recommender.core.rerank import RerankRules, bought_ids, rerank
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.core.types import Candidate, Context, ProductId, Recommendation, ScoredItem

TRENDING = "trending"


def _default_sources() -> dict[str, tuple[tuple[str, int], ...]]:
    # Budgets: a few hundred candidates keep ranking + MMR under ~5 ms per request in Python, yet hold far more
    # than a page even after stock, purchase and fatigue filters.
    return {
        "home": (("embedding", 200), ("complements", 50), (TRENDING, 100)),
        "product": (("similar", 100), ("complements", 60), ("embedding", 50), (TRENDING, 30)),
        "cart": (("complements", 100), ("similar", 40), ("embedding", 40), (TRENDING, 30)),
    }


def _default_source_bonus() -> dict[str, dict[str, float]]:
    # Added to the [0, 1]-scaled score. Cart: complements first (a second charger is not what a cart needs).
    # Product page: a nudge, since similar items score higher cosines than complements by construction.
    return {"cart": {"complements": 1.0}, "product": {"complements": 0.15}}


@dataclass(frozen=True)
class PipelineConfig:
    """Everything tunable about the pipeline (serving reads it from the RECOMMENDER settings)."""

    sources: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=_default_sources)
    source_bonus: Mapping[str, Mapping[str, float]] = field(default_factory=_default_source_bonus)
    diversity: float = 0.2  # MMR trade-off; ~0.2 removes near-duplicates while barely moving accuracy
    category_cap: int | None = 3  # at most 3 of 10 from one leaf category once we know the user
    cold_category_cap: int = 2  # no history: spread trending over >= 5 categories to learn what the user likes
    alpha_by_events: tuple[float, ...] = (0.0, 0.5, 0.75)  # personal weight with 0, 1, 2 events; 1.0 beyond
    preference_alpha: float = 0.5  # stated preferences only: half preference-text retrieval, half trending
    fallback_factor: int = 5  # trending fetched for the fallback: n * factor (+ exclusions), survives filters


def default_sources(
    *, products: ProductStore, index: VectorIndex, embedder: Embedder | None = None
) -> list[CandidateSource]:
    kwargs = dict(products=products, index=index, embedder=embedder)
    return [
        EmbeddingSource(**kwargs),
        TrendingSource(**kwargs),
        ComplementSource(**kwargs),
        SimilarToAnchorSource(**kwargs),
    ]


class Pipeline:
    def __init__(
        self,
        products: ProductStore,
        index: VectorIndex,
        sources: Sequence[CandidateSource] | Mapping[str, CandidateSource],
        ranker: Ranker,
        config: PipelineConfig | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.products = products
        self.index = index
        self.sources = dict(sources) if isinstance(sources, Mapping) else {s.name: s for s in sources}
        self.ranker = ranker
        self.config = config or PipelineConfig()
        self.embedder = embedder

    @classmethod
    def default(
        cls,
        *,
        products: ProductStore,
        index: VectorIndex,
        embedder: Embedder | None = None,
        ranker: Ranker | None = None,
        config: PipelineConfig | None = None,
    ) -> Pipeline:
        """All four built-in sources and the embedding ranker unless another ranker is given."""
        sources = default_sources(products=products, index=index, embedder=embedder)
        ranker = ranker or EmbeddingRanker(products=products, index=index, embedder=embedder)
        return cls(products, index, sources, ranker, config, embedder)

    def recommend(self, ctx: Context, rules: RerankRules | None = None) -> Recommendation:
        """Up to ctx.n items (exactly n whenever the catalog has n allowed products). `rules` carries the
        business side (pins, boosts, blocks, fatigue, restrictions); ctx's exclusions and purchases are added."""
        candidates, trend_prior = self.candidates(ctx)
        alpha = self.personal_weight(ctx)
        scored = self.score(ctx, candidates, trend_prior, alpha)
        rules = self.rules(ctx, rules or RerankRules())
        fallback = self.fallback(ctx, rules)
        wanted = [i.product_id for i in scored] + [i.product_id for i in fallback] + list(rules.pins)
        products = self.products.get_many(dict.fromkeys(wanted))
        items = rerank(scored, products=products, index=self.index, rules=rules, n=ctx.n, fallback=fallback)
        scored_ids = {item.product_id for item in scored}
        personalised = alpha > 0 and any(item.product_id in scored_ids for item in items)
        return Recommendation(items=items, ranker=self.ranker.label if personalised else TRENDING)

    def recommend_explored(
        self, ctx: Context, rules: RerankRules | None = None, *, exploration: ExplorationConfig, seed: int
    ) -> Recommendation:
        """`recommend`, then the exploration step of the re-rank: the page is drawn from a slightly longer ranked
        list (core.exploration), each item carrying its propensity. Serving and the simulator both call this, with
        the request id as the seed, so a served list can be reproduced exactly."""
        extra = pool_size(exploration, ctx.n)
        if not extra:
            return self.recommend(ctx, rules)
        longer = self.recommend(replace(ctx, n=ctx.n + extra), rules)
        items = explore_page(longer.items, n=ctx.n, config=exploration, seed=seed)
        return replace(longer, items=items)

    def candidates(self, ctx: Context) -> tuple[list[Candidate], dict[ProductId, float]]:
        """The scenario's sources in order, deduplicated, plus the trending scores seen.

        A product proposed by several sources keeps the first one, unless a later one earns a higher scenario
        bonus: a phone case that is both "similar" and a learned complement on a phone page is a complement.
        """
        bonus = self.config.source_bonus.get(ctx.scenario, {})
        merged: dict[ProductId, Candidate] = {}
        trend: dict[ProductId, float] = {}
        for name, k in self.config.sources.get(ctx.scenario, self.config.sources["home"]):
            source = self.sources.get(name)
            if source is None:
                continue
            for candidate in source.candidates(ctx, k=k):
                kept = merged.setdefault(candidate.product_id, candidate)
                if bonus.get(candidate.source, 0.0) > bonus.get(kept.source, 0.0):
                    merged[candidate.product_id] = candidate
                if name == TRENDING:
                    trend[candidate.product_id] = candidate.score
        return list(merged.values()), trend

    def personal_weight(self, ctx: Context) -> float:
        """alpha: how much the ranker (vs trending) decides, from what we know about this request."""
        if ctx.anchor_ids:
            return 1.0
        events = len(ctx.history)
        if events == 0:
            return 0.0 if ctx.preferences.is_empty else self.config.preference_alpha
        schedule = self.config.alpha_by_events
        return schedule[events] if events < len(schedule) else 1.0

    def score(
        self, ctx: Context, candidates: list[Candidate], trend_prior: Mapping[ProductId, float], alpha: float
    ) -> list[ScoredItem]:
        """alpha * ranker + (1 - alpha) * trending prior + scenario bonus per source; both parts in [0, 1]."""
        if not candidates:
            return []
        ids = [c.product_id for c in candidates]
        ranker_part = _unit_range(self.ranker.score(ctx, ids)) if alpha > 0 else np.zeros(len(ids))
        prior = _unit_range(np.array([trend_prior.get(i, 0.0) for i in ids])) if alpha < 1 else np.zeros(len(ids))
        bonus = self.config.source_bonus.get(ctx.scenario, {})
        final = alpha * ranker_part + (1 - alpha) * prior + np.array([bonus.get(c.source, 0.0) for c in candidates])
        order = np.argsort(-final, kind="stable")
        return [ScoredItem(product_id=ids[i], score=float(final[i]), source=candidates[i].source) for i in order]

    def rules(self, ctx: Context, rules: RerankRules) -> RerankRules:
        """Caller's business rules + this request's exclusions, purchases, anchors and the configured diversity."""
        cold = not ctx.history and not ctx.anchor_ids
        return replace(
            rules,
            diversity=self.config.diversity,
            category_cap=self.config.cold_category_cap if cold else self.config.category_cap,
            exclude=rules.exclude | frozenset(ctx.exclude_ids) | frozenset(ctx.anchor_ids),
            bought=rules.bought | bought_ids(ctx.history),
        )

    def fallback(self, ctx: Context, rules: RerankRules) -> list[ScoredItem]:
        """Trending items to fill the page when candidates run out (whole catalog, not the preference subset)."""
        limit = ctx.n * self.config.fallback_factor + len(rules.exclude) + len(rules.rested) + len(rules.bought)
        return [ScoredItem(product_id=pid, score=s, source=TRENDING) for pid, s in self.products.trending(limit=limit)]


def _unit_range(values: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1]; constant input maps to zeros (it carries no preference)."""
    values = np.asarray(values, dtype=np.float64)
    spread = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / spread if spread > 0 else np.zeros(len(values))
