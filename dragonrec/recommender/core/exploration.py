"""Exploration with exact propensities: the first slots stay deterministic, the tail is sampled.

    >>> config = ExplorationConfig(deterministic_slots=3, pool=10, temperature=0.05)
    >>> explored = explore(page_scores, config=config, seed=seed_from_request(request_id))
    >>> explored.order            # indices into the page, in the order to show them
    >>> explored.propensities     # P(this item at this position | request), 1.0 for the deterministic slots

Why this shape: an item never shown can never be clicked, so learning only from what the greedy ranking showed
keeps the model blind to its own mistakes (the feedback loop every production recommender fights). Sampling the
tail keeps the slots that earn most of the clicks stable, and logging the exact probability of each placement
makes the clicks usable by unbiased off-policy estimators (Li et al., WSDM 2011; Joachims et al., WSDM 2017) and
by inverse-propensity-weighted training (Chen et al., "Top-K off-policy correction", WSDM 2019).

The tail is a Plackett-Luce sample without replacement from the `pool` best remaining items, with a softmax of
their scores at `temperature` (Plackett 1975; Luce 1959). The propensity logged for each sampled item is its
*marginal* probability of landing at that position, computed exactly by dynamic programming over the subsets of
the pool already placed: 2^pool states, so the pool is capped at MAX_POOL (4,096 states, ~0.2 ms).

Deterministic given the seed: the same request id reproduces the same list.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, fields

import numpy as np

from dragonrec.recommender.core.defaults import EXPLORATION_DEFAULTS
from dragonrec.recommender.core.types import ScoredItem

MAX_POOL = 12  # 2^12 subset states: exact marginals in well under a millisecond


@dataclass(frozen=True)
class ExplorationConfig:
    # Defaults: core.defaults.EXPLORATION_DEFAULTS (the RECOMMENDER["EXPLORATION"] of an exploring scenario).
    enabled: bool = EXPLORATION_DEFAULTS["enabled"]
    # the top slots take most clicks (position bias): keep them the ranker's
    deterministic_slots: int = EXPLORATION_DEFAULTS["deterministic_slots"]
    pool: int = EXPLORATION_DEFAULTS["pool"]  # candidates the tail is sampled from: the best `pool` not yet placed
    # softmax temperature over scores in [0, 1]: lower = closer to the greedy list
    temperature: float = EXPLORATION_DEFAULTS["temperature"]

    def __post_init__(self) -> None:
        if self.deterministic_slots < 0 or self.pool < 1 or self.temperature <= 0:
            raise ValueError(f"invalid exploration settings: {self}")

    @classmethod
    def from_dict(cls, values: dict[str, object] | None) -> ExplorationConfig:
        """From the `EXPLORATION` setting of one scenario (unknown keys are an error, missing ones default)."""
        if not values:
            return cls(enabled=False)
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown EXPLORATION keys: {sorted(unknown)}")
        return cls(**values)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "deterministic_slots": self.deterministic_slots,
            "pool": self.pool,
            "temperature": self.temperature,
        }


@dataclass(frozen=True)
class Explored:
    order: list[int]  # indices into the input, in display order (same length as the input)
    propensities: list[float]  # per displayed position: P(this item at this position | request)


def seed_from_request(request_id: object) -> int:
    """A 64-bit seed from a request id (UUID or str): the list of a request can be reproduced from its id."""
    return int.from_bytes(hashlib.blake2b(str(request_id).encode(), digest_size=8).digest(), "big")


def softmax_weights(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = (scores - scores.max()) / temperature
    w = np.exp(z)
    return np.asarray(w / w.sum())


@functools.cache
def _subset_tables(m: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """For m items: each subset's members as a (2^m, m) 0/1 matrix, and the subsets of each size."""
    states = np.arange(1 << m)
    members = ((states[:, None] >> np.arange(m)) & 1).astype(np.float64)
    sizes = members.sum(axis=1).astype(int)
    return members, [np.nonzero(sizes == k)[0] for k in range(m + 1)]


def plackett_luce_marginals(weights: np.ndarray, slots: int) -> np.ndarray:
    """P(item i is drawn k-th) for k < slots, sampling without replacement with probability proportional to
    `weights`: a (slots, len(weights)) matrix, exact (read-only). Dynamic programming over the subsets already
    drawn; remembered for the latest pools, since a list served again (the scored-candidate memo) draws from the
    same pool scores."""
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if len(weights) > MAX_POOL:
        raise ValueError(f"pool of {len(weights)} exceeds MAX_POOL={MAX_POOL}")
    return _marginals(weights.tobytes(), slots)


@functools.lru_cache(maxsize=4096)
def _marginals(weights_bytes: bytes, slots: int) -> np.ndarray:
    weights = np.frombuffer(weights_bytes, dtype=np.float64)
    m = len(weights)
    slots = min(slots, m)
    members, by_size = _subset_tables(m)
    # the weight left after drawing S, summed directly (total minus drawn would cancel to noise when the first
    # items hold nearly all the weight, as at a cold temperature)
    left = (1.0 - members) @ weights
    reach = np.zeros(1 << m)  # P(the first |S| draws are exactly the set S)
    reach[0] = 1.0
    bits = 1 << np.arange(m)
    marginals = np.zeros((slots, m))
    for k in range(slots):
        states = by_size[k]
        # P(next draw is i | drawn set S) for every S of size k and every i not in S
        live = states[(reach[states] > 0) & (left[states] > 0)]
        # weight / weight-left (<= 1) first: at a cold temperature the weight left can be ~1e-300
        step = reach[live][:, None] * (weights[None, :] / left[live][:, None]) * (1.0 - members[live])
        marginals[k] = step.sum(axis=0)
        if k + 1 < slots:
            np.add.at(reach, (live[:, None] | bits[None, :]).ravel(), step.ravel())
    marginals.setflags(write=False)  # shared by every caller with the same pool
    return marginals


def plackett_luce_sample(logits: np.ndarray, rng: np.random.Generator) -> list[int]:
    """A full ordering drawn from the Plackett-Luce model with weights exp(logits): the Gumbel-max trick (sorting
    logits plus Gumbel noise) draws exactly the sequential "next item proportional to its weight among the rest"
    process in one vectorised step (Yellott 1977; Kool et al., ICML 2019). Logits, not weights: at a cold
    temperature most weights underflow to 0, and ties among them would be broken by the noise alone instead of by
    the scores (the cold limit must be the ranking itself)."""
    keys = np.asarray(logits, dtype=np.float64) + rng.gumbel(size=len(logits))
    return [int(i) for i in np.argsort(-keys, kind="stable")]


def explore(scores: np.ndarray | list[float], *, config: ExplorationConfig, seed: int) -> Explored:
    """Keep the first `deterministic_slots` of a page ranked by `scores` (descending, as given) and re-draw the
    next slots from the `pool` following items. Items past the pool keep their place. Returns the display order
    and each position's exact propensity."""
    n = len(scores)
    identity = Explored(order=list(range(n)), propensities=[1.0] * n)
    if not config.enabled or n <= config.deterministic_slots + 1:
        return identity
    head = config.deterministic_slots
    pool = min(config.pool, MAX_POOL, n - head)
    pool_scores = np.asarray(scores[head : head + pool], dtype=np.float64)
    weights = softmax_weights(pool_scores, config.temperature)
    rng = np.random.default_rng(seed)
    drawn = plackett_luce_sample(pool_scores / config.temperature, rng)
    marginals = plackett_luce_marginals(weights, pool)
    order = list(range(head)) + [head + i for i in drawn] + list(range(head + pool, n))
    propensities = [1.0] * head + [float(marginals[k, i]) for k, i in enumerate(drawn)] + [1.0] * (n - head - pool)
    return Explored(order=order, propensities=propensities)


PINNED = "pinned"  # ScoredItem.source of merchant pins: never moved by exploration


def pool_size(config: ExplorationConfig, n: int) -> int:
    """How many items past the page the ranker must supply so the tail has a pool to be drawn from."""
    if not config.enabled or n <= config.deterministic_slots:
        return 0
    return max(0, min(config.pool, MAX_POOL) - (n - config.deterministic_slots))


def explore_page(page: list[ScoredItem], *, n: int, config: ExplorationConfig, seed: int) -> list[ScoredItem]:
    """The shown page of `n` items from a ranked page of up to `n + pool_size(config, n)`: pins keep their
    positions, the first `deterministic_slots` other items keep theirs, the rest of the page is drawn from the
    next `pool` items (Plackett-Luce over their scores), each with its exact propensity."""
    if not config.enabled:
        return page[:n]
    pins = [(i, item) for i, item in enumerate(page[:n]) if item.source == PINNED]
    free = [item for item in page if item.source != PINNED]
    free_slots = n - len(pins)
    head = min(config.deterministic_slots, free_slots)
    tail = free_slots - head
    pool = min(config.pool, MAX_POOL, len(free) - head)
    if tail <= 0 or pool <= 1:
        chosen = [i.with_propensity(1.0) for i in free[:free_slots]]
    else:
        drawn = min(tail, pool)  # a page longer than head + pool: the slots past the pool stay the ranker's
        scores = np.array([item.score for item in free[head : head + pool]], dtype=np.float64)
        weights = softmax_weights(scores, config.temperature)
        order = plackett_luce_sample(scores / config.temperature, np.random.default_rng(seed))[:drawn]
        marginals = plackett_luce_marginals(weights, drawn)
        chosen = [i.with_propensity(1.0) for i in free[:head]]
        for slot, k in enumerate(order):
            item = free[head + k]
            chosen.append(item.with_propensity(float(marginals[slot, k])))
        rest = free[head + pool : head + pool + tail - drawn]
        chosen += [i.with_propensity(1.0) for i in rest]
    for position, item in pins:
        chosen.insert(position, item.with_propensity(1.0))
    return chosen[:n]
