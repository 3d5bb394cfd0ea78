"""Serving and the evaluation harness build the same pipeline configuration from the same settings."""

from __future__ import annotations

from django.test import override_settings

from dragonrec.recommender.conf import DEFAULTS
from dragonrec.recommender.core.pipeline import PIPELINE_DEFAULTS, PipelineConfig, pipeline_config_from_settings
from dragonrec.recommender.evaluation.dataset import Dataset, Split
from dragonrec.recommender.evaluation.harness import EvalResources, served_settings
from dragonrec.recommender.services.recommendations import pipeline_config

OVERRIDES = {
    "DIVERSITY": 0.35,
    "DIVERSITY_KEEP_TOP": 1,
    "CATEGORY_CAP": 4,
    "SOURCE_BONUS": {"product": {"complements": 0.5}},
    "SCENARIO_RERANK": {"cart": {"DIVERSITY": 0.0}},
    "CONTENT_BLEND": 0.0,
}


def _resources(settings: dict) -> EvalResources:
    empty = Dataset(name="none", products=[], item_ids=[], texts=[], sequences={})
    return EvalResources(split=Split(dataset=empty, train={}, valid_target={}, test_target={}), settings=settings)


def test_serving_and_harness_build_identical_configs_from_the_defaults() -> None:
    harness = pipeline_config_from_settings(served_settings(_resources({})))

    assert pipeline_config() == harness == PipelineConfig()
    assert {key: DEFAULTS[key] for key in PIPELINE_DEFAULTS} == PIPELINE_DEFAULTS  # one set of defaults


def test_serving_and_harness_build_identical_configs_from_the_same_overrides() -> None:
    harness = pipeline_config_from_settings(served_settings(_resources(OVERRIDES)))

    with override_settings(RECOMMENDER=OVERRIDES):
        served = pipeline_config()

    assert served == harness
    assert served.rerank.category_cap == 4 and served.rerank_for("cart").diversity == 0.0
    assert served.source_bonus["product"]["complements"] == 0.5 and served != PipelineConfig()
