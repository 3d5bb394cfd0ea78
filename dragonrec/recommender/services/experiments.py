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
from dragonrec.recommender.core.types import SCENARIOS
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
# the closed list of arm policies, beside student:<version> for a stored version (policy_choices)
POLICIES: dict[str, str] = {
    "student:active": "Personal model (whichever version is active)",
    "teacher": "LLM teacher's cached judgments",
    "embedding": "Similar products (text embeddings)",
    "trending": "Trending",
    "none": "None: the shop's own list",
}
# the lists an experiment can run on: the recommendation scenarios and search results (services/search.py)
EXPERIMENT_SCENARIOS: tuple[str, ...] = (*SCENARIOS, "search")
SHARE_TOLERANCE = 1e-6  # shares are floats: 0.1 + 0.2 + 0.7 must count as 1
CACHE_TTL_S = 5.0  # how stale a serving process's view of running experiments may be (like the catalog snapshot)


class ExperimentError(ValueError):
    """A request the admin, the command or the API answers with a clear message."""


class ExperimentInvalid(ExperimentError):
    """What is wrong with an experiment, by field: "name", "scenarios", "kind", "arms" (the arms together) and
    "arms.<i>.policy" / "arms.<i>.share" (arm i), so a form can put each message beside its field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(message for messages in errors.values() for message in messages))


@dataclass(frozen=True)
class ArmSpec:
    name: str
    policy: str
    share: float
    overrides: dict[str, Any] | None = None


# ------------------------------------------------------------------------------------------------ validation
def policy_choices() -> list[tuple[str, str]]:
    """The policies an arm may serve: the closed list plus each stored student version with an artifact."""
    from dragonrec.recommender.models import ModelVersion

    versions = (
        ModelVersion.objects.exclude(artifact="")
        .exclude(status=ModelVersion.Status.FAILED)
        .order_by("-created_at")
        .values_list("version", flat=True)[:50]
    )
    return [*POLICIES.items(), *((f"student:{v}", f"Personal model {v} (pinned)") for v in versions)]


def experiment_errors(
    *, name: str, scenarios: list[str], kind: str, exclude_pk: int | None = None
) -> dict[str, list[str]]:
    """The experiment-level checks: a unique name, scenarios that exist, a known kind, and no scenario shared with
    an experiment already running (a shopper must never be in two experiments on the same list)."""
    errors: dict[str, list[str]] = {}
    same_name = Experiment.objects.filter(name=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if name and same_name.exists():
        errors.setdefault("name", []).append(f"an experiment named {name!r} exists")
    unknown = [s for s in scenarios if s not in EXPERIMENT_SCENARIOS]
    if not scenarios or unknown:
        errors.setdefault("scenarios", []).append(
            f"scenarios must be some of {', '.join(EXPERIMENT_SCENARIOS)}"
            + (f" ({', '.join(map(repr, unknown))} is not)" if unknown else "")
        )
    if kind not in Experiment.Kind.values:
        errors.setdefault("kind", []).append(f"kind must be one of {', '.join(Experiment.Kind.values)}")
    running = Experiment.objects.filter(status=Experiment.Status.RUNNING)
    if exclude_pk is not None:
        running = running.exclude(pk=exclude_pk)
    for other in running:
        shared = set(other.scenarios) & set(scenarios)
        if shared:
            errors.setdefault("scenarios", []).append(
                f"{other.name} is already running on {', '.join(sorted(shared))}: "
                "stop it first or pick another scenario"
            )
    return errors


def arms_errors(*, arms: list[ArmSpec], kind: str) -> dict[str, list[str]]:
    """The arms' checks: at least two with distinct names, each policy from policy_choices(), each share a fraction
    in (0, 1], and for an A/B test shares adding up to 1 (100% of the shoppers: an arm left out would silently take
    nobody, a share of 50 meant as a percentage would take everybody)."""
    errors: dict[str, list[str]] = {}
    if len(arms) < 2 or len({a.name for a in arms}) != len(arms):
        errors.setdefault("arms", []).append("an experiment needs at least two arms with distinct names")
    if kind == Experiment.Kind.INTERLEAVING and len(arms) != 2:
        errors.setdefault("arms", []).append("interleaving compares exactly two arms")
    allowed = {value for value, _ in policy_choices()}
    for i, arm in enumerate(arms):
        if arm.policy not in allowed:
            pinned = arm.policy.startswith("student:") and arm.policy != "student:active"
            errors.setdefault(f"arms.{i}.policy", []).append(
                f"arm {arm.name}: {arm.policy!r} is not a stored model version"
                if pinned
                else f"arm {arm.name}: policy {arm.policy!r} is not one of {', '.join(POLICIES)} or student:<version>"
            )
        if not (isinstance(arm.share, int | float) and math.isfinite(arm.share) and 0 < arm.share <= 1):
            hint = (
                f" ({arm.share:g} looks like a percentage: {arm.share / 100:g} is {arm.share:g}%)"
                if (isinstance(arm.share, int | float) and 1 < arm.share <= 100)
                else ""
            )
            errors.setdefault(f"arms.{i}.share", []).append(
                f"arm {arm.name}: a share is the fraction of shoppers in the arm, above 0 and at most 1{hint}"
            )
    total = sum(a.share for a in arms if isinstance(a.share, int | float) and math.isfinite(a.share))
    if kind == Experiment.Kind.AB and arms and abs(total - 1) > SHARE_TOLERANCE:
        errors.setdefault("arms", []).append(
            f"the arms' shares add up to {total:.2f} ({100 * total:.0f}%), not 1 (100% of the shoppers)"
        )
    return errors


def experiment_validate(
    *, name: str, scenarios: list[str], arms: list[ArmSpec], kind: str, exclude_pk: int | None = None
) -> None:
    """The one validation of an experiment, for the admin's form, the command and the API: raises
    ExperimentInvalid with every problem by field."""
    errors = experiment_errors(name=name, scenarios=scenarios, kind=kind, exclude_pk=exclude_pk)
    for field_name, messages in arms_errors(arms=arms, kind=kind).items():
        errors.setdefault(field_name, []).extend(messages)
    if errors:
        raise ExperimentInvalid(errors)


# ------------------------------------------------------------------------------------------------ writes
@transaction.atomic
def experiment_create(
    *, name: str, scenarios: list[str], arms: list[ArmSpec], kind: str = Experiment.Kind.AB, notes: str = ""
) -> Experiment:
    experiment_validate(name=name, scenarios=list(scenarios), arms=arms, kind=kind)
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
    # checked again at start: the arms may have been edited since, another experiment may have started since
    list(Experiment.objects.select_for_update().filter(status=Experiment.Status.RUNNING))
    experiment_validate(
        name=experiment.name,
        scenarios=list(experiment.scenarios),
        arms=[ArmSpec(a.name, a.policy, a.share, a.overrides) for a in experiment.arms.all()],
        kind=experiment.kind,
        exclude_pk=experiment.pk,
    )
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
    items = ImpressionItem.objects.filter(impression__created_at__gte=since)
    shown = items.count()
    clicks = items.filter(clicked_at__isnull=False).count()
    return clicks / shown if shown and 0 < clicks < shown else None


def not_enough_text(readiness: dict[str, Any]) -> str:
    """One line for an arm without enough data, for the command and the admin page."""
    return (
        f"not enough data yet: {readiness['shown']:,} items shown of ~{readiness['needed']:,} needed to detect a "
        f"{readiness['lift']:+.0%} CTR lift (5% significance, 80% power, baseline CTR {readiness['baseline']:.2%} "
        f"from {readiness['baseline_from']})"
    )


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
