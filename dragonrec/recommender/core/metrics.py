"""Offline metrics: accuracy for one held-out target, and beyond-accuracy properties of recommendation lists.

The one ranking-metrics module: the evaluation harness, the student's training (early stopping) and the promotion
gate all rank targets with `target_ranks` (ties count against the target) and score them with these functions.
Accuracy functions take 1-based ranks of the target (vectorised over users):

    >>> ranks = target_ranks(scores, targets)        # scores (users, items), targets (users,)
    >>> recall_at_k(ranks, 10), ndcg_at_k(ranks, 10), mrr(ranks), ranking_metrics(ranks, ks=(5, 10))

List metrics take a (users, k) integer matrix of recommended item indices:

    >>> intra_list_diversity(top, vectors).mean(), category_coverage(top, category_codes).mean()
    >>> catalog_coverage(top, n_items), novelty(top, popularity_counts, n_users)

Complement rate takes one context product and its list, with co-occurrence from the training sessions:

    >>> partners = cooccurring_items(train_sequences_of_ids, window=5)
    >>> complement_rate(context_id, page_ids, category_of=category_by_id, cooccurring=partners)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np

from dragonrec.recommender.core.types import ProductId


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each row's target. Ties count against the target (a ranker that scores everything 0 gets
    the worst rank, not the best), so constant or masked (-inf) scores never look good."""
    scores = np.asarray(scores)
    target_scores = scores[np.arange(len(scores)), np.asarray(targets)][:, None]
    ahead = (scores > target_scores) | (scores == target_scores)
    return np.asarray(ahead.sum(axis=1))  # includes the target itself, hence 1-based


def recall_at_k(ranks: np.ndarray | int, k: int) -> float:
    """Share of users whose single target is in the top k (= HR@k with one target)."""
    return float(np.mean(np.asarray(ranks) <= k))


def ndcg_at_k(ranks: np.ndarray | int, k: int) -> float:
    """With one relevant item the ideal DCG is 1, so NDCG@k = 1 / log2(rank + 1) inside the top k, else 0."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return float(np.mean(np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)))


def ranking_metrics(ranks: np.ndarray, ks: Sequence[int] = (5, 10, 20)) -> dict[str, float]:
    """recall@k and ndcg@k for each k, from 1-based target ranks (`target_ranks`); 0.0 for no users."""
    ranks = np.asarray(ranks)
    out: dict[str, float] = {}
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(ranks, k) if len(ranks) else 0.0
        out[f"ndcg@{k}"] = ndcg_at_k(ranks, k) if len(ranks) else 0.0
    return out


def mrr(ranks: np.ndarray | int) -> float:
    """Mean reciprocal rank over the full ranking (not cut at k)."""
    return float(np.mean(1.0 / np.asarray(ranks, dtype=np.float64)))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(users, k) indices of the highest scores, best first; ties broken by lower index (reproducible)."""
    scores = np.asarray(scores)
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1)


def intra_list_diversity(lists: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Per list, the mean pairwise cosine distance (1 - cos) of its items' unit vectors (Ziegler et al. WWW 2005)."""
    lists = np.atleast_2d(np.asarray(lists))
    k = lists.shape[1]
    if k < 2:
        return np.zeros(len(lists))
    stacked = np.asarray(vectors, dtype=np.float32)[lists]  # (users, k, dim)
    gram = np.einsum("ukd,ujd->ukj", stacked, stacked)
    off_diagonal = gram.sum(axis=(1, 2)) - np.trace(gram, axis1=1, axis2=2)
    return np.asarray(1.0 - off_diagonal / (k * (k - 1)))


def category_coverage(lists: np.ndarray, category_codes: np.ndarray) -> np.ndarray:
    """Per list, the number of distinct leaf categories (integer codes per item)."""
    codes = np.sort(np.asarray(category_codes)[np.atleast_2d(np.asarray(lists))], axis=1)
    return np.asarray(1 + (np.diff(codes, axis=1) != 0).sum(axis=1))


def catalog_coverage(lists: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one user's list (aggregate diversity, Adomavicius & Kwon
    TKDE 2012)."""
    return float(len(np.unique(np.asarray(lists))) / n_items) if n_items else 0.0


def novelty(lists: np.ndarray, popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2 p(i) of recommended items, p(i) = share of users who interacted with i
    (Zhou et al. PNAS 2010), Laplace-smoothed so an item nobody touched gets a finite, maximal value."""
    p = (np.asarray(popularity, dtype=np.float64) + 1.0) / (n_users + 1.0)
    return float(np.mean(-np.log2(p[np.asarray(lists)])))


def complement_rate(
    context_id: ProductId,
    items: Sequence[ProductId],
    *,
    category_of: Mapping[ProductId, str],
    cooccurring: Mapping[ProductId, Collection[ProductId]],
) -> float:
    """Share of `items` that sit in another leaf category than the context product *and* co-occur with it in real
    data (a proxy for "goes with it": the datasets carry no also_bought lists)."""
    if not items:
        return 0.0
    context_category = category_of.get(context_id, "")
    partners = cooccurring.get(context_id, ())
    hits = sum(1 for i in items if i in partners and category_of.get(i, "") != context_category)
    return hits / len(items)


def cooccurring_items(
    sessions: Iterable[Sequence[ProductId]], *, window: int | None = None
) -> dict[ProductId, set[ProductId]]:
    """For each product, the other products seen within `window` positions of it in at least one session (the whole
    session when `window` is None): the "co-occur in real data" half of `complement_rate`.

    Plain co-occurrence, no count threshold or PMI, so the metric does not share the complement source's own notion
    of what goes together. Symmetric; a product is never its own partner.
    """
    if window is not None and window < 1:
        raise ValueError(f"window must be >= 1 or None, got {window}")
    partners: dict[ProductId, set[ProductId]] = {}
    for session in sessions:
        items = list(session)
        for position, item in enumerate(items):
            end = len(items) if window is None else min(len(items), position + window + 1)
            for other in items[position + 1 : end]:
                if other != item:
                    partners.setdefault(item, set()).add(other)
                    partners.setdefault(other, set()).add(item)
    return partners
