"""Scoring a ranker on a leave-one-out task: full-catalog ranks in user batches, accuracy, beyond-accuracy metrics
and the reported slices (the harness's protocol: see `harness`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from dragonrec.recommender.core.base import Ranker
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
from dragonrec.recommender.core.types import Context, HistoryEvent
from dragonrec.recommender.evaluation.baselines import PipelineRanker
from dragonrec.recommender.evaluation.dataset import Split

KS = (5, 10, 20)
BEYOND_K = 10  # beyond-accuracy metrics describe the page a shop would show
COLD_USER_MAX_TRAIN = 3  # slice: users with <= 3 training items (the 5-core minimum leaves exactly 3)
RARE_ITEM_MAX_COUNT = 5  # slice: test targets seen <= 5 times in training (long tail)
CROSS_CATEGORY = "cross-category targets (leaf category differs from the last item's)"
BATCH_USERS = 256  # 256 x 12k float32 scores = 12 MB: fits cache-friendly chunks, amortises Python overhead
SPLITS = ("loo", "loo-valid")  # "loo-valid": predict the validation target from train only (for tuning)


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
    limits: contextlib.AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits
