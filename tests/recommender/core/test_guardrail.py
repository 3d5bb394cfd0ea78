"""The guardrail's test on synthetic traffic whose truth is known: it rarely cries wolf and catches a clear drop."""

from __future__ import annotations

import numpy as np
import pytest

from dragonrec.recommender.core.guardrail import proportion_worse

LISTS = 2000
DRAWS = 400


def rejection_rate(p_new: float, p_old: float, *, margin: float, alpha: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    new = rng.binomial(LISTS, p_new, size=DRAWS)
    old = rng.binomial(LISTS, p_old, size=DRAWS)
    flagged = [
        proportion_worse(
            new_successes=int(a), new_n=LISTS, old_successes=int(b), old_n=LISTS, margin=margin, alpha=alpha
        ).worse
        for a, b in zip(new, old, strict=True)
    ]
    return float(np.mean(flagged))


def test_an_equally_good_version_is_rarely_rolled_back() -> None:
    # exactly at the margin's boundary the false-alarm rate is alpha; an equal rate is well inside it
    assert rejection_rate(0.10, 0.10, margin=0.0, alpha=0.05, seed=1) < 0.05 + 3 * np.sqrt(0.05 * 0.95 / DRAWS)
    assert rejection_rate(0.10, 0.10, margin=0.05, alpha=0.05, seed=2) < 0.02


def test_a_clearly_worse_version_is_caught() -> None:
    assert rejection_rate(0.06, 0.10, margin=0.05, alpha=0.01, seed=3) > 0.9


def test_a_version_within_the_margin_is_left_alone() -> None:
    # 3% worse with a 10% margin is what the merchant said they accept
    assert rejection_rate(0.097, 0.10, margin=0.10, alpha=0.05, seed=4) < 0.01


def test_degenerate_rates() -> None:
    none = proportion_worse(new_successes=0, new_n=50, old_successes=0, old_n=50, margin=0.05, alpha=0.05)
    assert not none.worse and none.p_value == pytest.approx(0.5)
    total = proportion_worse(new_successes=0, new_n=50, old_successes=50, old_n=50, margin=0.05, alpha=0.05)
    assert total.worse and total.new_rate == 0.0 and total.old_rate == 1.0
    with pytest.raises(ValueError):
        proportion_worse(new_successes=0, new_n=0, old_successes=1, old_n=10, margin=0.05, alpha=0.05)
