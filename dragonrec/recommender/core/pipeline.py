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

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from dragonrec.recommender.core.base import CandidateSource, Ranker
from dragonrec.recommender.core.caching import TtlMemo
from dragonrec.recommender.core.candidates import (
    ComplementSource,
    EmbeddingSource,
    SimilarToAnchorSource,
    TrendingSource,
)
from dragonrec.recommender.core.defaults import PIPELINE_DEFAULTS as PIPELINE_DEFAULTS
from dragonrec.recommender.core.embedder import Embedder
from dragonrec.recommender.core.exploration import ExplorationConfig, explore_page, pool_size
from dragonrec.recommender.core.policy import LOCAL, ServingPolicy, personal_weight, serving_policy, with_teacher
from dragonrec.recommender.core.rankers import EmbeddingRanker, SupportBlendRanker, TeacherScoresRanker
from dragonrec.recommender.core.rerank import RerankConfig, RerankRules, rerank, within_stated_price
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.core.types import Candidate, Context, ProductId, Recommendation, ScoredItem

TRENDING = "trending"


class ScoredMemo(TtlMemo[tuple[Any, ...], list[ScoredItem]]):
    """Scored candidates by everything they are computed from (see Pipeline.scored), and in `pages` the page
    re-ranked from them by everything the re-rank reads besides them: the request's full rules (fatigue, merchant
    rules, exclusions, statements). A returning shopper's rules rarely change between two lists a minute apart, and
    a new visitor's never do, so most hits skip the re-rank too (a third of a hit's CPU). `hits` / `misses` count
    lists: a page hit is a hit."""

    def __init__(self, *, ttl_s: float, max_entries: int) -> None:
        super().__init__(ttl_s=ttl_s, max_entries=max_entries)
        self.pages: TtlMemo[tuple[Any, ...], Recommendation] = TtlMemo(ttl_s=ttl_s, max_entries=max_entries)

    def count_hit(self) -> None:
        """A list served from `pages` (its scored candidates were not looked up)."""
        with self._lock:
            self.hits += 1

    def clear(self) -> None:
        super().clear()
        self.pages.clear()


def _sources(rows_by_scenario: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, tuple[tuple[str, int], ...]]:
    return {scenario: tuple((str(name), int(k)) for name, k in rows) for scenario, rows in rows_by_scenario.items()}


def _default_sources() -> dict[str, tuple[tuple[str, int], ...]]:
    return _sources(PIPELINE_DEFAULTS["SCENARIO_SOURCES"])


def _default_source_bonus() -> dict[str, dict[str, float]]:
    return {scenario: dict(bonus) for scenario, bonus in PIPELINE_DEFAULTS["SOURCE_BONUS"].items()}


def _scenario_rerank(settings: Mapping[str, Any]) -> dict[str, RerankConfig]:
    """SCENARIO_RERANK's overrides on top of the global re-rank keys, per scenario."""
    return {
        scenario: RerankConfig.from_settings({**settings, **overrides})
        for scenario, overrides in (settings.get("SCENARIO_RERANK") or {}).items()
    }


@dataclass(frozen=True)
class PipelineConfig:
    """Everything tunable about the pipeline; `pipeline_config_from_settings` builds it from RECOMMENDER settings."""

    sources: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=_default_sources)
    source_bonus: Mapping[str, Mapping[str, float]] = field(default_factory=_default_source_bonus)
    rerank: RerankConfig = field(default_factory=RerankConfig)  # every scenario's but those in `scenario_rerank`
    scenario_rerank: Mapping[str, RerankConfig] = field(default_factory=lambda: _scenario_rerank(PIPELINE_DEFAULTS))
    content_blend: float = PIPELINE_DEFAULTS["CONTENT_BLEND"]
    content_blend_pivot: float = PIPELINE_DEFAULTS["CONTENT_BLEND_PIVOT"]
    cold_category_cap: int = 2  # no history: spread trending over >= 5 categories to learn what the user likes
    alpha_by_events: tuple[float, ...] = (0.0, 0.5, 0.75)  # personal weight with 0, 1, 2 events; 1.0 beyond
    preference_alpha: float = 0.5  # stated preferences only: half preference-text retrieval, half trending
    fallback_factor: int = 5  # trending fetched for the fallback: n * factor (+ exclusions), survives filters
    substitute_window_days: float = PIPELINE_DEFAULTS["SUBSTITUTE_WINDOW_DAYS"]
    substitute_windows: Mapping[str, float] = field(
        default_factory=lambda: dict(PIPELINE_DEFAULTS["SUBSTITUTE_WINDOWS"])
    )
    repeat_purchase_categories: tuple[str, ...] = tuple(PIPELINE_DEFAULTS["REPEAT_PURCHASE_CATEGORIES"])
    purchase_complement_bonus: float = PIPELINE_DEFAULTS["PURCHASE_COMPLEMENT_BONUS"]
    preference_bonus: float = PIPELINE_DEFAULTS["PREFERENCE_BONUS"]
    preference_cold_share: float = PIPELINE_DEFAULTS["PREFERENCE_COLD_SHARE"]

    def rerank_for(self, scenario: str) -> RerankConfig:
        """The scenario's override, else the global re-rank settings."""
        return self.scenario_rerank.get(scenario, self.rerank)


def pipeline_config_from_settings(settings: Mapping[str, Any]) -> PipelineConfig:
    """The PipelineConfig that RECOMMENDER-shaped `settings` describe (missing keys: PIPELINE_DEFAULTS).

    Serving calls it with the host's RECOMMENDER settings, the evaluation harness with the defaults, so an offline
    figure of the `served` ranker describes what shoppers get."""
    s = {**PIPELINE_DEFAULTS, **{k: v for k, v in settings.items() if k in PIPELINE_DEFAULTS}}
    return PipelineConfig(
        sources=_sources(s["SCENARIO_SOURCES"]),
        source_bonus={scenario: {k: float(v) for k, v in b.items()} for scenario, b in s["SOURCE_BONUS"].items()},
        rerank=RerankConfig.from_settings(s),
        scenario_rerank=_scenario_rerank(s),
        content_blend=float(s["CONTENT_BLEND"]),
        content_blend_pivot=float(s["CONTENT_BLEND_PIVOT"]),
        substitute_window_days=float(s["SUBSTITUTE_WINDOW_DAYS"]),
        substitute_windows={str(k): float(v) for k, v in (s["SUBSTITUTE_WINDOWS"] or {}).items()},
        repeat_purchase_categories=tuple(s["REPEAT_PURCHASE_CATEGORIES"] or ()),
        purchase_complement_bonus=float(s["PURCHASE_COMPLEMENT_BONUS"]),
        preference_bonus=float(s["PREFERENCE_BONUS"]),
        preference_cold_share=float(s["PREFERENCE_COLD_SHARE"]),
    )


def source_classes(import_strings: Sequence[str | type]) -> list[type]:
    """CANDIDATE_SOURCES entries (dotted paths, or classes already imported) as classes."""
    classes = []
    for entry in import_strings:
        if isinstance(entry, str):
            module, _, name = entry.rpartition(".")
            entry = getattr(importlib.import_module(module), name)
        classes.append(entry)
    return classes


def build_pipeline(
    *,
    products: ProductStore,
    index: VectorIndex,
    embedder: Embedder | None,
    ranker: Ranker,
    config: PipelineConfig,
    sources: Sequence[str | type] = tuple(PIPELINE_DEFAULTS["CANDIDATE_SOURCES"]),
    retriever: Ranker | None = None,
    extra_sources: Sequence[CandidateSource] = (),
) -> Pipeline:
    """The pipeline that serves, from its parts: serving passes ORM stores, the active student and the RECOMMENDER
    settings; the harness's `served` ranker passes in-memory stores, a student trained on the train part and the
    default settings. The one place that decides how they combine:

    - the CANDIDATE_SOURCES classes, plus the retriever's own source when it has one (`candidate_source(products=)`:
      the student retrieves what shoppers like you went on to buy); `retriever` defaults to `ranker` (serving passes
      the active student while a teacher ranker orders the page);
    - a ranker with `item_support(ids)` (interactions behind each item's learned vector) gets content similarity
      blended in where that support is thin (`CONTENT_BLEND`)."""
    built = [cls(products=products, index=index, embedder=embedder) for cls in source_classes(sources)]
    own_source = getattr(retriever or ranker, "candidate_source", None)
    if own_source is not None:
        built.append(own_source(products=products))
    support = getattr(ranker, "item_support", None)
    if config.content_blend > 0 and support is not None:
        content = EmbeddingRanker(products=products, index=index, embedder=embedder)
        ranker = SupportBlendRanker(
            ranker, content, support=support, weight=config.content_blend, pivot=config.content_blend_pivot
        )
    return Pipeline(products, index, [*built, *extra_sources], ranker, config, embedder)


def default_sources(
    *, products: ProductStore, index: VectorIndex, embedder: Embedder | None = None
) -> list[CandidateSource]:
    kwargs: dict[str, Any] = dict(products=products, index=index, embedder=embedder)
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

    def policy(self, ctx: Context, *, ranker: str = LOCAL, overrides: Mapping[str, Any] | None = None) -> ServingPolicy:
        """This request's serving policy (core.policy) under this pipeline's settings."""
        return serving_policy(ctx, self.config, products=self.products, ranker=ranker, overrides=overrides)

    def recommend(
        self,
        ctx: Context,
        rules: RerankRules | None = None,
        *,
        policy: ServingPolicy | None = None,
        memo: ScoredMemo | None = None,
    ) -> Recommendation:
        """Up to ctx.n items (exactly n whenever the catalog has n allowed products and the policy fills). `rules`
        carries the business side (pins, boosts, blocks, fatigue, restrictions); the policy (built from ctx and the
        settings unless given) adds exclusions, purchases, statements and the re-rank. `memo` keeps the scored
        candidates for the same inputs (see `scored`)."""
        policy = policy or self.policy(ctx)
        rules = self.rules(ctx, rules or RerankRules(), policy)
        if memo is None or isinstance(self.ranker, TeacherScoresRanker):
            return self._page(ctx, rules, policy, self.scored(ctx, policy))
        # The page is a function of the scored candidates' inputs, the rules and the snapshot (the memo's owner):
        # a hit is the page a fresh re-rank gives. Callers get their own list (exploration draws from it).
        key = scored_key(ctx, policy, self)
        page_key = (key, rules_key(rules))
        built = False

        def page() -> Recommendation:
            nonlocal built
            built = True
            return self._page(ctx, rules, policy, self.scored(ctx, policy, memo, key))

        found = memo.pages.get(page_key, page)
        if not built:
            memo.count_hit()
        return replace(found, items=list(found.items))

    def _page(
        self, ctx: Context, rules: RerankRules, policy: ServingPolicy, scored: list[ScoredItem]
    ) -> Recommendation:
        """The re-rank of `scored` under the request's full `rules` (see `recommend`)."""
        products = self.products.get_many(dict.fromkeys([*(i.product_id for i in scored), *rules.pins]))

        def fallback() -> list[ScoredItem]:
            # called by the re-rank only when the candidates leave the page short
            items = self.fallback(ctx, rules) if policy.fill else []
            products.update(self.products.get_many([i.product_id for i in items if i.product_id not in products]))
            return items

        items = rerank(scored, products=products, index=self.index, rules=rules, n=ctx.n, fallback=fallback)
        scored_ids = {item.product_id for item in scored}
        personalised = policy.personal_weight > 0 and any(item.product_id in scored_ids for item in items)
        relaxed: tuple[str, ...] = ()
        if (rules.stated_price_min is not None or rules.stated_price_max is not None) and any(
            not within_stated_price(products[i.product_id], rules) for i in items if i.product_id in products
        ):
            relaxed = ("price",)
        label = policy.ranker if policy.order_by_source else self.ranker.label if personalised else TRENDING
        return Recommendation(items=items, ranker=label, relaxed=relaxed)

    def scored(
        self,
        ctx: Context,
        policy: ServingPolicy,
        memo: ScoredMemo | None = None,
        key: tuple[Any, ...] | None = None,
    ) -> list[ScoredItem]:
        """The policy's candidates scored by the ranker, best first: most of a list's cost, and independent of the
        rules (fatigue, merchant rules), which only the re-rank reads. With `memo`, kept for the same inputs within
        its time-to-live: the request (scenario, history with timestamps, anchors, statements, page size,
        exclusions, shopper), the serving policy (which already weighed the clock: purchase horizons), the
        pipeline's settings and sources, and the ranker's label (a student's names its version); a memo belongs to
        one catalog snapshot (products, vectors, aggregates). So a hit is what a fresh computation would give, and
        the re-rank with this request's rules, the exploration draw, its propensities and the recorded impression
        stay per request. A ranker built from per-request data (the teacher's cached judgments) is not memoised."""

        def compute() -> list[ScoredItem]:
            candidates, trend_prior = self.candidates(ctx, policy)
            return self.score(ctx, candidates, trend_prior, policy.personal_weight, policy)

        if memo is None or isinstance(self.ranker, TeacherScoresRanker):
            return compute()
        return memo.get(key or scored_key(ctx, policy, self), compute)

    def recommend_explored(
        self,
        ctx: Context,
        rules: RerankRules | None = None,
        *,
        exploration: ExplorationConfig,
        seed: int,
        policy: ServingPolicy | None = None,
        memo: ScoredMemo | None = None,
    ) -> Recommendation:
        """`recommend` (with `memo`: see `scored`), then the exploration step of the re-rank: the page is drawn
        from a slightly longer ranked list (core.exploration), each item carrying its propensity. Serving and the
        simulator both call this, with the request id as the seed, so a served list can be reproduced exactly."""
        if not exploration.enabled:
            return self.recommend(ctx, rules, policy=policy, memo=memo)
        # a page longer than the pool needs no extra items, but its tail is still drawn
        longer = self.recommend(replace(ctx, n=ctx.n + pool_size(exploration, ctx.n)), rules, policy=policy, memo=memo)
        items = explore_page(longer.items, n=ctx.n, config=exploration, seed=seed)
        return replace(longer, items=items)

    def candidates(
        self, ctx: Context, policy: ServingPolicy | None = None
    ) -> tuple[list[Candidate], dict[ProductId, float]]:
        """The policy's sources in order, deduplicated, plus the trending scores seen.

        A product proposed by several sources keeps the first one, unless a later one earns a higher scenario
        bonus: a phone case that is both "similar" and a learned complement on a phone page is a complement.
        """
        policy = policy or self.policy(ctx)
        bonus = policy.source_bonus
        merged: dict[ProductId, Candidate] = {}
        trend: dict[ProductId, float] = {}
        for name, k in policy.sources:
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
        return personal_weight(ctx, self.config)

    def score(
        self,
        ctx: Context,
        candidates: list[Candidate],
        trend_prior: Mapping[ProductId, float],
        alpha: float,
        policy: ServingPolicy | None = None,
    ) -> list[ScoredItem]:
        """alpha * ranker + (1 - alpha) * trending prior + scenario bonus per source; both parts in [0, 1]. A
        policy that orders by source (similar items) scores by the source's own score instead of the ranker."""
        if not candidates:
            return []
        policy = policy or self.policy(ctx)
        ids = [c.product_id for c in candidates]
        if policy.order_by_source:
            ranker_part = _unit_range(np.array([c.score for c in candidates]))
            if policy.teacher_weight > 0 and isinstance(self.ranker, TeacherScoresRanker):
                ranker_part = with_teacher(ranker_part, ids, self.ranker.scores, policy.teacher_weight)
        else:
            ranker_part = _unit_range(self.ranker.score(ctx, ids)) if alpha > 0 else np.zeros(len(ids))
        prior = _unit_range(np.array([trend_prior.get(i, 0.0) for i in ids])) if alpha < 1 else np.zeros(len(ids))
        bonus = policy.source_bonus
        final = alpha * ranker_part + (1 - alpha) * prior + np.array([bonus.get(c.source, 0.0) for c in candidates])
        order = np.argsort(-final, kind="stable")
        return [
            ScoredItem(
                product_id=ids[i], score=float(final[i]), source=candidates[i].source, anchor=candidates[i].anchor
            )
            for i in order
        ]

    def rules(self, ctx: Context, rules: RerankRules, policy: ServingPolicy | None = None) -> RerankRules:
        """Caller's business rules + this request's exclusions, purchases, anchors, statements and re-rank."""
        policy = policy or self.policy(ctx)
        return policy.rules(ctx, rules, cold_category_cap=self.config.cold_category_cap)

    def fallback(self, ctx: Context, rules: RerankRules) -> list[ScoredItem]:
        """Trending items to fill the page when candidates run out (whole catalog, not the preference subset)."""
        limit = ctx.n * self.config.fallback_factor + len(rules.exclude) + len(rules.rested) + len(rules.bought)
        if rules.stated_price_min is not None or rules.stated_price_max is not None or rules.avoid_categories:
            limit *= 4  # filters that drop a good part of the catalog: fetch more before relaxing them
        return [ScoredItem(product_id=pid, score=s, source=TRENDING) for pid, s in self.products.trending(limit=limit)]


def scored_key(ctx: Context, policy: ServingPolicy, pipeline: Pipeline) -> tuple[Any, ...]:
    """Everything `Pipeline.scored` reads besides the stores, as a hashable key."""
    return (
        ctx.scenario,
        tuple(ctx.history),  # frozen HistoryEvents: product, type and timestamp
        tuple(ctx.anchor_ids),
        ctx.preferences,
        ctx.n,
        frozenset(ctx.exclude_ids),
        # who the shopper is, only when some part reads it: new visitors' identical home pages share one entry
        ctx.user_key if _reads_shopper(pipeline, policy) else "",
        ctx.now,
        repr(policy),
        repr(pipeline.config),
        tuple(pipeline.sources),
        type(pipeline.ranker).__qualname__,
        pipeline.ranker.label,
    )


_RULE_FIELDS = tuple(f.name for f in fields(RerankRules))


def rules_key(rules: RerankRules) -> tuple[Any, ...]:
    """Every field of the re-rank rules, hashable (pins and boosts are mappings)."""
    values = (getattr(rules, name) for name in _RULE_FIELDS)
    return tuple(tuple(sorted(v.items())) if isinstance(v, Mapping) else v for v in values)


def _reads_shopper(pipeline: Pipeline, policy: ServingPolicy) -> bool:
    used = [pipeline.sources[name] for name, _ in policy.sources if name in pipeline.sources]
    return pipeline.ranker.reads_shopper or any(source.reads_shopper for source in used)


def _unit_range(values: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1]; constant input maps to zeros (it carries no preference). A ranker's -inf ("cannot
    score this one": a student without the index for a product added after training) scales to 0, not to NaN: a NaN
    score sorted anywhere in the page and reached the answer."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.where(values == np.inf, 1.0, 0.0)
    low, spread = values[finite].min(), values[finite].max() - values[finite].min()
    scaled = (values - low) / spread if spread > 0 else np.zeros(len(values))
    return np.where(finite, scaled, np.where(values == np.inf, 1.0, 0.0))
