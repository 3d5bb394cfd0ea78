"""The parts a served list is made of, shared by serving (recommendations.py), search and the admin's preview: the
answer's shape (ServedList), the pipeline and ranker serving builds from settings, the ranker a policy names, and
the list of a shopper inside a running experiment (their arm's policy, or two arms interleaved)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.exploration import ExplorationConfig, seed_from_request
from dragonrec.recommender.core.pipeline import Pipeline, PipelineConfig, pipeline_config_from_settings
from dragonrec.recommender.core.pipeline import build_pipeline as core_build_pipeline
from dragonrec.recommender.core.policy import (
    NONE,
    TEACHER,
    ServingPolicy,
    choose_ranker,
)
from dragonrec.recommender.core.rankers import EmbeddingRanker, TeacherScoresRanker
from dragonrec.recommender.core.reasons import explain
from dragonrec.recommender.core.rerank import RerankRules
from dragonrec.recommender.core.stores import ProductStore, VectorIndex
from dragonrec.recommender.core.types import (
    ADD_TO_CART,
    PURCHASE,
    REMOVE_FROM_CART,
    Context,
    HistoryEvent,
    Preferences,
    Recommendation,
)
from dragonrec.recommender.models import Arm, Experiment
from dragonrec.recommender.services.embeddings import embedder_get
from dragonrec.recommender.services.students import active_student_ranker, version_student_ranker
from dragonrec.recommender.services.teacher import TeacherScores
from dragonrec.recommender.stores import scored_memo, serving_stores


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
    assignment: tuple[Experiment, Arm | None] | None = None


def cart_ids(history: list[HistoryEvent]) -> list[int]:
    """What is in the cart now, by replaying add/remove/purchase events (newest last)."""
    cart: dict[int, None] = {}
    for event in history:
        if event.event_type == ADD_TO_CART:
            cart[event.product_id] = None
        elif event.event_type in (REMOVE_FROM_CART, PURCHASE):
            cart.pop(event.product_id, None)
    return list(cart)


# The settings it was built from and the config: rebuilt when the RECOMMENDER settings are reloaded (a new dict),
# not per request (a list spent ~1.5% of its CPU rebuilding the same frozen dataclass).
_pipeline_config: tuple[dict[str, Any], PipelineConfig] | None = None


def pipeline_config() -> PipelineConfig:
    """The served PipelineConfig: the same function the harness's `served` ranker builds its config with."""
    global _pipeline_config
    user_settings, cached = recommender_settings.user_settings, _pipeline_config
    if cached is None or cached[0] is not user_settings:
        cached = (user_settings, pipeline_config_from_settings(recommender_settings.pipeline_settings()))
        _pipeline_config = cached
    return cached[1]


def local_ranker(*, products: ProductStore, index: VectorIndex) -> Ranker:
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


def experiment_served(
    experiment: Experiment,
    arm: Arm | None,
    pipeline: Pipeline,
    local: Ranker,
    ctx: Context,
    rules: RerankRules,
    exploration: ExplorationConfig,
    request_id: uuid.UUID,
    teacher_scores: TeacherScores,
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
            ranked[team] = arm_pipeline.recommend(ctx, rules, policy=policy, memo=scored_memo(products))
        mixed = team_draft(
            [i.product_id for i in ranked["a"].items],
            [i.product_id for i in ranked["b"].items],
            n=ctx.n,
            rng=np.random.default_rng(seed_from_request(request_id)),
        )
        by_id = {i.product_id: i for r in ranked.values() for i in r.items}
        result = Recommendation(items=[by_id[pid] for pid in mixed.items], ranker=f"interleaved:{a.name}+{b.name}")
        served = served_from(result, teacher_scores, ctx, products, request_id)
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
        ctx,
        rules,
        exploration=arm_exploration,
        seed=seed_from_request(request_id),
        policy=policy,
        memo=scored_memo(products),
    )
    served = served_from(result, teacher_scores, ctx, products, request_id)
    served.experiment, served.arm = experiment.name, arm.name
    extra = {"arm_policy": arm.policy, "overrides": arm.overrides, "policy": policy.as_dict()}
    return served, arm_exploration, extra


def _arm_pipeline(
    arm: Arm, pipeline: Pipeline, local: Ranker, ctx: Context, teacher_scores: TeacherScores
) -> tuple[Pipeline, ServingPolicy]:
    """A copy of the serving pipeline with the arm's ranker, and the arm's serving policy (its overrides apply on
    every scenario)."""
    import copy

    arm_pipeline = copy.copy(pipeline)
    ranker = choose_ranker(arm_policy=arm.policy, teacher_available=bool(teacher_scores))
    policy = pipeline.policy(ctx, ranker=ranker, overrides=arm.overrides or {})
    arm_pipeline.ranker = ranker_for(policy.ranker, pipeline=pipeline, local=local, teacher_scores=teacher_scores)
    return arm_pipeline, policy


def ranker_for(name: str, *, pipeline: Pipeline, local: Ranker, teacher_scores: TeacherScores) -> Ranker:
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


def teacher_ranker(teacher_scores: TeacherScores, local: Ranker) -> Ranker:
    """The cached teacher judgments as a ranker, the local ranker ordering what they did not judge."""
    return TeacherScoresRanker({int(k): v["score"] for k, v in teacher_scores.items()}, local)


def exploration_config(scenario: str) -> ExplorationConfig:
    """The EXPLORATION setting of a scenario (off when the scenario has none)."""
    return ExplorationConfig.from_dict(recommender_settings.EXPLORATION.get(scenario))


def served_from(
    result: Recommendation,
    teacher: TeacherScores,
    ctx: Context,
    products: ProductStore,
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
        reason = (judged["reason"] if judged else "") or explain(
            source=item.source, anchor=item.anchor, product=known.get(item.product_id), ctx=ctx, products=known
        )
        items.append(ServedItem(item.product_id, round(item.score, 6), item.source, reason, position, item.propensity))
    served = ServedList(request_id or uuid.uuid4(), ctx.scenario, ranker_label, version, items)
    served.relaxed = list(result.relaxed)
    return served
