"""Reading an experiment: per-arm figures with intervals, lifts over the control, the sample-ratio check, the
interleaving win rate, and whether there is enough data yet. Reads the aggregates (brought up to date first)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
from django.db.models import F, Func, IntegerField, Sum
from django.utils import timezone

from dragonrec.recommender.core import experiments as stats
from dragonrec.recommender.models import Experiment, ExperimentResult, ExperimentShopperDay, ServedList, ServedOutcome
from dragonrec.recommender.services.experiments.aggregates import _COLUMNS, FRESH, METRICS, experiment_aggregates_update


def interleaving_results(*, experiment: Experiment) -> dict[str, Any]:
    """B's win rate with its interval and p-value over shoppers (a returning shopper's lists are not independent),
    summed per shopper from the shopper-day aggregates."""
    per_shopper = list(
        ExperimentShopperDay.objects.filter(experiment=experiment)
        .values("shopper")
        .annotate(lists=Sum("lists"), wins_a=Sum("wins_a"), wins_b=Sum("wins_b"), ties=Sum("ties"))
        .values_list("lists", "wins_a", "wins_b", "ties")
        .order_by()
    )
    counts = np.array(per_shopper, dtype=np.int64).reshape(-1, 4)
    arms = [a.name for a in experiment.arms.all()][:2]
    result = stats.interleaving_result(wins_a=counts[:, 1], wins_b=counts[:, 2], ties=counts[:, 3])
    return {
        "lists": int(counts[:, 0].sum()),
        "a": arms[0] if arms else None,
        "b": arms[1] if len(arms) > 1 else None,
        **result.as_dict(),
    }


def experiment_results(*, experiment: Experiment, refresh: bool = False) -> dict[str, Any]:
    """Per-arm figures with 95% intervals, lift over the first arm (the control) with p-values, and the sample
    ratio check on the shoppers each arm served (for interleaving: the second arm's win rate). The aggregates are
    brought up to date first, unless they were within FRESH; `refresh` always updates them (the beat job)."""
    if (
        refresh
        or not ExperimentResult.objects.filter(
            experiment=experiment, aggregated_at__gte=timezone.now() - FRESH
        ).exists()
    ):
        experiment_aggregates_update(experiment=experiment)
    results: dict[str, Any] = _json_safe(_results(experiment))
    return results


def _json_safe(value: Any) -> Any:
    """Infinite or undefined figures (an arm with one shopper has no variance yet) become null, as JSON needs."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _results(experiment: Experiment) -> dict[str, Any]:
    if experiment.kind == Experiment.Kind.INTERLEAVING:
        return {
            "experiment": experiment.name,
            "kind": experiment.kind,
            "status": experiment.status,
            "scenarios": experiment.scenarios,
            "interleaving": interleaving_results(experiment=experiment),
            "computed_at": timezone.now().isoformat(),
        }
    # plain dicts: the aggregated columns are not in the stubs' TypedDict of .values("arm", "shopper")
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in ExperimentShopperDay.objects.filter(experiment=experiment)
        .values("arm", "shopper")
        .annotate(**{c: Sum(c) for c in _COLUMNS})
        .order_by()
    ]
    arms = list(experiment.arms.all())
    per_arm: dict[str, dict[str, Any]] = {}
    ratio_metrics: dict[str, dict[str, stats.RatioMetric]] = {}
    for arm in arms:
        mine = [r for r in rows if r["arm"] == arm.name]
        column = {c: np.array([float(r[c]) for r in mine]) for c in _COLUMNS}
        figures: dict[str, Any] = {
            "policy": arm.policy,
            "share": arm.share,
            "shoppers": len(mine),
            "lists": int(column["lists"].sum()) if mine else 0,
            "impressions": int(column["shown"].sum()) if mine else 0,
            "revenue": float(column["revenue"].sum()) if mine else 0.0,
        }
        ratio_metrics[arm.name] = {}
        for name, (num, den) in METRICS.items():
            numerators = column[num]
            denominators = np.ones(len(mine)) if den is None else column[den]
            metric = stats.ratio_metric(numerators=numerators, denominators=denominators)
            if name == "revenue_per_1000_impressions":
                metric = _scaled(metric, 1000.0)
            ratio_metrics[arm.name][name] = metric
            figures[name] = metric.as_dict()
        per_arm[arm.name] = figures
    control = arms[0].name if arms else None
    lifts = {
        arm.name: {
            name: stats.relative_lift(
                treatment=ratio_metrics[arm.name][name], control=ratio_metrics[control][name]
            ).as_dict()
            for name in METRICS
        }
        for arm in arms[1:]
        if control is not None
    }
    srm = (
        stats.sample_ratio_check(counts=[per_arm[a.name]["shoppers"] for a in arms], shares=[a.share for a in arms])
        if experiment.kind == Experiment.Kind.AB and arms
        else None
    )
    return {
        "experiment": experiment.name,
        "kind": experiment.kind,
        "status": experiment.status,
        "scenarios": experiment.scenarios,
        "control": control,
        "arms": per_arm,
        "lift": lifts,
        "sample_ratio": srm.as_dict() if srm else None,
        "computed_at": timezone.now().isoformat(),
    }


DETECTABLE_LIFT = 0.10  # the CTR lift an owner usually cares to detect: "enough data" is sized for it by default
DEFAULT_BASELINE_CTR = 0.05  # assumed when nothing served has been clicked yet (a typical recommendation CTR)
BASELINE_DAYS = 30


def experiment_readiness(*, results: dict[str, Any], lift: float = DETECTABLE_LIFT) -> dict[str, dict[str, Any]]:
    """Per A/B arm, whether it has enough data to read a difference: at least two shoppers (a variance) and the items
    shown that a two-sided test at 5% needs to detect a CTR `lift` over the baseline with 80% power
    (core.experiments.sample_size_per_arm). The baseline is the control's CTR once it has clicks, else the shop's
    CTR over the last BASELINE_DAYS, else DEFAULT_BASELINE_CTR; `baseline_from` says which."""
    arms = results.get("arms") or {}
    control = arms.get(results.get("control") or "") or {}
    control_ctr = (control.get("ctr") or {}).get("value")
    if isinstance(control_ctr, int | float) and 0 < control_ctr < 1:
        baseline, source = float(control_ctr), "the control's CTR"
    else:
        shop = _shop_ctr()
        baseline, source = (
            (shop, f"the shop's CTR over {BASELINE_DAYS} days") if shop else (DEFAULT_BASELINE_CTR, "an assumed CTR")
        )
    needed = stats.sample_size_per_arm(baseline=baseline, relative_lift=lift)
    out = {}
    for name, arm in arms.items():
        shown = int(arm.get("impressions") or 0)
        out[name] = {
            "enough": int(arm.get("shoppers") or 0) >= 2 and shown >= needed,
            # figures exist (a rate and a variance), though too few to trust a difference yet
            "has_figures": int(arm.get("shoppers") or 0) >= 2 and shown > 0,
            "shown": shown,
            "needed": needed,
            "lift": lift,
            "baseline": baseline,
            "baseline_from": source,
        }
    return out


def _shop_ctr() -> float | None:
    since = timezone.now() - timedelta(days=BASELINE_DAYS)
    count = Func(F("item_ids"), function="dragonrec_item_count", output_field=IntegerField())  # migration 0013
    shown = int(ServedList.objects.filter(served_at__gte=since).aggregate(n=Sum(count))["n"] or 0)
    clicks = ServedOutcome.objects.filter(served_at__gte=since, kind=ServedOutcome.Kind.CLICK).count()
    return clicks / shown if shown and 0 < clicks < shown else None


def not_enough_text(readiness: dict[str, Any]) -> str:
    """One line for an arm without enough data, for the command and the admin page."""
    return (
        f"not enough data yet: {readiness['shown']:,} items shown of ~{readiness['needed']:,} needed to detect a "
        f"{readiness['lift']:+.0%} CTR lift (5% significance, 80% power, baseline CTR {readiness['baseline']:.2%} "
        f"from {readiness['baseline_from']})"
    )


def _scaled(metric: stats.RatioMetric, factor: float) -> stats.RatioMetric:
    return replace(metric, value=metric.value * factor, se=metric.se * factor)


def experiment_results_refresh() -> int:
    """The beat job: recompute and store the figures of running (and just stopped) experiments."""
    recent = timezone.now() - timedelta(days=1)
    todo = Experiment.objects.filter(status=Experiment.Status.RUNNING) | Experiment.objects.filter(
        status=Experiment.Status.STOPPED, ended_at__gte=recent
    )
    count = 0
    for experiment in todo:
        ExperimentResult.objects.update_or_create(
            experiment=experiment, defaults={"figures": experiment_results(experiment=experiment, refresh=True)}
        )
        count += 1
    return count
