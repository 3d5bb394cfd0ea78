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
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from dragonrec.recommender.core import experiments as stats
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.models import (
    Arm,
    Experiment,
    ExperimentResult,
    ExperimentShopperDay,
    Impression,
    ImpressionItem,
)
from dragonrec.recommender.services.feedback import PURCHASE_VALUE_JOIN
from dragonrec.tracking.selectors import events_table

POLICY = re.compile(r"^(student:active|student:[\w.\-]+|teacher|embedding|trending|none)$")
CACHE_TTL_S = 5.0  # how stale a serving process's view of running experiments may be (like the catalog snapshot)


class ExperimentError(ValueError):
    """A request the admin, the command or the API answers with a clear message."""


@dataclass(frozen=True)
class ArmSpec:
    name: str
    policy: str
    share: float
    overrides: dict[str, Any] | None = None


# ------------------------------------------------------------------------------------------------ writes
@transaction.atomic
def experiment_create(
    *, name: str, scenarios: list[str], arms: list[ArmSpec], kind: str = Experiment.Kind.AB, notes: str = ""
) -> Experiment:
    from dragonrec.recommender.core.types import SCENARIOS

    if Experiment.objects.filter(name=name).exists():
        raise ExperimentError(f"an experiment named {name!r} exists")
    allowed = (*SCENARIOS, "search")  # search results are a served list too (services/search.py)
    if not scenarios or set(scenarios) - set(allowed):
        raise ExperimentError(f"scenarios must be some of {', '.join(allowed)}")
    if len(arms) < 2 or len({a.name for a in arms}) != len(arms):
        raise ExperimentError("an experiment needs at least two arms with distinct names")
    for arm in arms:
        if not POLICY.match(arm.policy):
            raise ExperimentError(
                f"arm {arm.name}: policy {arm.policy!r} is not one of student:active, student:<version>, teacher, "
                "embedding, trending, none"
            )
        if not 0 < arm.share <= 1:
            raise ExperimentError(f"arm {arm.name}: share must be in (0, 1], got {arm.share}")
    if kind == Experiment.Kind.AB and sum(a.share for a in arms) > 1 + 1e-9:
        raise ExperimentError(f"the arms' shares add up to {sum(a.share for a in arms):.2f} > 1")
    if kind == Experiment.Kind.INTERLEAVING and len(arms) != 2:
        raise ExperimentError("interleaving compares exactly two arms")
    experiment = Experiment.objects.create(name=name, kind=kind, scenarios=list(scenarios), notes=notes)
    Arm.objects.bulk_create(
        Arm(experiment=experiment, name=a.name, policy=a.policy, share=a.share, overrides=a.overrides or {}, position=i)
        for i, a in enumerate(arms)
    )
    return experiment


@transaction.atomic
def experiment_start(*, experiment: Experiment) -> Experiment:
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.DRAFT:
        raise ExperimentError(f"{experiment.name} is {experiment.status}; only a draft can start")
    # one running experiment per scenario: a shopper must never be in two at once for the same list
    for other in Experiment.objects.select_for_update().filter(status=Experiment.Status.RUNNING):
        shared = set(other.scenarios) & set(experiment.scenarios)
        if shared:
            raise ExperimentError(f"{other.name} is already running on {', '.join(sorted(shared))}")
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    experiment.save(update_fields=["status", "started_at"])
    experiments_reset()
    return experiment


@transaction.atomic
def experiment_stop(*, experiment: Experiment, winner: str = "", note: str = "") -> Experiment:
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.RUNNING:
        raise ExperimentError(f"{experiment.name} is {experiment.status}; only a running experiment can stop")
    if winner and not experiment.arms.filter(name=winner).exists():
        raise ExperimentError(f"{experiment.name} has no arm {winner!r}")
    experiment.status = Experiment.Status.STOPPED
    experiment.ended_at = timezone.now()
    experiment.winner = winner
    if note:
        experiment.notes = (experiment.notes + "\n" + note).strip()
    experiment.save(update_fields=["status", "ended_at", "winner", "notes"])
    experiments_reset()
    return experiment


PROMOTION_ALPHA = 0.05  # a winner must beat the control on CTR at this significance


def experiment_winner(*, results: dict[str, Any]) -> str | None:
    """The arm with the largest CTR lift over the control among those significant at PROMOTION_ALPHA."""
    significant = {
        arm: lift["ctr"]["relative"]
        for arm, lift in (results.get("lift") or {}).items()
        if (lift.get("ctr") or {}).get("relative") is not None
        and lift["ctr"]["relative"] > 0
        and lift["ctr"].get("p_value") is not None
        and lift["ctr"]["p_value"] < PROMOTION_ALPHA
    }
    return max(significant, key=significant.__getitem__) if significant else None


@transaction.atomic
def experiment_promote_winner(*, experiment: Experiment, by: str) -> Arm:
    """End a running experiment by promoting its winning arm: stop it with the winner recorded in its notes and,
    when the arm served a pinned student version, activate that version (recorded in the version's notes). An arm
    that won with settings overrides is recorded with them, for the owner to copy into RECOMMENDER."""
    from dragonrec.recommender.models import ModelVersion
    from dragonrec.recommender.services.registry import model_version_force_activate

    winner = experiment_winner(results=experiment_results(experiment=experiment, refresh=True))
    if winner is None:
        raise ExperimentError(f"{experiment.name}: no arm beats the control significantly on CTR")
    arm = experiment.arms.get(name=winner)
    version = None
    if arm.policy.startswith("student:") and arm.policy != "student:active":
        try:
            version = ModelVersion.objects.get(version=arm.policy.removeprefix("student:"))
        except ModelVersion.DoesNotExist as exc:
            raise ExperimentError(
                f"{experiment.name}: arm {winner} served {arm.policy}, which no longer exists"
            ) from exc
    note = f"ended by {by}: arm {winner} ({arm.policy}) promoted"
    if arm.overrides:
        note += f" with settings overrides {arm.overrides}"
    experiment_stop(experiment=experiment, winner=winner, note=note)
    if version is not None:
        model_version_force_activate(version=version, by=by, reason=f"won experiment {experiment.name}")
    return arm


# ------------------------------------------------------------------------------------------------ serving
_running: ProcessCache[str, list[tuple[Experiment, list[Arm]]]] = ProcessCache("running experiments", ttl_s=CACHE_TTL_S)


def experiments_reset() -> None:
    """Forget this process's running experiments (a start or stop shows at once in the process that made it)."""
    _running.reset()


def running_experiments() -> list[tuple[Experiment, list[Arm]]]:
    """Running experiments with their arms, from a per-process cache refreshed every CACHE_TTL_S."""
    return list(_running.get("running", lambda _: _running_experiments()))


def _running_experiments() -> list[tuple[Experiment, list[Arm]]]:
    return [
        (experiment, list(experiment.arms.all()))
        for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING).prefetch_related("arms")
    ]


def experiment_assignment(*, scenario: str, user_key: str) -> tuple[Experiment, Arm | None] | None:
    """The running experiment on this scenario and the shopper's arm (None inside an interleaving experiment,
    where every list mixes both arms; None too for a shopper outside an A/B test's shares)."""
    if not user_key:
        return None
    for experiment, arms in running_experiments():
        if scenario not in experiment.scenarios:
            continue
        if experiment.kind == Experiment.Kind.INTERLEAVING:
            return experiment, None
        name = stats.assign(user_key, salt=experiment.salt, arms=[(a.name, a.share) for a in arms])
        if name is None:
            return None
        return experiment, next(a for a in arms if a.name == name)
    return None


# ------------------------------------------------------------------------------------------------ results
# A list's figures change until its clicks are in (the flush, the rewards job's 1-hour click sweep) and its carts and
# purchases are credited (feedback.rewards_attribute looks back 2 days of clicks, each within a 1-day window): the
# days served within SETTLE of the last update are recomputed, older ones are summed as stored.
SETTLE = timedelta(days=3)
# An update rewrites the SETTLE days' rows: an admin page or an API client polling the results would otherwise do it
# on every read. Figures a minute old are as good to read; the beat job refreshes them regardless.
FRESH = timedelta(minutes=1)
EPOCH = date(1970, 1, 1)

# Per day, arm and shopper: lists, shown items, clicks, carts, purchases and the revenue of attributed purchases,
# over the impressions served since %s (indexed by experiment, created_at). Days are UTC dates.
_SHOPPER_DAYS_SQL = """
INSERT INTO {aggregates} (experiment_id, day, arm, shopper, lists, shown, clicks, carts, purchases, clicked_lists,
                          revenue, wins_a, wins_b, ties)
SELECT %s,
       (imp.created_at AT TIME ZONE 'UTC')::date AS day,
       imp.arm,
       COALESCE('u:' || imp.user_id::text, 's:' || imp.session_id) AS shopper,
       COUNT(DISTINCT imp.request_id),
       COUNT(item.id),
       COUNT(item.clicked_at),
       COUNT(item.carted_at),
       COUNT(item.purchased_at),
       COUNT(DISTINCT CASE WHEN item.clicked_at IS NOT NULL THEN imp.request_id END),
       COALESCE(SUM(buy.value), 0),
       0, 0, 0
FROM {impressions} AS imp
LEFT JOIN {items} AS item ON item.impression_id = imp.request_id
{purchase_value_join}
WHERE imp.experiment = %s AND imp.created_at >= %s
GROUP BY 2, 3, 4
"""

METRICS = {
    # name: (numerator column, denominator column)
    "ctr": ("clicks", "shown"),  # clicks per shown item
    "list_ctr": ("clicked_lists", "lists"),  # lists with at least one click, per list
    "add_to_cart_rate": ("carts", "shown"),
    "conversion_rate": ("purchases", "shown"),
    "revenue_per_shopper": ("revenue", None),
    "revenue_per_1000_impressions": ("revenue", "shown"),
}
_COLUMNS = ("lists", "shown", "clicks", "carts", "purchases", "clicked_lists", "revenue")


@transaction.atomic
def experiment_aggregates_update(*, experiment: Experiment, rebuild: bool = False) -> date:
    """Bring the experiment's per-shopper-day aggregates up to date: recompute the days served since SETTLE before
    the last update (every day on the first update, or with `rebuild`), leave older days as they are. Returns the
    first day recomputed. Serialised per experiment (the beat job and an admin page may run it at once)."""
    state, _ = ExperimentResult.objects.get_or_create(experiment=experiment)
    state = ExperimentResult.objects.select_for_update().get(pk=state.pk)
    now = timezone.now()
    first_day = (
        EPOCH if rebuild or state.aggregated_at is None else (state.aggregated_at - SETTLE).astimezone(UTC).date()
    )
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    ExperimentShopperDay.objects.filter(experiment=experiment, day__gte=first_day).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _SHOPPER_DAYS_SQL.format(
                aggregates=ExperimentShopperDay._meta.db_table,
                impressions=Impression._meta.db_table,
                items=ImpressionItem._meta.db_table,
                purchase_value_join=PURCHASE_VALUE_JOIN.format(events=events_table()),
            ),
            [experiment.pk, experiment.name, start],
        )
    if experiment.kind == Experiment.Kind.INTERLEAVING:
        _interleaving_credit(experiment=experiment, start=start)
    state.aggregated_at = now
    state.save(update_fields=["aggregated_at"])
    return first_day


def _interleaving_credit(*, experiment: Experiment, start: datetime) -> None:
    """Team-draft credit of the lists served since `start`, added to their shopper-day rows: each list with a click
    or a purchase is won by the arm whose picks earned more credit (a click one, a purchase one more)."""
    arms = [a.name for a in experiment.arms.all()][:2]
    if len(arms) < 2:
        return
    lists = Impression.objects.filter(experiment=experiment.name, created_at__gte=start).values_list(
        "request_id", "policy", "created_at", "arm", "user_id", "session_id"
    )
    clicked: dict[Any, set[int]] = {}
    purchased: dict[Any, set[int]] = {}
    for rid, position, click, bought in ImpressionItem.objects.filter(
        Q(clicked_at__isnull=False) | Q(purchased_at__isnull=False),
        impression__experiment=experiment.name,
        impression__created_at__gte=start,
    ).values_list("impression_id", "position", "clicked_at", "purchased_at"):
        if click is not None:
            clicked.setdefault(rid, set()).add(position)
        if bought is not None:
            purchased.setdefault(rid, set()).add(position)
    credit: dict[tuple[date, str, str], dict[str, int]] = {}
    for rid, policy, created_at, arm, user_id, session_id in lists.iterator(chunk_size=2000):
        teams = (policy or {}).get("teams", [])
        if not teams:
            continue
        marks = ["a" if t == arms[0] else "b" for t in teams]
        outcome = stats.interleaving_outcome(
            marks,
            [k + 1 in clicked.get(rid, set()) for k in range(len(marks))],
            [k + 1 in purchased.get(rid, set()) for k in range(len(marks))],
        )
        shopper = f"u:{user_id}" if user_id is not None else f"s:{session_id}"
        key = (created_at.astimezone(UTC).date(), arm, shopper)
        counts = credit.setdefault(key, {"a": 0, "b": 0, "tie": 0})
        counts[outcome] += 1
    rows = list(ExperimentShopperDay.objects.filter(experiment=experiment, day__gte=start.date()))
    for row in rows:
        counts = credit.get((row.day, row.arm, row.shopper), {"a": 0, "b": 0, "tie": 0})
        row.wins_a, row.wins_b, row.ties = counts["a"], counts["b"], counts["tie"]
    ExperimentShopperDay.objects.bulk_update(rows, ["wins_a", "wins_b", "ties"], batch_size=2000)


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
    return _json_safe(_results(experiment))


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


def _scaled(metric: stats.RatioMetric, factor: float) -> stats.RatioMetric:
    from dataclasses import replace

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
