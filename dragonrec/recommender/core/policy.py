"""The serving policy: one object that decides, for one list, its sources, ranker, filters and re-rank.

Built from the scenario, the shopper's state (history, purchases, stated preferences), the experiment arm's overrides
and the settings (`PipelineConfig`). Serving (`services.recommendations`), the evaluation harness's `served` ranker
and the simulator all go through `Pipeline.recommend`, which builds it with `serving_policy` unless given one, so an
arm's overrides or a purchase change every scenario and every offline figure the same way.

    >>> policy = serving_policy(ctx, config, products=store, overrides={"category_cap": 2}, ranker="teacher")
    >>> pipeline.recommend(ctx, rules, policy=policy)

What it decides and why:
- sources and their bonus per scenario (`SCENARIO_SOURCES`, `SOURCE_BONUS`); a page's own lists (`similar`,
  `complements`) use one source each, are ordered by that source (cosine; category strength then co-purchase
  evidence) and never filled with trending items (a short plausible list beats a padded one);
- after a purchase (PURCHASE events within `SUBSTITUTE_WINDOW_DAYS`, per category `SUBSTITUTE_WINDOWS`), home and
  cart leave out substitutes (the purchase's leaf category, unless consumable or in `REPEAT_PURCHASE_CATEGORIES`) and
  lean to complements (`PURCHASE_COMPLEMENT_BONUS`, anchored on what was bought) under the product page's category cap;
  a review (RATING, the public datasets' purchase signal) has no purchase date and changes nothing here;
- a stated price range is a hard filter, relaxed only when too few items fit (`Recommendation.relaxed`); stated
  categories and brands gain `PREFERENCE_BONUS`, and on a cold list each stated category may hold its share of
  `PREFERENCE_COLD_SHARE` of the page (so most of it comes from them);
- the arm's `diversity`, `category_cap`, `category_bonus` override the scenario's re-rank on every scenario;
- "goes well with" combines three kinds of evidence: the category level (which leaf categories go with the
  product's: learned from sessions, or a merchant's pair, which comes first), the co-purchase pairs within them
  (core.candidates.ComplementSource orders by both), and the teacher's cached judgment of the product's list
  (judged from Celery per product, never on the request path), added with `COMPLEMENTS_TEACHER_WEIGHT`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Protocol

import numpy as np

from dragonrec.categories import category_within
from dragonrec.recommender.core.rerank import BOUGHT_EVENT_TYPES, RerankConfig, RerankRules
from dragonrec.recommender.core.stores import ProductStore
from dragonrec.recommender.core.types import PURCHASE, Context, HistoryEvent, Product, ProductId


class PipelineConfig(Protocol):
    """The settings the policy reads (core.pipeline.PipelineConfig)."""

    @property
    def sources(self) -> Mapping[str, tuple[tuple[str, int], ...]]: ...
    @property
    def source_bonus(self) -> Mapping[str, Mapping[str, float]]: ...
    @property
    def alpha_by_events(self) -> tuple[float, ...]: ...
    @property
    def preference_alpha(self) -> float: ...
    @property
    def substitute_window_days(self) -> float: ...
    @property
    def substitute_windows(self) -> Mapping[str, float]: ...
    @property
    def repeat_purchase_categories(self) -> tuple[str, ...]: ...
    @property
    def purchase_complement_bonus(self) -> float: ...
    @property
    def preference_bonus(self) -> float: ...
    @property
    def preference_cold_share(self) -> float: ...
    def rerank_for(self, scenario: str) -> RerankConfig: ...


# The lists of a product page besides "for you": answered like recommendations, recorded like them.
PAGE_LISTS = ("similar", "complements")
# Where a recent purchase's substitutes are left out: the product page shows what the shopper is looking at.
SUBSTITUTE_SCENARIOS = frozenset({"home", "cart"})
# Arm overrides of the re-rank (Experiment arms' `overrides`), applied on top of the scenario's settings.
RERANK_OVERRIDES = ("diversity", "category_cap", "category_bonus")
DAY_S = 86400.0
COMPLEMENTS_CATEGORY_CAP = 2  # "goes well with" (n=8 on a product page): at least four kinds of accessory
# The teacher's judgment (0-10, scaled to [0, 1]) added to "goes well with"'s own order (also [0, 1]: category rank,
# then pair evidence): half its range, so a 10 lifts an item above the next category or two (a keyboard the teacher
# calls essential passes a merely learned cable), but one judgment cannot sink the best category below the weakest.
COMPLEMENTS_TEACHER_WEIGHT = 0.5
TEACHER_SCALE = 10.0  # teacher scores are 0-10 (teacher.protocol)

# Ranker names the policy decides between; serving maps each to a Ranker (services.recommendations.ranker_for).
TEACHER = "teacher"  # the cached teacher judgments (the local ranker orders what they did not judge)
LOCAL = "local"  # the active student, else embedding similarity
NONE = "none"  # an arm that serves nothing (the shop shows its own list)


def choose_ranker(*, arm_policy: str | None, teacher_available: bool) -> str:
    """Which ranker orders a list: an arm's policy when the shopper is in an A/B test, else the teacher's cached
    judgments when there are some, else the local ranker. `student:active` is the local ranker on purpose (the arm
    that measures the student alone, without the teacher)."""
    if arm_policy in (None, TEACHER):
        return TEACHER if teacher_available else LOCAL
    if arm_policy == "student:active":
        return LOCAL
    return arm_policy  # "embedding", "trending", "student:<version>", "none"


@dataclass(frozen=True)
class ServingPolicy:
    """What one list is made of; see the module docstring. `as_dict()` is recorded with the served list."""

    scenario: str
    ranker: str = LOCAL
    sources: tuple[tuple[str, int], ...] = ()
    source_bonus: Mapping[str, float] = field(default_factory=dict)
    rerank: RerankConfig | None = None
    personal_weight: float = 1.0  # alpha: ranker vs trending prior
    order_by_source: bool = False  # the source's own score orders the list (similar: cosine to the product)
    fill: bool = True  # pad a short page with trending items
    price_min: float | None = None  # stated
    price_max: float | None = None
    prefer_categories: tuple[str, ...] = ()
    prefer_brands: tuple[str, ...] = ()
    prefer_bonus: float = 0.0
    prefer_cap: int | None = None
    avoid_categories: frozenset[str] = frozenset()
    overrides: Mapping[str, Any] = field(default_factory=dict)
    teacher_weight: float = 0.0  # a list ordered by its source that the teacher's cached judgment weighs into

    def rules(self, ctx: Context, rules: RerankRules, *, cold_category_cap: int) -> RerankRules:
        """The caller's business rules plus this request's exclusions, purchases, statements and re-rank."""
        assert self.rerank is not None
        cold = not ctx.history and not ctx.anchor_ids
        cap = self.rerank.category_cap
        if cold and "category_cap" not in self.overrides:
            cap = cold_category_cap
        return replace(
            rules,
            diversity=self.rerank.diversity,
            diversity_keep_top=self.rerank.keep_top,
            diversity_threshold=self.rerank.threshold,
            category_bonus=self.rerank.category_bonus,
            category_cap=cap,
            exclude=rules.exclude | frozenset(ctx.exclude_ids) | frozenset(ctx.anchor_ids),
            bought=rules.bought | frozenset(e.product_id for e in ctx.history if e.event_type in BOUGHT_EVENT_TYPES),
            stated_price_min=self.price_min,
            stated_price_max=self.price_max,
            prefer_categories=self.prefer_categories,
            prefer_brands=self.prefer_brands,
            prefer_bonus=self.prefer_bonus,
            prefer_cap=self.prefer_cap,
            avoid_categories=rules.avoid_categories | self.avoid_categories,
        )

    def as_dict(self) -> dict[str, Any]:
        # field by field, not dataclasses.asdict: its recursive deep copy cost a fifth of a millisecond per list
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["rerank"] = asdict(self.rerank) if self.rerank is not None else None
        out["avoid_categories"] = sorted(self.avoid_categories)
        out["source_bonus"] = dict(self.source_bonus)
        out["overrides"] = copy.deepcopy(dict(self.overrides))
        return out


def serving_policy(
    ctx: Context,
    config: PipelineConfig,
    *,
    products: ProductStore,
    ranker: str = LOCAL,
    overrides: Mapping[str, Any] | None = None,
) -> ServingPolicy:
    """The policy of one list (see the module docstring)."""
    overrides = dict(overrides or {})
    scenario = ctx.scenario
    prefs = ctx.preferences
    if scenario in PAGE_LISTS:
        # a product page's own lists: one source, budget enough to survive exclusions and the category cap
        budget = max(100, 5 * ctx.n)
        judged = scenario == "complements" and ranker == TEACHER
        return ServingPolicy(
            scenario=scenario,
            ranker="similarity" if scenario == "similar" else TEACHER if judged else "complements",
            sources=((scenario, budget),),
            source_bonus={},
            rerank=_with_overrides(_page_list_rerank(scenario, config), overrides),
            personal_weight=1.0,
            # similar: cosine to the product; complements: category strength, then the pair's own evidence
            order_by_source=True,
            fill=False,
            price_min=prefs.price_min,
            price_max=prefs.price_max,
            overrides=overrides,
            teacher_weight=COMPLEMENTS_TEACHER_WEIGHT if judged else 0.0,
        )
    sources = config.sources.get(scenario, config.sources["home"])
    bonus = dict(config.source_bonus.get(scenario, {}))
    rerank = config.rerank_for(scenario)
    recent = scenario in SUBSTITUTE_SCENARIOS and _bought_recently(ctx, config)
    avoid = substitute_categories(ctx.history, products=products, config=config, now=ctx.now) if recent else frozenset()
    if recent:
        # After a purchase: what goes with it, spread like a product page's list (at most its cap per category).
        bonus["complements"] = max(bonus.get("complements", 0.0), config.purchase_complement_bonus)
        product_cap = config.rerank_for("product").category_cap
        if product_cap is not None and (rerank.category_cap is None or rerank.category_cap > product_cap):
            rerank = replace(rerank, category_cap=product_cap)
    cold = not ctx.history and not ctx.anchor_ids
    stated = len(prefs.categories) + len(prefs.brands)
    prefer_cap = math.ceil(ctx.n * config.preference_cold_share / stated) if cold and stated else None
    return ServingPolicy(
        scenario=scenario,
        ranker=ranker,
        sources=tuple(sources),
        source_bonus=bonus,
        rerank=_with_overrides(rerank, overrides),
        personal_weight=personal_weight(ctx, config),
        price_min=prefs.price_min,
        price_max=prefs.price_max,
        prefer_categories=tuple(prefs.categories),
        prefer_brands=tuple(prefs.brands),
        # cold: the statement is all we know, it leads; with history it still weighs in
        prefer_bonus=(1.0 if cold else config.preference_bonus) if (prefs.categories or prefs.brands) else 0.0,
        prefer_cap=prefer_cap,
        avoid_categories=avoid,
        overrides=overrides,
    )


def page_teacher_key(scenario: str, product_id: ProductId) -> tuple[str, str] | None:
    """Where the teacher's judgment of a product's "goes well with" list is cached: (key, signature) for
    `teacher_cache_key`, one per product, not per shopper (what goes with a monitor does not depend on who asks, and
    the judgments a shop pays for are bounded by its catalog, not by how many cookies a bot mints); None for lists
    the teacher does not judge per product."""
    return (f"complements:{product_id}", "complements") if scenario == "complements" else None


def with_teacher(
    source_part: np.ndarray, ids: list[ProductId], judged: Mapping[ProductId, float], weight: float
) -> np.ndarray:
    """A source-ordered list's scores plus `weight` x the teacher's judgment in [0, 1]; an item the teacher did not
    see (new since the judgment, or left unscored) gets the judged items' median, so it is neither lifted nor sunk."""
    if weight <= 0 or not judged:
        return source_part
    seen = [judged[i] / TEACHER_SCALE for i in ids if i in judged]
    neutral = float(np.median(seen)) if seen else 0.5
    teacher = np.array([judged[i] / TEACHER_SCALE if i in judged else neutral for i in ids])
    combined: np.ndarray = source_part + weight * np.clip(teacher, 0.0, 1.0)
    return combined


def _page_list_rerank(scenario: str, config: PipelineConfig) -> Any:
    """A product page's own lists take its re-rank; "goes well with" spreads wider (2 per category: a monitor's
    list holds input devices and desk accessories, not three cables), the cap relaxed when too few categories fit."""
    rerank = config.rerank_for("product")
    if scenario != "complements":
        return rerank
    cap = rerank.category_cap
    # no bonus for a new category: the source's order already ranks categories by how well they go with the
    # product, and a bonus would let the weakest (a learned, merchant-unconfirmed pair) jump the queue
    return replace(
        rerank,
        category_cap=COMPLEMENTS_CATEGORY_CAP if cap is None or cap > COMPLEMENTS_CATEGORY_CAP else cap,
        category_bonus=0.0,
    )


def _bought_recently(ctx: Context, config: PipelineConfig) -> bool:
    """A purchase within SUBSTITUTE_WINDOW_DAYS (consumables included: home still leans to what goes with them)."""
    now = time.time() if ctx.now is None else ctx.now
    horizon = float(config.substitute_window_days) * DAY_S
    return any(e.event_type == PURCHASE and now - e.timestamp <= horizon for e in ctx.history)


def personal_weight(ctx: Context, config: PipelineConfig) -> float:
    """alpha: how much the ranker (vs trending) decides, from what we know about this request."""
    if ctx.anchor_ids:
        return 1.0
    events = len(ctx.history)
    if events == 0:
        return 0.0 if ctx.preferences.is_empty else config.preference_alpha
    schedule = config.alpha_by_events
    return schedule[events] if events < len(schedule) else 1.0


def substitute_categories(
    history: list[HistoryEvent], *, products: ProductStore, config: PipelineConfig, now: float | None = None
) -> frozenset[str]:
    """Leaf categories (full paths) of the products bought within their category's window: what a shopper who just
    bought one does not need a second of. Consumables and repeat-purchase categories never count."""
    bought = {e.product_id: e.timestamp for e in history if e.event_type == PURCHASE}
    if not bought:
        return frozenset()
    now = time.time() if now is None else now
    found = products.get_many(bought)
    avoid = set()
    for product_id, when in bought.items():
        product = found.get(product_id)
        if product is None or not product.category or product.consumable:
            continue
        days = substitute_window_days(product, config)
        if days > 0 and now - when <= days * DAY_S:
            avoid.add(product.category)
    return frozenset(avoid)


def substitute_window_days(product: Product, config: PipelineConfig) -> float:
    """How long after a purchase its substitutes stay away: 0 for a repeat-purchase category, the longest matching
    SUBSTITUTE_WINDOWS entry (most specific path first), else SUBSTITUTE_WINDOW_DAYS."""
    if config.repeat_purchase_categories and category_within(product.category, config.repeat_purchase_categories):
        return 0.0
    for path in sorted(config.substitute_windows, key=len, reverse=True):
        if category_within(product.category, [path]):
            return float(config.substitute_windows[path])
    return float(config.substitute_window_days)


def _with_overrides(rerank: RerankConfig, overrides: Mapping[str, Any]) -> RerankConfig:
    """An arm's re-rank overrides on top of a scenario's settings (None in `category_cap` = no cap)."""
    changes: dict[str, Any] = {}
    if "diversity" in overrides:
        changes["diversity"] = float(overrides["diversity"])
    if "category_cap" in overrides:
        cap = overrides["category_cap"]
        changes["category_cap"] = None if cap is None else int(cap)
    if "category_bonus" in overrides:
        changes["category_bonus"] = float(overrides["category_bonus"])
    return replace(rerank, **changes) if changes else rerank
