from __future__ import annotations

import math

import numpy as np
import pytest

from dragonrec.recommender.core.metrics import (
    catalog_coverage,
    category_coverage,
    complement_rate,
    cooccurring_items,
    intra_list_diversity,
    mrr,
    ndcg_at_k,
    novelty,
    recall_at_k,
    target_ranks,
    top_k,
)


def test_ranks_are_one_based_and_ties_count_against_the_target() -> None:
    scores = np.array([[0.1, 0.9, 0.5], [1.0, 1.0, 1.0], [0.2, -np.inf, 0.3]])

    assert target_ranks(scores, np.array([2, 0, 1])).tolist() == [2, 3, 3]


def test_accuracy_metrics_known_values() -> None:
    ranks = np.array([1, 3, 11])

    assert recall_at_k(ranks, 10) == pytest.approx(2 / 3)
    assert ndcg_at_k(ranks, 10) == pytest.approx((1.0 + 1 / math.log2(4)) / 3)
    assert ndcg_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 1 / 11) / 3)


def test_top_k_is_sorted_with_ties_broken_by_index() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [0.0, 0.0, 0.0, 1.0]])

    assert top_k(scores, 3).tolist() == [[1, 0, 2], [3, 0, 1]]


def test_beyond_accuracy_metrics_known_values() -> None:
    vectors = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    lists = np.array([[0, 1], [0, 2]])

    assert intra_list_diversity(lists, vectors).tolist() == pytest.approx([1.0, 0.0])
    assert category_coverage(lists, np.array([7, 8, 7])).tolist() == [2, 1]
    assert catalog_coverage(lists, 4) == pytest.approx(3 / 4)
    # item 0 seen by all 3 users, items 1, 2 by nobody: p = 4/4 and 1/4
    assert novelty(lists, np.array([3, 0, 0]), 3) == pytest.approx((0 + 2 + 0 + 2) / 4)


def test_complement_rate_counts_cooccurring_items_of_other_categories() -> None:
    category_of = {1: "Phones", 2: "Cases", 3: "Phones", 4: "Chargers"}
    cooccurring = {1: {2, 3}}

    assert complement_rate(1, [2, 3, 4], category_of=category_of, cooccurring=cooccurring) == pytest.approx(1 / 3)
    assert complement_rate(1, [], category_of=category_of, cooccurring=cooccurring) == 0.0


def test_cooccurring_items_respects_the_window_and_is_symmetric() -> None:
    sessions = [[1, 2, 3, 4], [5, 5, 6]]

    within_one = cooccurring_items(sessions, window=1)
    whole = cooccurring_items(sessions)

    assert within_one == {1: {2}, 2: {1, 3}, 3: {2, 4}, 4: {3}, 5: {6}, 6: {5}}
    assert whole[1] == {2, 3, 4} and whole[4] == {1, 2, 3}
    assert 5 not in whole[5]  # a repeat view is not a partner of itself
    with pytest.raises(ValueError):
        cooccurring_items(sessions, window=0)


def test_complement_rate_from_session_cooccurrence() -> None:
    # given a monitor bought with a cable in one session and next to another monitor in a second one
    category_of = {1: "Monitors", 2: "Cables", 3: "Monitors", 4: "Mice"}
    partners = cooccurring_items([[1, 2], [3, 1]], window=5)

    # then only the cable counts: the other monitor co-occurs but is a substitute, the mouse never co-occurred
    assert complement_rate(1, [2, 3, 4], category_of=category_of, cooccurring=partners) == pytest.approx(1 / 3)


def test_ranking_metrics_use_the_one_tie_rule() -> None:
    from dragonrec.recommender.core.metrics import ranking_metrics

    # the target ties with two others at the top: it ranks 3rd, not 1st
    ranks = target_ranks(np.array([[1.0, 1.0, 1.0, 0.0]]), np.array([0]))

    assert ranks.tolist() == [3]
    assert ranking_metrics(ranks, ks=(1, 5)) == {"recall@1": 0.0, "ndcg@1": 0.0, "recall@5": 1.0, "ndcg@5": 0.5}
