"""Online experiments: create, start, stop and end them; which arm serves a shopper; per-arm results.

    >>> exp = experiment_create(name="student-vs-trending", scenarios=["home"],
    ...                         arms=[ArmSpec("control", "student:active", 0.5), ArmSpec("treatment", "trending", 0.5)])
    >>> experiment_start(experiment=exp)
    >>> experiment_assignment(scenario="home", user_key="s:c-abc")      # (experiment, arm) or None
    >>> experiment_results(experiment=exp)["arms"]["treatment"]["ctr"]   # {"value", "ci", ...}

Assignment is a salted hash of the shopper key (core.experiments.assign), so it is sticky across requests,
processes and machines without storing anything; a shopper is in at most one running experiment per scenario
(starting a second one on the same scenario is refused). The statistics are shopper-level (the unit that was
randomised), with delta-method intervals for ratio metrics (core.experiments).

Along its seams: `validation` (the one set of checks), `actions` (the owner's writes), `assignment` (serving),
`aggregates` (per-shopper-day figures, kept up to date) and `analysis` (reading them).
"""

from __future__ import annotations

from dragonrec.recommender.services.experiments.actions import (
    PROMOTION_ALPHA,
    experiment_create,
    experiment_promote_winner,
    experiment_start,
    experiment_stop,
    experiment_winner,
)
from dragonrec.recommender.services.experiments.aggregates import (
    EPOCH,
    FRESH,
    METRICS,
    SETTLE,
    experiment_aggregates_update,
)
from dragonrec.recommender.services.experiments.analysis import (
    BASELINE_DAYS,
    DEFAULT_BASELINE_CTR,
    DETECTABLE_LIFT,
    experiment_readiness,
    experiment_results,
    experiment_results_refresh,
    interleaving_results,
    not_enough_text,
)
from dragonrec.recommender.services.experiments.assignment import (
    CACHE_TTL_S,
    experiment_assignment,
    experiments_reset,
    running_experiments,
)
from dragonrec.recommender.services.experiments.validation import (
    EXPERIMENT_SCENARIOS,
    POLICIES,
    POLICY,
    SHARE_TOLERANCE,
    ArmSpec,
    ExperimentError,
    ExperimentInvalid,
    arms_errors,
    experiment_errors,
    experiment_validate,
    policy_choices,
)

__all__ = [
    "BASELINE_DAYS",
    "CACHE_TTL_S",
    "DEFAULT_BASELINE_CTR",
    "DETECTABLE_LIFT",
    "EPOCH",
    "EXPERIMENT_SCENARIOS",
    "FRESH",
    "METRICS",
    "POLICIES",
    "POLICY",
    "PROMOTION_ALPHA",
    "SETTLE",
    "SHARE_TOLERANCE",
    "ArmSpec",
    "ExperimentError",
    "ExperimentInvalid",
    "arms_errors",
    "experiment_aggregates_update",
    "experiment_assignment",
    "experiment_create",
    "experiment_errors",
    "experiment_promote_winner",
    "experiment_readiness",
    "experiment_results",
    "experiment_results_refresh",
    "experiment_start",
    "experiment_stop",
    "experiment_validate",
    "experiment_winner",
    "experiments_reset",
    "interleaving_results",
    "not_enough_text",
    "policy_choices",
    "running_experiments",
]
