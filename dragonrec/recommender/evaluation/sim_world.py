"""The closed-loop simulator's world (see `simulator`): its settings, the dataset's shoppers with their futures,
the held-out new inventory, the initial student, and the served pipeline each policy's rounds go through."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dragonrec.recommender.core.defaults import EXPLORATION_DEFAULTS
from dragonrec.recommender.core.pipeline import Pipeline
from dragonrec.recommender.core.types import HistoryEvent, Product
from dragonrec.recommender.evaluation.dataset import Dataset
from dragonrec.recommender.evaluation.served import memory_stores, served_settings, served_student_pipeline


@dataclass(frozen=True)
class SimSettings:
    rounds: int = 10
    users: int = 1500  # shoppers simulated (a seeded sample of the dataset's users with >= min_events)
    min_events: int = 6
    n: int = 10
    seed: int = 0
    history_fraction: float = 0.5  # the initial training part of each sequence
    relevant_window: int = 3
    p_click_relevant: float = 0.7
    p_click_other: float = 0.01
    p_buy: float = 0.5
    # a shopper who did not find their next item through us finds it elsewhere this round with this probability
    # (and moves on to the next); otherwise they keep wanting it, as a shopper comparing for a few days does
    p_advance: float = 0.5
    new_item_share: float = 0.1
    new_items_round: int = 3
    # the home page's exploration as served (the one default, core.defaults)
    exploration: dict[str, Any] = field(default_factory=lambda: dict(EXPLORATION_DEFAULTS))
    # the off-policy check's log: this many independent visits of every shopper to the exploring policy in the
    # last round's state (a shop estimates from hours of logs; one visit each leaves ~100 clicks, and a relative
    # error dominated by the click noise of the log rather than by the estimator)
    off_policy_visits: int = 4
    update_steps: int = 40
    update_lr: float = 3e-4
    # share of each update's next-item batch replayed from the initial training sequences (ml/online.py: without
    # it the updates fit the simulated shoppers and forget everyone else)
    update_replay: float = 0.5
    # the initial student's training: None = as the nightly retrain trains (early stopping on validation NDCG,
    # StudentConfig's defaults), else exactly this many epochs. Never a time budget: that made the initial model,
    # and every figure after it, depend on the machine's load. Cached per dataset, seed and this setting.
    train_epochs: int | None = None
    # RECOMMENDER-shaped overrides of the served pipeline (DIVERSITY, CATEGORY_CAP, SOURCE_BONUS, ...), on top of the
    # defaults serving uses: one settings dict, as the harness's `served` ranker takes it
    pipeline: dict[str, Any] = field(default_factory=dict)


@dataclass
class Shopper:
    key: str
    history: list[HistoryEvent]
    future: list[int]

    @property
    def active(self) -> bool:
        return bool(self.future)


@dataclass
class PolicyState:
    name: str
    student: Any
    shoppers: list[Shopper]
    explore: bool
    form: str | None  # None = never updates
    rounds: list[dict[str, Any]] = field(default_factory=list)
    last_log: list[dict[str, Any]] = field(default_factory=list)
    # round -> shopper -> (clicks, shown)
    per_shopper: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    exploration: dict[str, Any] | None = None  # overrides the settings' exploration (the off-policy target)


def position_bias(k: int) -> float:
    """P(a shopper examines 0-based position k): DCG's discount, the usual position-based click model."""
    return 1.0 / math.log2(k + 2)


def uniforms(seed: int, round_no: int, shopper: int, size: int, replicate: int = 0) -> np.ndarray:
    """Common random numbers: the same draws for a shopper at a round whatever the policy (`replicate` > 0: another
    independent visit of the same shopper in the same state, for the off-policy check's log)."""
    tag = f"{seed}:{round_no}:{shopper}" + (f":{replicate}" if replicate else "")
    digest = hashlib.blake2b(tag.encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "big")).random(size)


class World:
    """The dataset, its text vectors, the held-out new items and the initial shoppers."""

    def __init__(self, dataset: Dataset, vectors: np.ndarray, settings: SimSettings) -> None:
        self.dataset = dataset
        self.vectors = vectors
        self.settings = settings
        rng = np.random.default_rng(settings.seed)
        n_items = dataset.n_items
        self.new_items = set(rng.choice(n_items, size=int(n_items * settings.new_item_share), replace=False).tolist())
        users = sorted(u for u, seq in dataset.sequences.items() if len(seq) >= settings.min_events)
        chosen = sorted(rng.choice(len(users), size=min(settings.users, len(users)), replace=False).tolist())
        self.training: list[list[HistoryEvent]] = []
        for user in users:
            seq = dataset.sequences[user]
            cut = self._cut(seq)
            self.training.append([e for e in seq[:cut] if e.product_id not in self.new_items])
        # the initial student's validation pairs: a seeded sample of all the users (not of the simulated ones), so
        # the cached student does not depend on how many shoppers a run simulates
        self.valid: list[tuple[list[HistoryEvent], int]] = []
        for i in np.random.default_rng(settings.seed + 1).permutation(len(users))[:2000].tolist():
            seq = dataset.sequences[users[i]]
            cut = self._cut(seq)
            if seq[cut].product_id not in self.new_items:
                self.valid.append(([e for e in seq[:cut] if e.product_id not in self.new_items], seq[cut].product_id))
        self.shoppers: list[Shopper] = []
        for i in chosen:
            seq = dataset.sequences[users[i]]
            cut = self._cut(seq)
            self.shoppers.append(
                Shopper(
                    key=users[i],
                    history=[e for e in seq[:cut] if e.product_id not in self.new_items],
                    future=[e.product_id for e in seq[cut:]],
                )
            )

    def _cut(self, seq: Sequence[HistoryEvent]) -> int:
        return max(2, int(len(seq) * self.settings.history_fraction))

    def products(self, *, with_new: bool) -> list[Product]:
        return [
            p if with_new or p.id not in self.new_items else replace(p, is_active=False) for p in self.dataset.products
        ]


def build_pipeline(world: World, student: Any, *, with_new: bool) -> Pipeline:
    """What serves, on in-memory stores: the served pipeline (`evaluation.served`, as the harness's `served` ranker
    builds it) with the RECOMMENDER pipeline defaults plus `settings.pipeline`, the policy's student as ranker and
    source."""
    products = world.products(with_new=with_new)
    store, index = memory_stores(products, world.training, world.vectors)
    return served_student_pipeline(
        store=store, index=index, student=student, settings=served_settings(world.settings.pipeline)
    )


def train_initial_student(world: World, cache_dir: Path, *, progress: bool) -> Any:
    """The student trained on the first part of every sequence (new items held out), cached on disk: the
    simulation's rounds and policies are what is being compared, not the training run."""
    from dragonrec.recommender.ml.model import StudentConfig
    from dragonrec.recommender.ml.student import Student

    s = world.settings
    training = f"{s.train_epochs}ep" if s.train_epochs else "early-stop"
    key = hashlib.sha256(
        f"{world.dataset.name}:{s.seed}:{s.history_fraction}:{s.new_item_share}:{training}:new-held-out".encode()
    ).hexdigest()[:16]
    path = cache_dir / f"student-{world.dataset.name}-{key}"
    if (path / "student.json").exists():
        return Student.load(path)
    # the new inventory is not in the initial model at all (as products created after a training run): it reaches
    # a student through `Student.add_items` (the hourly update) or, for a frozen one, the ranker's text path
    known = [p.id for p in world.dataset.products if p.id not in world.new_items]
    config = StudentConfig(time_budget_s=None, text_dim=int(world.vectors.shape[1]))
    if s.train_epochs:
        config = replace(config, max_epochs=s.train_epochs, min_epochs=s.train_epochs)
    student = Student.fit(
        sequences=world.training,
        product_ids=known,
        text_vectors=world.vectors[known],
        config=config,
        valid=world.valid,
        seed=s.seed,
        version=f"sim-{world.dataset.name}",
        progress=progress,
    )
    student.save(path)
    return Student.load(path)  # every run, first or cached, starts from the very same weights
