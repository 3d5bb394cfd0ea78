"""The experiment's life as the owner drives it: create, start, stop, and end it by promoting the winning arm."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from dragonrec.recommender.models import Arm, Experiment
from dragonrec.recommender.services.experiments.analysis import experiment_results
from dragonrec.recommender.services.experiments.assignment import experiments_reset
from dragonrec.recommender.services.experiments.validation import ArmSpec, ExperimentError, experiment_validate


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
