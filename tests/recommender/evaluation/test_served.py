"""The simulator and the harness's `served` ranker build what serves in one place (evaluation.served), from one
RECOMMENDER-shaped settings dict: the same overrides give both the same pipeline configuration and sources."""

from __future__ import annotations

from pathlib import Path

from dragonrec.recommender.core.embedder import HashingEmbedder
from dragonrec.recommender.core.pipeline import PipelineConfig, pipeline_config_from_settings
from dragonrec.recommender.evaluation.dataset import leave_one_out, load_dataset
from dragonrec.recommender.evaluation.harness import EvalResources, served_settings
from dragonrec.recommender.evaluation.sim_world import SimSettings, World, build_pipeline
from tests.recommender.core.test_contracts import tiny_student
from tests.recommender.evaluation.test_harness import write_dataset

OVERRIDES = {"DIVERSITY": 0.3, "CATEGORY_CAP": 2, "SCENARIO_SOURCES": {"home": [["student", 40], ["trending", 20]]}}


def test_the_simulator_serves_what_the_harness_serves_from_the_same_settings(tmp_path: Path) -> None:
    dataset = load_dataset(write_dataset(tmp_path))
    vectors = HashingEmbedder(dim=64).encode(dataset.texts)
    world = World(dataset, vectors, SimSettings(users=10, new_item_share=0.0, pipeline=OVERRIDES))
    resources = EvalResources(split=leave_one_out(dataset), settings=OVERRIDES)

    simulated = build_pipeline(world, tiny_student(), with_new=True)
    harness = pipeline_config_from_settings(served_settings(resources))

    assert simulated.config == harness != PipelineConfig()
    assert simulated.config.rerank.category_cap == 2 and simulated.config.sources["home"] == (
        ("student", 40),
        ("trending", 20),
    )
    assert sorted(simulated.sources) == ["complements", "embedding", "similar", "student", "trending"]
