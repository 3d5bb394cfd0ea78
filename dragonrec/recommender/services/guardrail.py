"""The guardrail: after a promotion, is the new active version doing worse with shoppers than the one it replaced?
If its served lists get significantly fewer clicks or purchases, roll it back and say why on the version.

    >>> model_guardrail_check()      # the rolled-back version, or None

Live traffic only: lists served outside experiments (an arm may override the policy), by the new version since it
was activated and by the previous one in the `baseline_hours` before that. The unit is the served list (did it get
a click; a purchase), so the two-proportion test in core.guardrail sees independent draws.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef
from django.utils import timezone

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core.guardrail import proportion_worse
from dragonrec.recommender.models import ModelVersion, ServedList, ServedOutcome
from dragonrec.recommender.services.registry import decision_record, model_version_rollback

logger = logging.getLogger(__name__)

OUTCOMES = (("click_rate", ServedOutcome.Kind.CLICK), ("purchase_rate", ServedOutcome.Kind.PURCHASE))


def guardrail_settings() -> dict[str, Any]:
    """GUARDRAIL with the defaults of the keys a host project left out."""
    return {**DEFAULTS["GUARDRAIL"], **recommender_settings.GUARDRAIL}


def served_outcomes(*, version: str, start: datetime, end: datetime, settle: timedelta) -> dict[str, int]:
    """Lists served by `version` in [start, end) outside experiments and at least `settle` old, and how many of
    them got a click / a purchase within `settle` of being served (any time, when `settle` is zero). One query."""
    lists = ServedList.objects.filter(
        policy__model_version=version,
        policy__experiment="",
        served_at__gte=start,
        served_at__lt=min(end, timezone.now() - settle),
    )
    counted: dict[str, Count] = {"lists": Count("pk")}
    for name, kind in OUTCOMES:
        outcome = ServedOutcome.objects.filter(
            request_id=OuterRef("request_id"), served_at=OuterRef("served_at"), kind=kind
        )
        if settle:
            delay = ExpressionWrapper(F("at") - OuterRef("served_at"), output_field=DurationField())
            outcome = outcome.alias(delay=delay).filter(delay__lte=settle)
        counted[name] = Count("pk", filter=Exists(outcome))
    return {key: int(value or 0) for key, value in lists.aggregate(**counted).items()}


def model_guardrail_check() -> ModelVersion | None:
    """Compare the active version with the one it replaced; roll it back when its click or purchase rate is
    significantly below (1 - margin) x the previous one's. Returns the rolled-back version, or None."""
    conf = guardrail_settings()
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if not conf["enabled"] or active is None or active.activated_at is None:
        return None
    now = timezone.now()
    if now - active.activated_at > timedelta(hours=float(conf["watch_hours"])):
        return None  # settled: a later drift is the nightly retrain's business, not a rollback's
    previous = (
        ModelVersion.objects.filter(
            status=ModelVersion.Status.ARCHIVED,
            activated_at__lt=active.activated_at,
            rolled_back_at__isnull=True,  # the version just rolled back from is no baseline to roll back to
        )
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        return None
    settle = timedelta(minutes=float(conf["settle_minutes"]))
    new = served_outcomes(version=active.version, start=active.activated_at, end=now, settle=settle)
    baseline_start = active.activated_at - timedelta(hours=float(conf["baseline_hours"]))
    old = served_outcomes(version=previous.version, start=baseline_start, end=active.activated_at, settle=settle)
    minimum = int(conf["min_impressions"])
    if new["lists"] < minimum or old["lists"] < minimum:
        return None
    tests = {
        name: proportion_worse(
            new_successes=new[name],
            new_n=new["lists"],
            old_successes=old[name],
            old_n=old["lists"],
            margin=float(conf["margin"]),
            alpha=float(conf["alpha"]),
        )
        for name, _ in OUTCOMES
    }
    worse = [name for name, test in tests.items() if test.worse]
    if not worse:
        return None
    return _roll_back(active=active, previous=previous, tests=tests, worse=worse, new=new, old=old)


@transaction.atomic
def _roll_back(
    *,
    active: ModelVersion,
    previous: ModelVersion,
    tests: dict[str, Any],
    worse: list[str],
    new: dict[str, int],
    old: dict[str, int],
) -> ModelVersion | None:
    locked = ModelVersion.objects.select_for_update().get(pk=active.pk)
    if locked.status != ModelVersion.Status.ACTIVE:
        return None  # another promotion or rollback got there first
    restored = model_version_rollback()
    if restored.pk != previous.pk:  # cannot happen while only activations archive versions; never guess
        raise RuntimeError(f"rollback restored {restored.version}, the guardrail compared with {previous.version}")
    detail = ", ".join(
        f"{name.replace('_', ' ')} {tests[name].new_rate:.4f} vs {tests[name].old_rate:.4f} "
        f"(p = {tests[name].p_value:.2g})"
        for name in worse
    )
    locked.rolled_back_at = timezone.now()
    decision_record(
        locked,
        f"rolled back to {previous.version} by the guardrail: {detail} on {new['lists']} lists vs {old['lists']}",
    )
    locked.metrics["guardrail"] = {
        "compared_with": previous.version,
        "new": new,
        "previous": old,
        "tests": {name: test.as_dict() for name, test in tests.items()},
    }
    locked.save(update_fields=["rolled_back_at", "decision", "metrics"])
    logger.warning("%s %s", locked.version, locked.decision.rsplit("\n", 1)[-1])
    return locked
