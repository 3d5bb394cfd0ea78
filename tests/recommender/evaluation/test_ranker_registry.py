"""The evaluation harness's ranker registry (`harness.RANKERS`) under the list contract every ranker meets
(tests/recommender/core/test_contracts.py): parametrised over the registry, so a ranker added there is covered."""

from __future__ import annotations

import pytest

from dragonrec.recommender.core.embedder import HashingEmbedder
from dragonrec.recommender.core.pipeline import PipelineConfig, build_pipeline
from dragonrec.recommender.core.types import Context
from dragonrec.recommender.evaluation.dataset import leave_one_out, load_dataset
from dragonrec.recommender.evaluation.harness import RANKERS, EvalResources, eval_stores
from tests.recommender.core.test_contracts import assert_list_contract
from tests.recommender.evaluation.test_harness import write_dataset


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> EvalResources:
    from dragonrec.recommender.ml import StudentConfig

    root = tmp_path_factory.mktemp("registry")
    split = leave_one_out(load_dataset(write_dataset(root)))
    tiny = StudentConfig(hidden=16, n_layers=1, max_len=8, batch_size=32, max_epochs=2, min_epochs=1, eval_every=1,
                         ema_epochs=None, bf16=False, num_threads=1, text_dim=64)  # fmt: skip
    return EvalResources(
        split=split, progress=False, embedder=HashingEmbedder(dim=64), cache_dir=root / "cache", student_config=tiny
    )


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_harness_ranker_list_contract(name: str, resources: EvalResources) -> None:
    split = resources.split
    store, index = eval_stores(split, resources)
    ranker = RANKERS[name](split, resources)
    pipeline = build_pipeline(products=store, index=index, embedder=None, ranker=ranker, config=PipelineConfig())
    users = split.users[:: max(1, len(split.users) // 6)]
    ctxs = [Context(user_key=users[0])] + [
        Context(history=split.test_input(u), exclude_ids={e.product_id for e in split.test_input(u)}, user_key=u)
        for u in users
    ]

    assert_list_contract(pipeline, ctxs, set(range(split.dataset.n_items)))
