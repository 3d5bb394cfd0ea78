"""Experiment statistics: sticky balanced assignment, delta-method ratios, lift, SRM, team-draft interleaving."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

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


def test_interleaving_credits_clicks_and_purchases_to_the_team_that_placed_the_item() -> None:
    assert ex.interleaving_outcome(["a", "b", "a"], [False, True, False]) == "b"
    assert ex.interleaving_outcome(["a", "b"], [True, True]) == "tie"
    # a purchase is one more credit: it breaks a tie of clicks, and two clicks still beat one bought item
    assert ex.interleaving_outcome(["a", "b"], [True, True], [False, True]) == "b"
    assert ex.interleaving_outcome(["a", "a", "b"], [True, True, True], [False, False, True]) == "tie"
    assert ex.interleaving_outcome(["a", "a", "a", "b"], [True, True, True, True], [False, False, False, True]) == "a"


def test_interleaving_reports_the_win_rate_over_shoppers() -> None:
    # given: 150 shoppers with one list each, 70 won by b, 30 by a, 50 tied (the list-level case)
    outcomes = ["b"] * 70 + ["a"] * 30 + ["tie"] * 50
    result = ex.interleaving_result(
        wins_a=[o == "a" for o in outcomes], wins_b=[o == "b" for o in outcomes], ties=[o == "tie" for o in outcomes]
    )
    assert (result.wins_a, result.wins_b, result.ties, result.units) == (30, 70, 50, 150)
    assert result.win_rate_b == pytest.approx(0.7)
    # with one list per shopper: the binomial test's normal approximation, and about Wilson's interval
    assert result.p_value == pytest.approx(2 * stats.norm.sf(40 / math.sqrt(100)))
    assert result.ci == pytest.approx((0.604, 0.781), abs=0.012)
    # few decided lists: not the Wald test's false confidence (7 of 8 lists: Wald p = 0.001, exact binomial 0.07)
    few = ex.interleaving_result(wins_a=[1] * 7 + [0], wins_b=[0] * 7 + [1], ties=[0] * 8)
    assert 0.02 < few.p_value < 0.05 and few.ci[0] < 0.125 < few.ci[1] < 0.5
    # no decided list: no preference, nothing to test
    assert ex.interleaving_result(wins_a=[0], wins_b=[0], ties=[3]).p_value == 1.0


def test_the_interleaving_interval_and_p_value_agree() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        wins_a, wins_b = rng.poisson(1.0, 60), rng.poisson(1.2, 60)
        result = ex.interleaving_result(wins_a=wins_a, wins_b=wins_b, ties=np.zeros(60))
        assert (result.ci[0] > 0.5 or result.ci[1] < 0.5) == (result.p_value < 0.05)


def _clustered_null(rng: np.random.Generator, shoppers: int) -> tuple[np.ndarray, np.ndarray]:
    """Lists won per shopper when rankers are equally good on average but every shopper has their own strong
    preference (Beta(0.5, 0.5): most lean clearly one way) and sees 1 + Poisson(5) lists."""
    lists = 1 + rng.poisson(5.0, shoppers)
    prefer_b = rng.beta(0.5, 0.5, shoppers)
    wins_b = rng.binomial(lists, prefer_b)
    return lists - wins_b, wins_b


def test_the_shopper_level_test_holds_its_false_positive_rate_where_the_list_level_one_does_not() -> None:
    # given: 1,000 null experiments of 300 returning shoppers each
    rng = np.random.default_rng(11)
    shopper_level = list_level = 0
    reps = 1000
    for _ in range(reps):
        wins_a, wins_b = _clustered_null(rng, 300)
        clustered = ex.interleaving_result(wins_a=wins_a, wins_b=wins_b, ties=np.zeros(300))
        shopper_level += clustered.p_value < 0.05
        # the list-level test: every list its own unit
        per_list_b = np.concatenate([np.r_[np.ones(b), np.zeros(a)] for a, b in zip(wins_a, wins_b, strict=True)])
        lists = ex.interleaving_result(wins_a=1 - per_list_b, wins_b=per_list_b, ties=np.zeros(len(per_list_b)))
        list_level += lists.p_value < 0.05
        assert clustered.win_rate_b == pytest.approx(lists.win_rate_b)
    # then: ~5% false positives by shopper (binomial sd 0.7 points at 1,000 repetitions), far more by list
    assert 0.035 <= shopper_level / reps <= 0.065
    assert list_level / reps > 0.2


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


def test_the_sample_size_for_a_ctr_lift_matches_the_two_proportion_formula() -> None:
    # 5% -> 5.5% (+10%) at alpha 0.05 two-sided, power 0.8: (1.96 + 0.8416)^2 (0.0475 + 0.051975) / 0.0005^2
    assert ex.sample_size_per_arm(baseline=0.05, relative_lift=0.10) == 31_231
    # a lift twice as large needs about a quarter of the items; more power needs more
    assert 7_500 < ex.sample_size_per_arm(baseline=0.05, relative_lift=0.20) < 8_200
    assert ex.sample_size_per_arm(baseline=0.05, relative_lift=0.10, power=0.9) > 31_231
    with pytest.raises(ValueError):
        ex.sample_size_per_arm(baseline=0.0, relative_lift=0.1)


def test_the_sample_ratio_check_is_not_judged_on_too_few_shoppers() -> None:
    assert not ex.sample_ratio_check(counts=[0, 0], shares=[0.5, 0.5]).judged
    assert not ex.sample_ratio_check(counts=[1, 7], shares=[0.5, 0.5]).judged  # 4 expected per arm
    assert ex.sample_ratio_check(counts=[5, 15], shares=[0.5, 0.5]).judged
