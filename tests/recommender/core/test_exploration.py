"""Exploration: exact propensities, reproducible lists, deterministic head."""

from __future__ import annotations

import dataclasses
import itertools
import uuid

import numpy as np
import pytest
from scipy import stats

from dragonrec.recommender.core.exploration import (
    ExplorationConfig,
    explore,
    explore_page,
    plackett_luce_marginals,
    pool_size,
    seed_from_request,
    softmax_weights,
)
from dragonrec.recommender.core.types import ScoredItem

SCORES = [0.95, 0.9, 0.85, 0.8, 0.78, 0.75, 0.7, 0.6, 0.5, 0.4]


def brute_force_marginals(weights: np.ndarray) -> np.ndarray:
    """P(item i drawn k-th) by enumerating every ordering: the definition the DP must match."""
    m = len(weights)
    out = np.zeros((m, m))
    for order in itertools.permutations(range(m)):
        p, left = 1.0, weights.sum()
        for i in order:
            p *= weights[i] / left
            left -= weights[i]
        for k, i in enumerate(order):
            out[k, i] += p
    return out


def test_the_dynamic_programme_equals_enumerating_every_ordering() -> None:
    weights = softmax_weights(np.array([0.9, 0.7, 0.65, 0.3, 0.1, 0.05]), 0.2)
    np.testing.assert_allclose(plackett_luce_marginals(weights, 6), brute_force_marginals(weights), atol=1e-12)


def test_sampled_propensities_match_observed_frequencies() -> None:
    # given: a 10-item page, the head of 3 kept, the next 7 sampled; many requests
    config = ExplorationConfig(deterministic_slots=3, pool=7, temperature=0.05)
    draws = 20_000
    counts = np.zeros((10, 10))  # (position, item)
    for r in range(draws):
        explored = explore(SCORES, config=config, seed=seed_from_request(f"req-{r}"))
        for position, (item, p) in enumerate(zip(explored.order, explored.propensities, strict=True)):
            counts[position, item] += 1
            if position >= 3:  # what was logged is the exact marginal of that placement
                assert p == pytest.approx(EXPECTED[position - 3, item - 3], rel=1e-9)
    # then: the head never moves, and each sampled slot's frequencies fit its propensities (chi-square)
    assert (np.diag(counts)[:3] == draws).all()
    for position in range(3, 10):
        observed = counts[position, 3:]
        expected = EXPECTED[position - 3] * draws
        assert expected.sum() == pytest.approx(draws)  # a slot's propensities sum to one
        keep = expected >= 5  # the test's validity condition; the rarest cells are pooled
        obs = np.append(observed[keep], observed[~keep].sum())
        exp = np.append(expected[keep], expected[~keep].sum())
        if exp[-1] == 0:
            obs, exp = obs[:-1], exp[:-1]
        assert stats.chisquare(obs, exp).pvalue > 1e-3, f"position {position}"


EXPECTED = plackett_luce_marginals(softmax_weights(np.array(SCORES[3:]), 0.05), 7)


def test_the_head_is_deterministic_and_a_request_id_reproduces_its_list() -> None:
    config = ExplorationConfig(deterministic_slots=3, pool=7, temperature=0.2)
    request_id = uuid.uuid4()
    first = explore(SCORES, config=config, seed=seed_from_request(request_id))
    again = explore(SCORES, config=config, seed=seed_from_request(str(request_id)))
    assert first == again
    assert first.order[:3] == [0, 1, 2] and first.propensities[:3] == [1.0, 1.0, 1.0]
    assert sorted(first.order) == list(range(10))
    others = {tuple(explore(SCORES, config=config, seed=s).order) for s in range(50)}
    assert len(others) > 10  # it does explore


def test_disabled_or_short_pages_are_left_alone() -> None:
    off = explore(SCORES, config=ExplorationConfig(enabled=False), seed=1)
    assert off.order == list(range(10)) and set(off.propensities) == {1.0}
    short = explore(SCORES[:4], config=ExplorationConfig(deterministic_slots=3), seed=1)
    assert short.order == [0, 1, 2, 3]


def test_a_cold_temperature_is_nearly_greedy() -> None:
    explored = explore(SCORES, config=ExplorationConfig(deterministic_slots=0, pool=8, temperature=0.001), seed=3)
    assert explored.order[:8] == list(range(8))
    assert explored.propensities[0] == pytest.approx(1.0)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown EXPLORATION keys"):
        ExplorationConfig.from_dict({"enabled": True, "slots": 2})
    with pytest.raises(ValueError):
        ExplorationConfig(temperature=0)
    assert ExplorationConfig.from_dict(None).enabled is False


def _page(k: int, pins: dict[int, int] | None = None) -> list[ScoredItem]:
    items = [ScoredItem(product_id=100 + i, score=1.0 - i * 0.05, source="student") for i in range(k)]
    for position, pid in (pins or {}).items():
        items.insert(position, ScoredItem(product_id=pid, score=0.0, source="pinned"))
    return items


def test_explore_page_draws_the_tail_from_the_pool_and_keeps_pins_in_place() -> None:
    config = ExplorationConfig(deterministic_slots=2, pool=6, temperature=0.2)
    n = 6
    assert pool_size(config, n) == 2  # 4 tail slots drawn from 6: the ranker supplies 2 more
    seen: set[int] = set()
    for seed in range(200):
        page = explore_page(_page(n + 2, pins={1: 999}), n=n, config=config, seed=seed)
        assert len(page) == n and page[1].product_id == 999 and page[1].propensity == 1.0
        assert [i.product_id for i in page[:1]] == [100] and page[2].product_id == 101  # head: 2 free slots
        tail = page[3:]
        assert all(0 < i.propensity < 1 for i in tail)
        seen |= {i.product_id for i in tail}
    assert seen == {102, 103, 104, 105, 106, 107}  # items past the page get shown


def test_a_page_longer_than_head_and_pool_keeps_its_end() -> None:
    config = ExplorationConfig(deterministic_slots=1, pool=3, temperature=0.5)
    page = explore_page(_page(10), n=10, config=config, seed=5)
    assert [i.product_id for i in page][4:] == [104, 105, 106, 107, 108, 109]
    assert sorted(i.product_id for i in page[1:4]) == [101, 102, 103]


def test_a_cold_temperature_draws_the_ranking_itself() -> None:
    # given: scores whose softmax weights underflow to 0 at this temperature for all but the best item
    config = ExplorationConfig(deterministic_slots=3, pool=7, temperature=1e-6)
    # then: every seed draws the ranking (the noise does not break ties among underflowed weights)
    for r in range(50):
        assert explore(SCORES, config=config, seed=seed_from_request(f"req-{r}")).order == sorted(
            range(len(SCORES)), key=lambda i: -SCORES[i]
        )


def test_marginals_stay_finite_at_a_cold_temperature() -> None:
    weights = softmax_weights(np.array(SCORES[3:]), 1e-4)  # all weights but the best underflow to 0
    marginals = plackett_luce_marginals(weights, 7)
    assert np.isfinite(marginals).all()
    np.testing.assert_allclose(marginals[0, 0], 1.0)


def test_with_propensity_copies_every_field_as_replace_does() -> None:
    """Exploration copies items with ScoredItem.with_propensity (replace written out): a field added to ScoredItem
    and forgotten there would be lost from every explored list."""
    values = {"product_id": 7, "score": 0.25, "source": "student", "reason": "because", "propensity": 0.5}
    values["anchor"] = 3
    assert {f.name for f in dataclasses.fields(ScoredItem)} == set(values)  # a new field: set it here too
    item = ScoredItem(**values)  # type: ignore[arg-type]
    assert item.with_propensity(0.125) == dataclasses.replace(item, propensity=0.125)
    assert item.propensity == 0.5
