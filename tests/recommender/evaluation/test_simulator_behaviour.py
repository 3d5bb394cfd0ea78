"""What the closed-loop simulator's figures rest on, on the tiny synthetic shop of the harness tests (users walk
through one category, item after item): a better policy earns more reward from the same simulated shoppers, the
propensities it logs are the frequencies it draws with, and the same seed replays the same round."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from dragonrec.recommender.core.embedder import HashingEmbedder, cached_encode
from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.evaluation.dataset import load_dataset
from dragonrec.recommender.evaluation.sim_round import run_round, serve
from dragonrec.recommender.evaluation.sim_world import PolicyState, SimSettings, World, build_pipeline
from tests.recommender.evaluation.test_harness import write_dataset

# pages of 3: on this shop a page of 10 holds a whole category, and any policy that finds the category shows all
# of a shopper's next items somewhere on it
SETTINGS = SimSettings(users=40, min_events=6, new_item_share=0.0, n=3, seed=0)
# a warm tail so the draw is spread over the pool (the shipped 0.05 keeps most of the mass on the ranked order)
SPREAD = {"enabled": True, "deterministic_slots": 3, "pool": 6, "temperature": 0.5}
DRAWS = 600


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("sim")
    dataset = load_dataset(write_dataset(root))
    vectors = cached_encode(HashingEmbedder(dim=64), dataset.texts, root / "cache")
    return World(dataset, vectors, SETTINGS)


def fit_student(world: World, sequences: list[Any]) -> Any:
    from dragonrec.recommender.ml.model import StudentConfig
    from dragonrec.recommender.ml.student import Student

    known = [p.id for p in world.dataset.products]
    # small and briskly trained (about a second): the shipped sizes and dropout are for Amazon-scale data
    config = StudentConfig(
        hidden=32,
        n_layers=1,
        max_len=8,
        text_dim=int(world.vectors.shape[1]),
        lr=1e-2,
        dropout=0.1,
        attn_dropout=0.1,
        id_dropout=0.0,
        batch_size=32,
        max_epochs=20,
        min_epochs=20,
        ema_epochs=None,
        bf16=False,
        num_threads=1,
        time_budget_s=None,
    )
    return Student.fit(
        sequences=sequences, product_ids=known, text_vectors=world.vectors[known], config=config, seed=0, version="t"
    )


@pytest.fixture(scope="module")
def student(world: World) -> Any:
    return fit_student(world, world.training)


def state(world: World, student: Any, exploration: dict[str, Any] | None = None) -> PolicyState:
    """A policy on its own copy of the shoppers (nothing a round does leaks into the next test)."""
    explore = exploration is not None
    return PolicyState("p", student, copy.deepcopy(world.shoppers), explore=explore, form=None, exploration=exploration)


def reward(world: World, policy: PolicyState) -> float:
    """Expected clicks per shown item over the same shoppers in the same state (click probabilities summed: no
    sampling noise in the comparison)."""
    metrics, _ = run_round(policy, world, 1, with_new=True, apply=False)
    return float(metrics["expected_click_rate"])


def test_a_better_policy_earns_more_reward_from_the_same_shoppers(world: World, student: Any) -> None:
    # a student that learnt the walks against one that learnt them with every product id scrambled
    scramble = np.random.default_rng(0).permutation(world.dataset.n_items)
    scrambled = [[replace(e, product_id=int(scramble[e.product_id])) for e in seq] for seq in world.training]
    learnt, confused = reward(world, state(world, student)), reward(world, state(world, fit_student(world, scrambled)))

    # the same model, greedy against a near-uniform draw from its six best (relevant items pushed down or off the page)
    shuffled = reward(world, state(world, student, {**SPREAD, "deterministic_slots": 0, "temperature": 50.0}))

    assert learnt > 2 * confused
    assert learnt > 1.3 * shuffled


def test_logged_propensities_are_the_draw_frequencies(world: World, student: Any) -> None:
    pipeline = build_pipeline(world, student, with_new=True)
    shopper = next(sh for sh in world.shoppers if sh.active)
    exploration = ExplorationConfig.from_dict(SPREAD)
    student.remember_user_vectors([shopper.history[-50:]])
    pages = [serve(pipeline, shopper, n=10, exploration=exploration, seed=seed) for seed in range(DRAWS)]
    student.forget_user_vectors()

    drawn: Counter[tuple[int, int]] = Counter()
    logged: dict[tuple[int, int], float] = {}
    for page in pages:
        for position, (item, _score, propensity) in enumerate(page):
            drawn[(position, item)] += 1
            assert logged.setdefault((position, item), propensity) == pytest.approx(propensity), "one P per placement"
    tail = [key for key in logged if key[0] >= SPREAD["deterministic_slots"]]
    assert len({item for _, item in tail}) > 3, "the draw must actually vary for this check to mean anything"
    for key, p in logged.items():
        frequency = drawn[key] / DRAWS
        # 4 standard errors of a frequency over DRAWS draws, plus a little for the rounding of tiny ones
        assert abs(frequency - p) <= 4 * np.sqrt(p * (1 - p) / DRAWS) + 0.01, (key, frequency, p)
    for position in range(SPREAD["deterministic_slots"], 10):
        # every placement the explorer can make at a position was made at least once, so the logged P sum to 1
        assert sum(p for (k, _), p in logged.items() if k == position) == pytest.approx(1.0, abs=0.02)


def test_the_same_seed_replays_the_same_round(world: World, student: Any) -> None:
    def rows(seed: int) -> list[tuple[Any, ...]]:
        policy = state(world, student, SPREAD)
        _, log = run_round(policy, with_settings(world, seed=seed, n=10), 1, with_new=True, apply=False)
        return [(r["shopper"], r["position"], r["item"], r["propensity"], r["click"], r["buy"]) for r in log]

    first = rows(0)
    assert first == rows(0)
    assert first != rows(1)  # another seed: other draws, other clicks


def with_settings(world: World, **changes: Any) -> World:
    """The same world (shoppers, student data) under other settings: pages of 10 have a drawn tail to replay."""
    other = copy.copy(world)
    other.settings = replace(world.settings, **changes)
    return other
