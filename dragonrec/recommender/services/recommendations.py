"""Serving: turn an API request into a Context, run the shared Pipeline with the best available ranker, record
the impression, and ask the teacher (in Celery, never inline) to judge what we served."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, replace
from typing import Any

from django.core.cache import cache

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.exploration import seed_from_request
from dragonrec.recommender.core.policy import (
    PAGE_LISTS,
    choose_ranker,
    page_teacher_key,
)
from dragonrec.recommender.core.types import (
    SCENARIOS,
    Context,
    HistoryEvent,
    Recommendation,
)
from dragonrec.recommender.services.experiments import experiment_assignment
from dragonrec.recommender.services.impressions import impression_record, impression_record_build
from dragonrec.recommender.services.rules import merchant_rules_for
from dragonrec.recommender.services.served import (  # re-exported: the API, search and the preview import them here
    Preview as Preview,
)
from dragonrec.recommender.services.served import (
    RecommendationError as RecommendationError,
)
from dragonrec.recommender.services.served import (
    ServedItem as ServedItem,
)
from dragonrec.recommender.services.served import (
    ServedList as ServedList,
)
from dragonrec.recommender.services.served import (
    UnknownProductError as UnknownProductError,
)
from dragonrec.recommender.services.served import (
    build_pipeline as build_pipeline,
)
from dragonrec.recommender.services.served import (
    cart_ids,
    experiment_served,
    exploration_config,
    ranker_for,
    served_from,
)
from dragonrec.recommender.services.served import (
    local_ranker as local_ranker,
)
from dragonrec.recommender.services.served import (
    pipeline_config as pipeline_config,
)
from dragonrec.recommender.services.shopper_state import (
    Prefetched as Prefetched,
)
from dragonrec.recommender.services.shopper_state import (
    preferences_for as preferences_for,
)
from dragonrec.recommender.services.shopper_state import (
    preferences_from,
    serving_prefetch,
)
from dragonrec.recommender.services.shopper_state import (
    serving_prefetch_queue as serving_prefetch_queue,
)
from dragonrec.recommender.services.shopper_state import (
    serving_prefetch_resolve as serving_prefetch_resolve,
)
from dragonrec.recommender.services.teacher import TeacherScores, history_signature, teacher_cache_key
from dragonrec.recommender.stores import scored_memo
from dragonrec.tracking.identity import shopper_key_for, signed_in_user_id

logger = logging.getLogger(__name__)
ANCHORED = ("product", *PAGE_LISTS)  # scenarios about one product: product_id required


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
    # a shopper's lists are judged per shopper and history; "goes well with" once per product (core.policy)
    page_key = page_teacher_key(scenario, anchors[0]) if anchors else None
    teacher_key = (key, signature) if scenario in SCENARIOS else page_key
    teacher_scores = _cached_teacher_scores(*teacher_key) if teacher_key else {}
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
        served, exploration, policy_extra = experiment_served(
            experiment, arm, pipeline, local, ctx, rules, exploration, request_id, teacher_scores
        )
    else:
        policy = pipeline.policy(ctx, ranker=choose_ranker(arm_policy=None, teacher_available=bool(teacher_scores)))
        pipeline.ranker = ranker_for(policy.ranker, pipeline=pipeline, local=local, teacher_scores=teacher_scores)
        result: Recommendation = pipeline.recommend_explored(
            ctx,
            rules,
            exploration=exploration,
            seed=seed_from_request(request_id),
            policy=policy,
            memo=scored_memo(products),
        )
        served = served_from(result, teacher_scores, ctx, products, request_id)
        policy_extra = {"policy": policy.as_dict()}
    if record:
        eligible = page_key is not None or (scenario in SCENARIOS and teacher_eligible(user, history))
        teach = recommender_settings.teacher_enabled and not teacher_scores and eligible
        wait_ms = int(recommender_settings.TEACHER_WAIT_MS) if teach and page_key is None else 0
        record_ = impression_record_build(
            request_id=served.request_id,
            user_id=signed_in_user_id(user),
            session_id=session_id,
            scenario=served.scenario,
            anchor_ids=anchors,
            ranker=served.ranker,
            model_version=served.model_version,
            # What the teacher judges the list in; only a list that asks for a judgment carries it (the flush keeps
            # the context of those alone: other lists' history is read back from the events when needed)
            context=(
                {
                    "user_key": key,
                    "signature": signature,
                    "preferences": asdict(ctx.preferences),
                    "history": [[e.product_id, e.event_type] for e in history[-20:]],
                    # what the teacher judges instead, for a list judged per product: its items for the product alone
                    **({"teacher": _page_teacher_context(page_key, anchors[0])} if page_key else {}),
                }
                if teach
                else {"user_key": key}  # impression fatigue counts the list under its shopper (services/fatigue.py)
            ),
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


def _cached_teacher_scores(user_key: str, signature: str) -> TeacherScores:
    if not recommender_settings.teacher_enabled or not user_key:
        return {}
    return cache.get(teacher_cache_key(user_key, signature)) or {}


def _page_teacher_context(page_key: tuple[str, str], product_id: int) -> dict[str, Any]:
    """The judgment's context for a per-product list: the product as the only history, no shopper's statement."""
    return {"user_key": page_key[0], "signature": page_key[1], "history": [[product_id, "view"]], "preferences": {}}


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
