"""Experiment validation: the one set of checks behind the admin form, the command and the API (a unique name,
scenarios that exist and no scenario shared with a running experiment, arms from the closed list of policies with
shares that add up)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from dragonrec.recommender.core.types import SCENARIOS
from dragonrec.recommender.models import Experiment

POLICY = re.compile(r"^(student:active|student:[\w.\-]+|teacher|embedding|trending|none)$")
# the closed list of arm policies, beside student:<version> for a stored version (policy_choices)
POLICIES: dict[str, str] = {
    "student:active": "Personal model (whichever version is active)",
    "teacher": "LLM teacher's cached judgments",
    "embedding": "Similar products (text embeddings)",
    "trending": "Trending",
    "none": "None: the shop's own list",
}
# the lists an experiment can run on: the recommendation scenarios and search results (services/search/)
EXPERIMENT_SCENARIOS: tuple[str, ...] = (*SCENARIOS, "search")
SHARE_TOLERANCE = 1e-6  # shares are floats: 0.1 + 0.2 + 0.7 must count as 1


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
