"""Serving: turn an API request into a Context, run the shared Pipeline with the best available ranker, record
the impression, and ask the teacher (in Celery, never inline) to judge what we served."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.core.cache import cache
from django_redis import get_redis_connection

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.exploration import ExplorationConfig, seed_from_request
from dragonrec.recommender.core.pipeline import Pipeline, PipelineConfig, pipeline_config_from_settings
from dragonrec.recommender.core.pipeline import build_pipeline as core_build_pipeline
from dragonrec.recommender.core.policy import (
    NONE,
    PAGE_LISTS,
    TEACHER,
    ServingPolicy,
    choose_ranker,
    explain,
)
from dragonrec.recommender.core.rankers import EmbeddingRanker, TeacherScoresRanker
from dragonrec.recommender.core.types import (
    ADD_TO_CART,
    PURCHASE,
    REMOVE_FROM_CART,
    SCENARIOS,
    Context,
    HistoryEvent,
    Preferences,
    Recommendation,
)
from dragonrec.recommender.models import Impression
from dragonrec.recommender.services.embeddings import embedder_get
from dragonrec.recommender.services.experiments import experiment_assignment
from dragonrec.recommender.services.fatigue import fatigue_queue, fatigue_resolve
from dragonrec.recommender.services.impressions import impression_record, impression_record_build
from dragonrec.recommender.services.rules import merchant_rules_for
from dragonrec.recommender.services.students import active_student_ranker, version_student_ranker
from dragonrec.recommender.services.teacher import history_signature, teacher_cache_key
from dragonrec.recommender.stores import serving_stores
from dragonrec.tracking.identity import shopper_key_for, signed_in_user_id
from dragonrec.tracking.state import ShopperState, shopper_state_get, shopper_state_queue, shopper_state_resolve

logger = logging.getLogger(__name__)
ANCHORED = ("product", *PAGE_LISTS)  # scenarios about one product: product_id required


class RecommendationError(ValueError):
    """A request the API answers with 400."""


class UnknownProductError(RecommendationError):
    """The request names a product that does not exist (or is not served): the API answers 404."""


@dataclass
class ServedItem:
    product_id: int
    score: float
    source: str
    reason: str
    position: int
    propensity: float = 1.0


@dataclass
class ServedList:
    request_id: uuid.UUID
    scenario: str
    ranker: str
    model_version: str
    items: list[ServedItem] = field(default_factory=list)
    experiment: str | None = None
    arm: str | None = None
    relaxed: list[str] = field(default_factory=list)  # what the policy gave up to fill the page ("price")


@dataclass(frozen=True)
class Preview:
    """A request made for the admin's preview (services.preview): nothing is recorded (no impression, so no
    fatigue, reward or teacher call); a stated `history` / `preferences` replace the shopper's stored ones, and
    `assignment` ((experiment, arm)) serves that arm instead of the shopper's own."""

    history: list[HistoryEvent] | None = None
    preferences: Preferences | None = None
    assignment: tuple[Any, Any] | None = None


def cart_ids(history: list[HistoryEvent]) -> list[int]:
    """What is in the cart now, by replaying add/remove/purchase events (newest last)."""
    cart: dict[int, None] = {}
    for event in history:
        if event.event_type == ADD_TO_CART:
            cart[event.product_id] = None
        elif event.event_type in (REMOVE_FROM_CART, PURCHASE):
            cart.pop(event.product_id, None)
    return list(cart)


def pipeline_config() -> PipelineConfig:
    """The served PipelineConfig: the same function the harness's `served` ranker builds its config with."""
    return pipeline_config_from_settings(recommender_settings.pipeline_settings())


def local_ranker(*, products: Any, index: Any) -> Ranker:
    """This request's ranker over the active student if one is loaded (products newer than the student scored from
    `index`), else embedding similarity."""
    student = active_student_ranker(products=products, index=index)
    if student is not None:
        return student
    return EmbeddingRanker(products=products, index=index, embedder=embedder_get())


def build_pipeline(ranker: Ranker | None = None) -> tuple[Pipeline, Ranker]:
    """The serving pipeline (core.pipeline.build_pipeline from the RECOMMENDER settings) and the local ranker it
    falls back to; the active student, if any, also retrieves (what shoppers like you went on to buy)."""
    embedder = embedder_get()
    products, index = serving_stores()
    local = local_ranker(products=products, index=index)
    pipeline = core_build_pipeline(
        products=products,
        index=index,
        embedder=embedder,
        ranker=ranker or local,
        retriever=local,
        config=pipeline_config(),
        sources=recommender_settings.CANDIDATE_SOURCES,
    )
    return pipeline, pipeline.ranker if ranker is None else local


def preferences_for(user: Any | None, session_id: str = "") -> Preferences:
    """What the shopper stated: a signed-in user's preferences, else the anonymous session's."""
    return preferences_from(shopper_state_get(shopper_key_for(user=user, session_id=session_id)).preferences)


def preferences_from(stated: dict[str, Any] | None) -> Preferences:
    """A ShopperState's stated preferences as the pipeline's Preferences."""
    if not stated:
        return Preferences()
    return Preferences(
        categories=tuple(stated["categories"]),
        brands=tuple(stated["brands"]),
        price_min=stated["price_min"],
        price_max=stated["price_max"],
    )


@dataclass(frozen=True)
class Prefetched:
    """What a request's one Redis round trip read for its shopper (tracking.shopper_views + serving_prefetch_*):
    their state (history, preferences) and the products resting for them (impression fatigue)."""

    key: str
    state: ShopperState
    fatigued: frozenset[int] = frozenset()


def serving_prefetch_queue(pipe: Any, key: str) -> int:
    """Queue the reads a list for shopper `key` needs onto `pipe`; how many replies they take."""
    if not key:
        return 0
    return shopper_state_queue(pipe, key) + fatigue_queue(pipe, key)


def serving_prefetch_resolve(key: str, replies: list[Any] | None) -> Prefetched:
    """The replies of `serving_prefetch_queue` (None: Redis unreachable) as a Prefetched."""
    limit = int(recommender_settings.HISTORY_LENGTH)
    if not key:
        return Prefetched(key, ShopperState(limit=limit))
    state = shopper_state_resolve(key, replies[:2] if replies is not None else None, limit=limit)
    return Prefetched(key, state, fatigue_resolve(replies[2:4]) if replies is not None else frozenset())


def serving_prefetch(key: str) -> Prefetched:
    """`serving_prefetch_*` in a round trip of its own, for a call outside a prefetching view."""
    replies: list[Any] | None = None
    if key:
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
            serving_prefetch_queue(pipe, key)
            replies = pipe.execute()
        except Exception:
            logger.warning("shopper state unavailable in Redis; reading the database", exc_info=True)
    return serving_prefetch_resolve(key, replies)


def recommendation_list(
    *,
    scenario: str,
    user: Any | None = None,
    session_id: str = "",
    product_id: int | None = None,
    n: int | None = None,
    record: bool = True,
    request_id: uuid.UUID | None = None,
    preview: Preview | None = None,
    exclude: Iterable[int] = (),
    prefetched: Prefetched | None = None,
) -> ServedList:
    """The recommendations for one request: never calls the LLM inline, always answers. A given `request_id`
    reproduces that request's exploration draw (the same history and catalog then give the same list).

    `scenario` is a page's list: `home`, `product`, `cart`, or a product page's own `similar` and `complements`
    (`product_id` required for those and for `product`); `exclude` are the ids already shown on the page (never in
    the list); `record=False` serves without recording the list (warm-up, previews, requests that must not count);
    `prefetched` is the shopper's state as the request's round trip read it (read here when absent or another's).
    The serving policy (core.policy) decides sources, ranker, filters and re-rank for all of them."""
    n = n or recommender_settings.DEFAULT_N
    key = shopper_key_for(user=user, session_id=session_id)
    if prefetched is None or prefetched.key != key:
        prefetched = serving_prefetch(key)
    history = [HistoryEvent(product_id=p, event_type=t, timestamp=ts) for p, t, ts in prefetched.state.history]
    if preview is not None:
        record = False
        history = history if preview.history is None else preview.history
    pipeline, local = build_pipeline()
    products = pipeline.products
    anchors: list[int] = []
    if scenario in ANCHORED:
        if product_id is None or not products.get_many([product_id]):
            if product_id is None:
                raise RecommendationError("product_id is required")
            raise UnknownProductError(f"unknown product {product_id}")
        anchors = [product_id]
    elif scenario == "cart":
        anchors = cart_ids(history)
    ctx = Context(
        scenario=scenario,
        history=history,
        anchor_ids=anchors,
        preferences=(
            preview.preferences
            if preview and preview.preferences is not None
            else preferences_from(prefetched.state.preferences)
        ),
        n=n,
        # What the shopper already interacted with is excluded, as in the offline protocol the rankers are
        # measured with ("recently viewed" is the storefront's own widget); so is what the page already shows.
        exclude_ids=set(anchors) | {e.product_id for e in history} | set(exclude),
        user_key=key,
    )
    signature = history_signature(history) + f":{scenario}:{','.join(map(str, anchors))}"
    teacher_scores = _cached_teacher_scores(key, signature) if scenario in SCENARIOS else {}
    # rested, not excluded: a shopper who has seen most of a small catalog still gets a full page
    # a product page's own lists follow the product page's merchant rules (a blocked product shows in none of them)
    rules_for = "product" if scenario in PAGE_LISTS else scenario
    rules = replace(merchant_rules_for(scenario=rules_for), rested=prefetched.fatigued)
    request_id = request_id or uuid.uuid4()
    exploration = exploration_config(scenario)
    assignment = experiment_assignment(scenario=scenario, user_key=key) if scenario in SCENARIOS else None
    if preview is not None and preview.assignment is not None:
        assignment = preview.assignment
    policy_extra: dict[str, Any] = {}
    if assignment is not None:
        experiment, arm = assignment
        served, exploration, policy_extra = _experiment_served(
            experiment, arm, pipeline, local, ctx, rules, exploration, request_id, teacher_scores
        )
    else:
        policy = pipeline.policy(ctx, ranker=choose_ranker(arm_policy=None, teacher_available=bool(teacher_scores)))
        pipeline.ranker = ranker_for(policy.ranker, pipeline=pipeline, local=local, teacher_scores=teacher_scores)
        result: Recommendation = pipeline.recommend_explored(
            ctx, rules, exploration=exploration, seed=seed_from_request(request_id), policy=policy
        )
        served = _served(result, teacher_scores, ctx, products, request_id)
        policy_extra = {"policy": policy.as_dict()}
    if record:
        eligible = scenario in SCENARIOS and teacher_eligible(user, history)
        teach = recommender_settings.teacher_enabled and not teacher_scores and eligible
        wait_ms = int(recommender_settings.TEACHER_WAIT_MS) if teach else 0
        record_ = impression_record_build(
            request_id=served.request_id,
            user_id=signed_in_user_id(user),
            session_id=session_id,
            scenario=served.scenario,
            anchor_ids=anchors,
            ranker=served.ranker,
            model_version=served.model_version,
            context={
                "user_key": key,
                "signature": signature,
                "preferences": asdict(ctx.preferences),
                "history": [[e.product_id, e.event_type] for e in history[-20:]],
            },
            items=((i.product_id, i.position, i.score, i.source, i.propensity) for i in served.items),
            teach=teach,
            policy={
                "ranker": served.ranker,
                "model_version": served.model_version,
                "exploration": exploration.as_dict(),
                **policy_extra,
            },
            experiment=served.experiment or "",
            arm=served.arm or "",
        )
        # a request that will wait for the teacher writes its impression now, so the judgment can start at once
        impression_record(record_, now=wait_ms > 0)
        if wait_ms > 0:
            _teacher_wait(key, signature, wait_ms)
    return served


def serving_warmup() -> None:
    """Load what a request needs (embedder, catalog snapshot, active student, product renderings) and run one list
    through the pipeline, so a fresh web process answers its first request as fast as its thousandth."""
    from dragonrec.recommender.selectors import products_rendered

    pipeline, _ = build_pipeline()
    trending = [pid for pid, _ in pipeline.products.trending(limit=200)]
    shown = [item.product_id for item in recommendation_list(scenario="home", record=False).items]
    if trending:  # a product page runs the active ranker (the student's forward pass) too
        shown += [
            item.product_id
            for item in recommendation_list(scenario="product", product_id=trending[0], record=False).items
        ]
    products_rendered(shown + trending)


def teacher_eligible(user: Any | None, history: list[HistoryEvent]) -> bool:
    """Whether a shopper's list is worth a paid judgment: a fresh cookie costs a bot nothing, so anonymous shoppers
    (an integration's included: the rule is about the shopper, not the caller) need TEACHER_MIN_HISTORY distinct
    products; signed-in users, whom a bot cannot mint by the thousand, TEACHER_MIN_HISTORY_SIGNED_IN."""
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    needed = (
        recommender_settings.TEACHER_MIN_HISTORY_SIGNED_IN if signed_in else recommender_settings.TEACHER_MIN_HISTORY
    )
    return len({e.product_id for e in history}) >= max(1, int(needed))


def _cached_teacher_scores(user_key: str, signature: str) -> dict[str, dict[str, Any]]:
    if not recommender_settings.teacher_enabled or not user_key:
        return {}
    return cache.get(teacher_cache_key(user_key, signature)) or {}


def _experiment_served(
    experiment: Any,
    arm: Any,
    pipeline: Pipeline,
    local: Ranker,
    ctx: Context,
    rules: Any,
    exploration: ExplorationConfig,
    request_id: uuid.UUID,
    teacher_scores: dict[str, dict[str, Any]],
) -> tuple[ServedList, ExplorationConfig, dict[str, Any]]:
    """The list of a shopper inside a running experiment: their arm's policy (A/B), or both arms' rankings
    interleaved team-draft style (interleaving; exploration off, so each team's picks are its own)."""
    import numpy as np

    from dragonrec.recommender.core.experiments import team_draft

    products = pipeline.products
    if arm is None:  # interleaving: every list mixes the two arms
        a, b = list(experiment.arms.all())[:2]
        ranked = {}
        for team, which in (("a", a), ("b", b)):
            arm_pipeline, policy = _arm_pipeline(which, pipeline, local, ctx, teacher_scores)
            ranked[team] = arm_pipeline.recommend(ctx, rules, policy=policy)
        mixed = team_draft(
            [i.product_id for i in ranked["a"].items],
            [i.product_id for i in ranked["b"].items],
            n=ctx.n,
            rng=np.random.default_rng(seed_from_request(request_id)),
        )
        by_id = {i.product_id: i for r in ranked.values() for i in r.items}
        result = Recommendation(items=[by_id[pid] for pid in mixed.items], ranker=f"interleaved:{a.name}+{b.name}")
        served = _served(result, teacher_scores, ctx, products, request_id)
        served.experiment, served.arm = experiment.name, "interleaved"
        teams = {"a": a.name, "b": b.name}
        return served, ExplorationConfig(enabled=False), {"teams": [teams[t] for t in mixed.teams]}
    if arm.policy == NONE:  # the shop's own list: we serve nothing, the storefront shows its list and reports
        served = ServedList(request_id, ctx.scenario, NONE, "", [], experiment.name, arm.name)
        return served, ExplorationConfig(enabled=False), {"arm_policy": arm.policy}
    arm_pipeline, policy = _arm_pipeline(arm, pipeline, local, ctx, teacher_scores)
    overrides = arm.overrides or {}
    arm_exploration = (
        ExplorationConfig.from_dict(overrides["exploration"]) if "exploration" in overrides else exploration
    )
    result = arm_pipeline.recommend_explored(
        ctx, rules, exploration=arm_exploration, seed=seed_from_request(request_id), policy=policy
    )
    served = _served(result, teacher_scores, ctx, products, request_id)
    served.experiment, served.arm = experiment.name, arm.name
    extra = {"arm_policy": arm.policy, "overrides": arm.overrides, "policy": policy.as_dict()}
    return served, arm_exploration, extra


def _arm_pipeline(
    arm: Any, pipeline: Pipeline, local: Ranker, ctx: Context, teacher_scores: dict[str, dict[str, Any]]
) -> tuple[Pipeline, ServingPolicy]:
    """A copy of the serving pipeline with the arm's ranker, and the arm's serving policy (its overrides apply on
    every scenario)."""
    import copy

    arm_pipeline = copy.copy(pipeline)
    ranker = choose_ranker(arm_policy=arm.policy, teacher_available=bool(teacher_scores))
    policy = pipeline.policy(ctx, ranker=ranker, overrides=arm.overrides or {})
    arm_pipeline.ranker = ranker_for(policy.ranker, pipeline=pipeline, local=local, teacher_scores=teacher_scores)
    return arm_pipeline, policy


def ranker_for(name: str, *, pipeline: Pipeline, local: Ranker, teacher_scores: dict[str, dict[str, Any]]) -> Ranker:
    """The Ranker a policy's ranker name stands for (core.policy.choose_ranker decides the name): the one place
    that turns a decision into a model."""
    from dragonrec.recommender.core.rankers import TrendingRanker

    if name == TEACHER:
        return teacher_ranker(teacher_scores, local) if teacher_scores else local
    if name == "embedding":
        return EmbeddingRanker(products=pipeline.products, index=pipeline.index, embedder=embedder_get())
    if name == "trending":
        return TrendingRanker(products=pipeline.products)
    if name.startswith("student:") and name != "student:active":
        version = version_student_ranker(name.split(":", 1)[1], products=pipeline.products, index=pipeline.index)
        return version or local
    return local


def teacher_ranker(teacher_scores: dict[str, dict[str, Any]], local: Ranker) -> Ranker:
    """The cached teacher judgments as a ranker, the local ranker ordering what they did not judge."""
    return TeacherScoresRanker({int(k): v["score"] for k, v in teacher_scores.items()}, local)


def exploration_config(scenario: str) -> ExplorationConfig:
    """The EXPLORATION setting of a scenario (off when the scenario has none)."""
    return ExplorationConfig.from_dict(recommender_settings.EXPLORATION.get(scenario))


def _served(
    result: Recommendation,
    teacher: dict[str, dict[str, Any]],
    ctx: Context,
    products: Any,
    request_id: uuid.UUID | None = None,
) -> ServedList:
    ranker_label = result.ranker
    version = ""
    if ranker_label.startswith("student:"):
        version = ranker_label.split(":", 1)[1]
    wanted = [i.product_id for i in result.items] + [i.anchor for i in result.items if i.anchor is not None]
    known = products.get_many(dict.fromkeys(wanted))
    items = []
    for position, item in enumerate(result.items, start=1):
        judged = teacher.get(str(item.product_id))
        reason = (judged or {}).get("reason") or explain(
            source=item.source, anchor=item.anchor, product=known.get(item.product_id), ctx=ctx, products=known
        )
        items.append(ServedItem(item.product_id, round(item.score, 6), item.source, reason, position, item.propensity))
    served = ServedList(request_id or uuid.uuid4(), ctx.scenario, ranker_label, version, items)
    served.relaxed = list(result.relaxed)
    return served


def teacher_payload(*, request_id: uuid.UUID | str) -> dict[str, Any] | None:
    """What the teacher judges for a served list: its items as candidates, in the context it was made for."""
    impression = Impression.objects.filter(request_id=request_id).first()
    if impression is None:
        return None
    candidates = list(impression.items.order_by("position").values_list("product_id", flat=True))
    return {
        **impression.context,
        "request_id": str(impression.request_id),
        "candidates": candidates[: recommender_settings.TEACHER_CANDIDATES],
    }


def _teacher_wait(user_key: str, signature: str, wait_ms: int) -> None:
    """Wait up to TEACHER_WAIT_MS for the judgment of the list just served (a shop that prefers fresher teacher
    orderings over latency); the judgment orders this shopper's next list either way."""
    deadline = time.monotonic() + wait_ms / 1000
    while time.monotonic() < deadline and not cache.get(teacher_cache_key(user_key, signature)):
        time.sleep(0.01)


def similar_products(*, product_id: int, n: int, **kwargs: Any) -> ServedList:
    """'Similar products': nearest neighbours of the product's own embedding, a served list like any other (request
    id, reasons, positions, recorded); `kwargs` as recommendation_list's (user, session_id, exclude, record)."""
    return recommendation_list(scenario="similar", product_id=product_id, n=n, **kwargs)


def complementary_products(*, product_id: int, n: int, **kwargs: Any) -> ServedList:
    """'Goes well with': the complement source alone (learned pairs within categories that go with the product's,
    then the best items of those categories, so a product created a minute ago has complements too), diversified
    like any list and never padded with unrelated items; a served list like any other."""
    return recommendation_list(scenario="complements", product_id=product_id, n=n, **kwargs)
