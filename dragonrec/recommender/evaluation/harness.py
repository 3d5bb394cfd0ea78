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

import contextlib
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
from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.metrics import (
    catalog_coverage,
    category_coverage,
    intra_list_diversity,
    mrr,
    ndcg_at_k,
    novelty,
    ranking_metrics,
    recall_at_k,
    target_ranks,
    top_k,
)
from dragonrec.recommender.core.pipeline import (
    PIPELINE_DEFAULTS,
    PipelineConfig,
    build_pipeline,
    pipeline_config_from_settings,
)
from dragonrec.recommender.core.rankers import EmbeddingRanker
from dragonrec.recommender.core.types import Context, HistoryEvent
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

log = logging.getLogger(__name__)

# Caches and reports go under ./var of the working directory (the repository when run from bench/ or manage.py),
# or DRAGONREC_VAR_DIR: never inside the installed package.
VAR_DIR = Path(os.environ.get("DRAGONREC_VAR_DIR", "var")).resolve()
DEFAULT_CACHE_DIR = VAR_DIR / "cache" / "embeddings"
DEFAULT_OUT_ROOT = VAR_DIR / "eval"

KS = (5, 10, 20)
BEYOND_K = 10  # beyond-accuracy metrics describe the page a shop would show
COLD_USER_MAX_TRAIN = 3  # slice: users with <= 3 training items (the 5-core minimum leaves exactly 3)
RARE_ITEM_MAX_COUNT = 5  # slice: test targets seen <= 5 times in training (long tail)
CROSS_CATEGORY = "cross-category targets (leaf category differs from the last item's)"
BATCH_USERS = 256  # 256 x 12k float32 scores = 12 MB: fits cache-friendly chunks, amortises Python overhead
DEFAULT_RANKERS = ("popularity", "itemknn", "embedding", "pipeline", "student", "served")
SPLITS = ("loo", "loo-valid")  # "loo-valid": predict the validation target from train only (for tuning)


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
    products = split.dataset.products
    store = InMemoryProductStore.from_sessions(products, list(split.train.values()))
    index = InMemoryVectorIndex(range(len(products)), res.item_vectors, products=products)
    return store, index


def _build_pipeline(split: Split, res: EvalResources, config: PipelineConfig | None = None) -> Ranker:
    """What serves before any student is trained: `build_pipeline` (as serving calls it) with the embedding ranker,
    the settings of the `served` ranker (or `config`), on in-memory stores built from the training events only."""
    store, index = eval_stores(split, res)
    settings = served_settings(res)
    # No embedder: the datasets carry no stated preferences, the only thing the pipeline would embed at request time.
    pipeline = build_pipeline(
        products=store,
        index=index,
        embedder=None,
        ranker=EmbeddingRanker(products=store, index=index),
        config=config or pipeline_config_from_settings(settings),
        sources=settings["CANDIDATE_SOURCES"],
    )
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
    return {**PIPELINE_DEFAULTS, **res.settings, **(settings or {})}


def build_served(split: Split, res: EvalResources, settings: dict[str, Any] | None = None) -> PipelineRanker:
    """What shoppers get once a student is active: `core.pipeline.build_pipeline`, the function serving calls, with
    the RECOMMENDER defaults (plus `res.settings`, plus `settings`), the train-part student as ranker and source,
    and the full re-rank (diversity, category cap)."""
    student = split_student(split, res)
    from dragonrec.recommender.ml.ranker import StudentRanker

    store, index = eval_stores(split, res)
    merged = served_settings(res, settings)
    pipeline = build_pipeline(
        products=store,
        index=index,
        embedder=None,
        ranker=StudentRanker(student, index=index),
        config=pipeline_config_from_settings(merged),
        sources=merged["CANDIDATE_SOURCES"],
    )
    # "EXPLORATION" (RECOMMENDER's shape, per scenario) in the settings: the home page's exploring draw is what is
    # ranked, so its accuracy cost shows (absent, as in PIPELINE_DEFAULTS: the ranked page itself)
    home = merged.get("EXPLORATION", {}).get("home")
    ranker = PipelineRanker(pipeline, n=max(KS), exploration=ExplorationConfig.from_dict(home) if home else None)
    ranker.name = "served"
    return ranker


RANKERS: dict[str, Callable[[Split, EvalResources], Ranker]] = {
    "popularity": lambda split, res: PopularityRanker(split.train.values(), n_items=split.dataset.n_items),
    "itemknn": lambda split, res: ItemKNNRanker(split.train.values(), n_items=split.dataset.n_items),
    "embedding": lambda split, res: MeanEmbeddingRanker(res.item_vectors),
    "pipeline": _build_pipeline,
    # Ablation: the same pipeline without MMR, category bonus and cap, i.e. the accuracy price of diversity.
    "pipeline-nodiv": lambda split, res: _build_pipeline(
        split, res, PipelineConfig(diversity=0.0, category_cap=None, category_bonus=0.0)
    ),
    "random": lambda split, res: RandomRanker(seed=res.seed),
    "oracle": lambda split, res: OracleRanker(split.test_target),  # sanity checks only: knows the answer
    "student": _build_student,
    "served": build_served,
    # BSARec (AAAI 2024), its published hyperparameters, trained by the student's trainer: the anchor, side by side
    "bsarec": lambda split, res: _build_bsarec(split, res),
}


@dataclass(frozen=True)
class Task:
    """Who is evaluated on what: per user, the ranker's input history and the held-out target."""

    users: list[str]
    inputs: list[list[HistoryEvent]]
    targets: np.ndarray


def make_task(split: Split, which: str) -> Task:
    if which not in SPLITS:
        raise ValueError(f"unknown split {which!r}; expected one of {SPLITS}")
    if which == "loo":
        inputs = [split.test_input(u) for u in split.users]
        targets = [split.test_target[u] for u in split.users]
    else:
        inputs = [split.valid_input(u) for u in split.users]
        targets = [split.valid_target[u] for u in split.users]
    return Task(users=list(split.users), inputs=inputs, targets=np.array(targets, dtype=np.int64))


def rank_all(ranker: Ranker, task: Task, n_items: int, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Full-catalog scores in user batches -> (ranks of the targets, top-max(KS) lists)."""
    from tqdm import tqdm

    catalog = np.arange(n_items)  # an array, not a range: rankers index numpy arrays with it
    ranks, tops = [], []
    bar = tqdm(total=len(task.users), desc=ranker.label or "ranker", unit="user", disable=not progress, leave=False)
    for start in range(0, len(task.users), BATCH_USERS):
        users = task.users[start : start + BATCH_USERS]
        inputs = task.inputs[start : start + BATCH_USERS]
        contexts = [
            Context(history=history, n=max(KS), exclude_ids={e.product_id for e in history}, user_key=user)
            for user, history in zip(users, inputs, strict=True)
        ]
        # An ndarray of ids is a sequence at runtime, but numpy's stubs do not make it a typing.Sequence.
        scores = np.array(ranker.score_batch(contexts, catalog), dtype=np.float32)  # type: ignore[arg-type]
        rows = np.repeat(np.arange(len(inputs)), [len(h) for h in inputs])
        cols = np.fromiter((e.product_id for h in inputs for e in h), dtype=np.int64, count=len(rows))
        scores[rows, cols] = -np.inf  # the user's own history is never a recommendation
        ranks.append(target_ranks(scores, task.targets[start : start + BATCH_USERS]))
        tops.append(top_k(scores, max(KS)))
        bar.update(len(users))
    bar.close()
    return np.concatenate(ranks), np.concatenate(tops)


def accuracy(ranks: np.ndarray) -> dict[str, float]:
    out = ranking_metrics(ranks, KS)
    out["mrr"] = mrr(ranks)
    return out


@dataclass(frozen=True)
class Catalog:
    """Per-item facts the beyond-accuracy metrics need."""

    vectors: np.ndarray
    category_codes: np.ndarray
    popularity: np.ndarray  # number of training users who interacted with the item
    n_train_users: int


def make_catalog(split: Split, vectors: np.ndarray) -> Catalog:
    codes: dict[str, int] = {}
    category_codes = np.array([codes.setdefault(p.category, len(codes)) for p in split.dataset.products])
    popularity = np.zeros(split.dataset.n_items)
    for events in split.train.values():
        popularity[list({e.product_id for e in events})] += 1
    return Catalog(vectors, category_codes, popularity, len(split.train))


def beyond_accuracy(top: np.ndarray, catalog: Catalog) -> dict[str, float]:
    lists = top[:, :BEYOND_K]
    return {
        f"ild@{BEYOND_K}": float(intra_list_diversity(lists, catalog.vectors).mean()),
        f"category_coverage@{BEYOND_K}": float(category_coverage(lists, catalog.category_codes).mean()),
        f"catalog_coverage@{BEYOND_K}": catalog_coverage(lists, len(catalog.vectors)),
        f"novelty@{BEYOND_K}": novelty(lists, catalog.popularity, catalog.n_train_users),
    }


def slices(split: Split, task: Task, catalog: Catalog) -> dict[str, np.ndarray]:
    """Boolean user masks for the reported slices."""
    train_len = np.array([len(split.train[u]) for u in task.users])
    return {
        f"cold users (<= {COLD_USER_MAX_TRAIN} train items)": train_len <= COLD_USER_MAX_TRAIN,
        f"rare targets (<= {RARE_ITEM_MAX_COUNT} train users)": catalog.popularity[task.targets] <= RARE_ITEM_MAX_COUNT,
        CROSS_CATEGORY: cross_category(split, task),
    }


def cross_category(split: Split, task: Task) -> np.ndarray:
    """Users whose target's leaf category differs from their last input item's: "what comes next is something
    else", the case the design's complaint is about (after a monitor, not another monitor). Unknown categories
    never count as different."""
    products = split.dataset.products
    out = np.zeros(len(task.users), dtype=bool)
    for row, (history, target) in enumerate(zip(task.inputs, task.targets, strict=True)):
        if not history:
            continue
        last, wanted = products[history[-1].product_id].category, products[int(target)].category
        out[row] = bool(last) and bool(wanted) and last != wanted
    return out


def evaluate(ranker: Ranker, split: Split, task: Task, catalog: Catalog, *, progress: bool = False) -> dict[str, Any]:
    ranks, top = rank_all(ranker, task, split.dataset.n_items, progress=progress)
    result: dict[str, Any] = {"users": len(task.users), **accuracy(ranks), **beyond_accuracy(top, catalog)}
    result["slices"] = {
        name: {
            "users": int(mask.sum()),
            "recall@10": recall_at_k(ranks[mask], 10),
            "ndcg@10": ndcg_at_k(ranks[mask], 10),
        }
        if mask.any()
        else {"users": 0, "recall@10": 0.0, "ndcg@10": 0.0}
        for name, mask in slices(split, task, catalog).items()
    }
    if isinstance(ranker, PipelineRanker):
        result["pipeline_labels"] = dict(sorted(ranker.labels.items()))
    return result


def single_threaded_blas() -> contextlib.AbstractContextManager[object]:
    """Limit BLAS to one thread. The per-request pipeline does many small matrix-vector products, which a
    multi-threaded OpenBLAS makes ~7x slower on a busy 2-core machine (thread hand-off costs more than the work).
    threadpoolctl is optional: without it, set OPENBLAS_NUM_THREADS=1 (bench/evaluate.py does)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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
