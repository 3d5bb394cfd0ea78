"""Off-policy estimators on synthetic logs whose true value is known: unbiased within their intervals."""

from __future__ import annotations

import numpy as np
import pytest

from dragonrec.recommender.core import offpolicy
from dragonrec.recommender.core.exploration import plackett_luce_marginals, softmax_weights

ITEMS, SLOTS = 8, 4
RELEVANCE = np.linspace(0.5, 0.05, ITEMS)  # item 0 is the most clickable
POSITION_BIAS = 1.0 / np.log2(np.arange(SLOTS) + 2)  # examination falls with the slot (DCG's curve)
CTR = RELEVANCE[:, None] * POSITION_BIAS[None, :]  # item-position click model
LOGGING = softmax_weights(np.linspace(1.0, 0.3, ITEMS), 0.25)  # a fairly exploratory logger
TARGET = softmax_weights(np.linspace(0.2, 1.0, ITEMS) * -1 + 1.2, 0.15)  # a different ranking


def true_value(weights: np.ndarray) -> float:
    marginals = plackett_luce_marginals(weights, SLOTS)  # (slot, item)
    return float((marginals * CTR.T).sum() / SLOTS)


def draw_log(n_lists: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    keys = np.log(LOGGING)[None, :] + rng.gumbel(size=(n_lists, ITEMS))
    shown = np.argsort(-keys, axis=1)[:, :SLOTS]  # Plackett-Luce lists of SLOTS items
    m_log = plackett_luce_marginals(LOGGING, SLOTS)
    m_tgt = plackett_luce_marginals(TARGET, SLOTS)
    slots = np.tile(np.arange(SLOTS), n_lists)
    items = shown.ravel()
    reward = (rng.random(len(items)) < CTR[items, slots]).astype(float)
    return {
        "reward": reward,
        "pscore": m_log[slots, items],
        "target_pscore": m_tgt[slots, items],
        "lists": np.repeat(np.arange(n_lists), SLOTS),
        "slots": slots,
        "items": items,
    }


def dr_inputs(log: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    model = offpolicy.position_ctr_model(reward=log["reward"], positions=log["slots"], items=log["items"])
    table = np.array([[model.get((i, k), 0.0) for k in range(SLOTS)] for i in range(ITEMS)])
    m_tgt = plackett_luce_marginals(TARGET, SLOTS)
    predicted_target = (m_tgt * table.T).sum(axis=1)[log["slots"]]
    return table[log["items"], log["slots"]], predicted_target


@pytest.mark.parametrize("estimator", ["ips", "snips", "dr"])
def test_intervals_cover_the_true_value_about_95_percent_of_the_time(estimator: str) -> None:
    truth = true_value(TARGET)
    rng = np.random.default_rng(7)
    covered, errors = 0, []
    repeats = 120
    for _ in range(repeats):
        log = draw_log(1500, rng)
        args = {k: log[k] for k in ("reward", "pscore", "target_pscore", "lists")}
        if estimator == "ips":
            est = offpolicy.ips(**args)
        elif estimator == "snips":
            est = offpolicy.snips(**args)
        else:
            logged, target = dr_inputs(log)
            est = offpolicy.dr(**args, predicted_logged=logged, predicted_target=target)
        covered += est.ci[0] <= truth <= est.ci[1]
        errors.append(est.value - truth)
    assert 0.88 <= covered / repeats <= 1.0, f"{estimator} covered {covered}/{repeats}"
    # unbiased: the mean error is small against the spread of single estimates
    assert abs(np.mean(errors)) < 3 * np.std(errors) / np.sqrt(repeats)


def test_the_logging_policy_estimates_itself_exactly_by_its_click_rate() -> None:
    log = draw_log(500, np.random.default_rng(1))
    est = offpolicy.ips(reward=log["reward"], pscore=log["pscore"], target_pscore=log["pscore"], lists=log["lists"])
    assert est.value == pytest.approx(log["reward"].mean())
    assert est.max_weight == pytest.approx(1.0)


def test_clipping_caps_the_weights_and_lowers_variance() -> None:
    rng = np.random.default_rng(3)
    plain, clipped = [], []
    for _ in range(40):
        log = draw_log(400, rng)
        args = {k: log[k] for k in ("reward", "pscore", "target_pscore", "lists")}
        plain.append(offpolicy.ips(**args).value)
        clipped_est = offpolicy.ips(**args, clip=1.0)
        assert clipped_est.max_weight <= 1.0 < offpolicy.ips(**args).max_weight
        clipped.append(clipped_est.value)
    assert np.std(clipped) < np.std(plain)


def test_a_zero_propensity_is_refused() -> None:
    with pytest.raises(ValueError, match="propensity"):
        offpolicy.ips(reward=[1.0], pscore=[0.0], target_pscore=[0.5], lists=[1])


def test_an_empty_log_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        offpolicy.snips(reward=[], pscore=[], target_pscore=[], lists=[])


def test_an_estimate_from_a_single_list_is_json_safe() -> None:
    # given: one list, so no interval can be computed
    import json

    from dragonrec.recommender.core.offpolicy import snips

    estimate = snips(reward=[1.0, 0.0], pscore=[1.0, 0.5], target_pscore=[1.0, 1.0], lists=["a", "a"])
    # then: what is stored in a JSON column has no infinities
    assert json.loads(json.dumps(estimate.as_dict(), allow_nan=False))["ci"] is None
