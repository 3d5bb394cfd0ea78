"""Offline evaluation: leave-one-out by time, full ranking over the catalog, accuracy + beyond-accuracy metrics.

    >>> results = run_evaluation(dataset_path="../shared/data/amazon_beauty", rankers=["popularity", "itemknn"],
    ...                          out_dir=Path("var/eval/beauty"))
    >>> results["rankers"]["itemknn"]["ndcg@10"]

Protocol (SASRec/TIGER convention, ../shared/data/README.md): per user the last event is the test target, the
second-to-last the validation target, the rest training history. Every ranker is fitted on the training part of
*all* users; at test time its input is train + the validation item. The user's input items are excluded from the
ranking (score -inf), ties count against the target. A new ranker is one entry in `RANKERS`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.embedder import Embedder, SentenceTransformerEmbedder, cached_encode
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.pipeline import PipelineConfig
from dragonrec.recommender.core.rankers import EmbeddingRanker
from dragonrec.recommender.core.rerank import RerankConfig
from dragonrec.recommender.evaluation.baselines import (
    ItemKNNRanker,
    MeanEmbeddingRanker,
    OracleRanker,
    PipelineRanker,
    PopularityRanker,
    RandomRanker,
)
from dragonrec.recommender.evaluation.dataset import Split, leave_one_out, load_dataset
from dragonrec.recommender.evaluation.report import markdown_report, plot_results
from dragonrec.recommender.evaluation.scoring import (
    BATCH_USERS,
    BEYOND_K,
    COLD_USER_MAX_TRAIN,
    CROSS_CATEGORY,
    KS,
    RARE_ITEM_MAX_COUNT,
    SPLITS,
    Catalog,
    Task,
    accuracy,
    beyond_accuracy,
    cross_category,
    evaluate,
    make_catalog,
    make_task,
    rank_all,
    single_threaded_blas,
    slices,
)
from dragonrec.recommender.evaluation.served import (
    memory_stores,
    served_exploration,
    served_pipeline,
    served_student_pipeline,
)
from dragonrec.recommender.evaluation.served import (
    served_settings as merge_served_settings,
)

# The scoring names stay importable from here (bench/ and the tests read them as the harness's).
__all__ = [
    "BATCH_USERS",
    "BEYOND_K",
    "COLD_USER_MAX_TRAIN",
    "CROSS_CATEGORY",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_OUT_ROOT",
    "DEFAULT_RANKERS",
    "KS",
    "RANKERS",
    "RARE_ITEM_MAX_COUNT",
    "SPLITS",
    "Catalog",
    "EvalResources",
    "RankerUnavailable",
    "Task",
    "accuracy",
    "beyond_accuracy",
    "build_served",
    "cross_category",
    "evaluate",
    "make_catalog",
    "make_task",
    "rank_all",
    "run_evaluation",
    "served_settings",
    "single_threaded_blas",
    "slices",
    "split_student",
]

log = logging.getLogger(__name__)

# Caches and reports go under ./var of the working directory (the repository when run from bench/ or manage.py),
# or DRAGONREC_VAR_DIR: never inside the installed package.
VAR_DIR = Path(os.environ.get("DRAGONREC_VAR_DIR", "var")).resolve()
DEFAULT_CACHE_DIR = VAR_DIR / "cache" / "embeddings"
DEFAULT_OUT_ROOT = VAR_DIR / "eval"

DEFAULT_RANKERS = ("popularity", "itemknn", "embedding", "pipeline", "student", "served")


class RankerUnavailable(Exception):
    """A ranker that cannot be built here (e.g. the student's module is missing); reported, not fatal."""


@dataclass
class EvalResources:
    """Shared, lazily computed inputs for ranker factories (item text vectors are computed once per run)."""

    split: Split
    seed: int = 0
    progress: bool = True
    cache_dir: Path = DEFAULT_CACHE_DIR
    embedder: Embedder | None = None
    student_cache_dir: Path | None = None  # trained students are kept here and reused (see ml.evaluation)
    student_config: Any = None  # ml.StudentConfig; None = its defaults
    # RECOMMENDER-shaped overrides of the pipeline settings for the `served` ranker (default: the shipped defaults)
    settings: dict[str, Any] = field(default_factory=dict)
    _vectors: np.ndarray | None = field(default=None, repr=False)
    _student: Any = field(default=None, repr=False)

    @property
    def item_vectors(self) -> np.ndarray:
        if self._vectors is None:
            self.embedder = self.embedder or SentenceTransformerEmbedder()
            self._vectors = cached_encode(
                self.embedder, self.split.dataset.texts, self.cache_dir, progress=self.progress
            )
        return self._vectors


def eval_stores(split: Split, res: EvalResources) -> tuple[InMemoryProductStore, InMemoryVectorIndex]:
    """In-memory product store (trending, complements: counts from the training events only, no real clock) and
    vector index (the item text vectors)."""
    return memory_stores(split.dataset.products, list(split.train.values()), res.item_vectors)


def _build_pipeline(split: Split, res: EvalResources, config: PipelineConfig | None = None) -> Ranker:
    """What serves before any student is trained: the served pipeline (`evaluation.served`) with the embedding
    ranker, the settings of the `served` ranker (or `config`), on stores built from the training events only."""
    store, index = eval_stores(split, res)
    ranker = EmbeddingRanker(products=store, index=index)
    pipeline = served_pipeline(store=store, index=index, ranker=ranker, settings=served_settings(res), config=config)
    return PipelineRanker(pipeline, n=max(KS))


def split_student(split: Split, res: EvalResources) -> Any:
    """The student trained on the train part (early-stopped on the validation targets), once per run: the
    `student` and `served` rankers share it (and `res.student_cache_dir` shares it across runs)."""
    if res._student is None:
        try:
            from dragonrec.recommender.ml.evaluation import split_student as train_split_student
        except ImportError as exc:
            raise RankerUnavailable(f"the student (dragonrec.recommender.ml) cannot be imported: {exc}") from exc
        res._student = train_split_student(
            split,
            item_vectors=res.item_vectors,
            seed=res.seed,
            progress=res.progress,
            config=res.student_config,
            cache_dir=res.student_cache_dir,
        )
    return res._student


def _build_student(split: Split, res: EvalResources) -> Ranker:
    student = split_student(split, res)
    from dragonrec.recommender.ml.ranker import StudentRanker

    return StudentRanker(student)


def _build_bsarec(split: Split, res: EvalResources) -> Ranker:
    from dragonrec.recommender.ml.evaluation import build_bsarec_ranker

    return build_bsarec_ranker(split, seed=res.seed, progress=res.progress)


def served_settings(res: EvalResources, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The pipeline settings the `served` ranker runs with: the RECOMMENDER defaults (core.pipeline.PIPELINE_DEFAULTS,
    the same dict recommender.conf serves with), then `res.settings`, then `settings`."""
    return merge_served_settings(res.settings, settings)


def build_served(split: Split, res: EvalResources, settings: dict[str, Any] | None = None) -> PipelineRanker:
    """What shoppers get once a student is active (`evaluation.served`, as the simulator builds it too): the
    RECOMMENDER defaults (plus `res.settings`, plus `settings`), the train-part student as ranker and source, and
    the full re-rank (diversity, category cap)."""
    student = split_student(split, res)
    store, index = eval_stores(split, res)
    merged = served_settings(res, settings)
    pipeline = served_student_pipeline(store=store, index=index, student=student, settings=merged)
    # "EXPLORATION" (RECOMMENDER's shape, per scenario) in the settings: the home page's exploring draw is what is
    # ranked, so its accuracy cost shows (absent, as in PIPELINE_DEFAULTS: the ranked page itself)
    ranker = PipelineRanker(pipeline, n=max(KS), exploration=served_exploration(merged))
    ranker.name = "served"
    return ranker


RANKERS: dict[str, Callable[[Split, EvalResources], Ranker]] = {
    "popularity": lambda split, res: PopularityRanker(split.train.values(), n_items=split.dataset.n_items),
    "itemknn": lambda split, res: ItemKNNRanker(split.train.values(), n_items=split.dataset.n_items),
    "embedding": lambda split, res: MeanEmbeddingRanker(res.item_vectors),
    "pipeline": _build_pipeline,
    # Ablation: the same pipeline without MMR, category bonus and cap, i.e. the accuracy price of diversity.
    "pipeline-nodiv": lambda split, res: _build_pipeline(
        split, res, PipelineConfig(rerank=RerankConfig(diversity=0.0, category_cap=None, category_bonus=0.0))
    ),
    "random": lambda split, res: RandomRanker(seed=res.seed),
    "oracle": lambda split, res: OracleRanker(split.test_target),  # sanity checks only: knows the answer
    "student": _build_student,
    "served": build_served,
    # BSARec (AAAI 2024), its published hyperparameters, trained by the student's trainer: the anchor, side by side
    "bsarec": lambda split, res: _build_bsarec(split, res),
}


def run_evaluation(
    *,
    dataset_path: str | Path,
    rankers: Sequence[str] | None = None,
    split: str = "loo",
    max_users: int | None = None,
    out_dir: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    embedder: Embedder | None = None,
    cache_dir: str | Path | None = None,
    student_cache_dir: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    student_config: Any = None,
) -> dict[str, Any]:
    """Evaluate rankers by name; writes results.json, results.md and results.png to `out_dir` (default
    var/eval/<dataset>) and returns the results dict. Unknown names raise; unavailable rankers are reported."""
    names = list(rankers or DEFAULT_RANKERS)
    unknown = [n for n in names if n not in RANKERS]
    if unknown:
        raise ValueError(f"unknown rankers {unknown}; known: {sorted(RANKERS)}")
    np.random.seed(seed)  # for rankers that (wrongly) use the global generator; ours take explicit seeds
    started = time.perf_counter()
    dataset = load_dataset(dataset_path)
    data_split = leave_one_out(dataset, max_users=max_users, seed=seed)
    task = make_task(data_split, split)
    res = EvalResources(
        split=data_split,
        seed=seed,
        progress=progress,
        embedder=embedder,
        cache_dir=Path(cache_dir or DEFAULT_CACHE_DIR),
        student_cache_dir=Path(student_cache_dir) if student_cache_dir else None,
        settings=dict(settings or {}),
        student_config=student_config,
    )
    catalog = make_catalog(data_split, res.item_vectors)
    results: dict[str, Any] = {
        "settings": _settings(data_split, task, which=split, max_users=max_users, seed=seed, res=res),
        "rankers": {},
        "unavailable": {},
        "timing": {"load_and_embed": round(time.perf_counter() - started, 1)},
    }
    for name in names:
        started = time.perf_counter()
        try:
            ranker = RANKERS[name](data_split, res)
        except RankerUnavailable as exc:
            results["unavailable"][name] = str(exc)
            continue
        except Exception as exc:  # one broken student must not lose a 15-minute run of the others
            if name not in ("student", "served", "bsarec"):
                raise
            log.exception("student ranker failed to build")
            results["unavailable"][name] = f"build failed: {type(exc).__name__}: {exc}"
            continue
        with single_threaded_blas():
            results["rankers"][name] = evaluate(ranker, data_split, task, catalog, progress=progress)
        results["timing"][name] = round(time.perf_counter() - started, 1)
    _write(results, Path(out_dir) if out_dir else DEFAULT_OUT_ROOT / dataset.name)
    return results


def _settings(
    data_split: Split, task: Task, *, which: str, max_users: int | None, seed: int, res: EvalResources
) -> dict[str, Any]:
    dataset = data_split.dataset
    sampled = max_users is not None and len(task.users) < len(data_split.train)
    target = "test target, input = train + validation item" if which == "loo" else "validation target, input = train"
    notes = []
    if sampled:
        notes.append(
            f"Evaluated on a seeded random sample of {len(task.users)} of {len(data_split.train)} users "
            f"(--max-users {max_users}, seed {seed}); rankers are still fitted on every user's training events."
        )
    return {
        "dataset": dataset.name,
        "protocol": f"leave-one-out by time ({target}), full ranking",
        "split": which,
        "seed": seed,
        "max_users": max_users,
        "sampled": sampled,
        "users_evaluated": len(task.users),
        "users_total": len(data_split.train),
        "n_items": dataset.n_items,
        "train_events": sum(len(v) for v in data_split.train.values()),
        "ks": list(KS),
        "beyond_k": BEYOND_K,
        "ties": "counted against the target",
        "history_excluded": True,
        "slice_thresholds": {
            "cold_user_max_train_items": COLD_USER_MAX_TRAIN,
            "rare_item_max_train_users": RARE_ITEM_MAX_COUNT,
        },
        "embedder": res.embedder.name if res.embedder else None,
        "notes": notes,
    }


RESULT_FILES = ("results.json", "results.md", "results.png")


def _write(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    results["settings"]["out_dir"] = str(out_dir)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    (out_dir / "results.md").write_text(markdown_report(results))
    if results["rankers"]:
        plot_results(results, out_dir / "results.png")
