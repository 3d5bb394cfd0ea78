"""Experiment statistics: sticky balanced assignment, delta-method ratios, lift, SRM, team-draft interleaving."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dragonrec.recommender.core import experiments as ex

ARMS = [("control", 0.5), ("treatment", 0.5)]


def test_assignment_is_stable_across_calls_and_processes() -> None:
    keys = [f"s:{i}" for i in range(50)]
    here = [ex.assign(k, salt="exp-1", arms=ARMS) for k in keys]
    assert here == [ex.assign(k, salt="exp-1", arms=ARMS) for k in keys]
    code = (
        "from dragonrec.recommender.core.experiments import assign;"
        f"print(','.join(assign(k, salt='exp-1', arms={ARMS!r}) for k in {keys!r}))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert other.strip().split(",") == here


def test_assignment_is_balanced_within_one_percent_over_100k_keys() -> None:
    arms = [ex.assign(f"u:{i}", salt="balance", arms=ARMS) for i in range(100_000)]
    share = arms.count("treatment") / len(arms)
    assert abs(share - 0.5) < 0.01
    assert set(arms) == {"control", "treatment"}


def test_changing_a_share_moves_only_the_shoppers_it_must() -> None:
    keys = [f"u:{i}" for i in range(20_000)]
    before = [ex.assign(k, salt="s", arms=[("a", 0.2), ("b", 0.3), ("c", 0.5)]) for k in keys]
    after = [ex.assign(k, salt="s", arms=[("a", 0.2), ("b", 0.4), ("c", 0.4)]) for k in keys]
    moved = [(x, y) for x, y in zip(before, after, strict=True) if x != y]
    assert moved and set(moved) == {("c", "b")}  # only c -> b, never a touched
    assert abs(len(moved) / len(keys) - 0.1) < 0.01  # the 10% that had to move
    # a different salt is a different experiment: independent assignment
    other = [ex.assign(k, salt="t", arms=ARMS) for k in keys[:2000]]
    same = [ex.assign(k, salt="s", arms=ARMS) for k in keys[:2000]]
    assert 0.4 < np.mean([x == y for x, y in zip(other, same, strict=True)]) < 0.6


def test_shares_under_one_leave_shoppers_out() -> None:
    arms = [ex.assign(f"u:{i}", salt="x", arms=[("a", 0.1), ("b", 0.1)]) for i in range(10_000)]
    assert 0.77 < arms.count(None) / len(arms) < 0.83


def test_the_ratio_metric_equals_a_hand_computed_delta_method() -> None:
    # 4 shoppers: clicks / impressions
    clicks = [1, 0, 2, 1]
    impressions = [10, 5, 10, 5]
    m = ex.ratio_metric(numerators=clicks, denominators=impressions)
    # R = 4/30; Var X = 0.6667, Var Y = 8.3333, Cov = 1.6667 (ddof 1); n = 4, Ȳ = 7.5
    r = 4 / 30
    var = (2 / 3 - 2 * r * (5 / 3) + r * r * (25 / 3)) / (4 * 7.5**2)
    assert m.value == pytest.approx(r)
    assert m.se == pytest.approx(var**0.5)
    assert m.ci[0] < r < m.ci[1]


def test_lift_and_its_p_value() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    imp_c, imp_t = rng.poisson(10, n) + 1, rng.poisson(10, n) + 1
    clicks_c, clicks_t = rng.binomial(imp_c, 0.05), rng.binomial(imp_t, 0.065)
    control = ex.ratio_metric(numerators=clicks_c, denominators=imp_c)
    treatment = ex.ratio_metric(numerators=clicks_t, denominators=imp_t)
    lift = ex.relative_lift(treatment=treatment, control=control)
    assert lift.ci[0] < 0.3 < lift.ci[1]
    assert lift.ci[0] > 0 and lift.p_value < 0.01
    same = ex.relative_lift(treatment=control, control=control)
    assert same.relative == 0 and same.p_value == pytest.approx(1.0)


def test_aa_intervals_cover_zero_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(200):
        # shoppers differ (some click a lot): the shopper-level variance the delta method must capture
        propensity = rng.beta(1, 15, 2000)
        imp = rng.poisson(8, 2000) + 1
        clicks = rng.binomial(imp, propensity)
        arm = rng.random(2000) < 0.5
        t = ex.ratio_metric(numerators=clicks[arm], denominators=imp[arm])
        c = ex.ratio_metric(numerators=clicks[~arm], denominators=imp[~arm])
        lift = ex.relative_lift(treatment=t, control=c)
        covered += lift.ci[0] <= 0 <= lift.ci[1]
    assert 0.91 <= covered / 200 <= 0.99


def test_sample_ratio_mismatch_warns() -> None:
    assert ex.sample_ratio_check(counts=[10_050, 9_950], shares=[0.5, 0.5]).ok
    broken = ex.sample_ratio_check(counts=[10_500, 9_500], shares=[0.5, 0.5])
    assert not broken.ok and broken.p_value < 0.001


def test_team_draft_interleaving_takes_turns_without_duplicates() -> None:
    a = [1, 2, 3, 4, 5, 6]
    b = [3, 7, 1, 8, 9, 10]
    lists = [ex.team_draft(a, b, n=6, rng=np.random.default_rng(s)) for s in range(200)]
    for il in lists:
        assert len(il.items) == 6 and len(set(il.items)) == 6
        assert abs(il.teams.count("a") - il.teams.count("b")) <= 1
        assert il.items[0] in (1, 3)  # each ranker's first choice leads
    assert {il.teams[0] for il in lists} == {"a", "b"}  # the coin decides who starts


def test_interleaving_credits_clicks_and_reports_the_win_rate() -> None:
    assert ex.interleaving_outcome(["a", "b", "a"], [False, True, False]) == "b"
    assert ex.interleaving_outcome(["a", "b"], [True, True]) == "tie"
    result = ex.interleaving_result(["b"] * 70 + ["a"] * 30 + ["tie"] * 50)
    assert result.wins_b == 70 and result.ties == 50 and result.win_rate_b == pytest.approx(0.7)
    assert result.ci[0] > 0.5 and result.p_value < 0.001


def test_the_lift_interval_and_p_value_agree() -> None:
    # given: arms whose control rate is small and noisy (where a ratio interval and a difference test disagreed)
    rng = np.random.default_rng(3)
    for _ in range(200):
        t = ex.ratio_metric(numerators=rng.poisson(0.4, 300), denominators=np.full(300, 10))
        c = ex.ratio_metric(numerators=rng.poisson(0.2, 300), denominators=np.full(300, 10))
        lift = ex.relative_lift(treatment=t, control=c)
        # then: the interval excludes 0 exactly when p < 0.05, and never goes below -100%
        assert (lift.ci[0] > 0 or lift.ci[1] < 0) == (lift.p_value < 0.05)
        assert lift.ci[0] > -1
