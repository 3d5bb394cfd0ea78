"""Which arm serves a shopper: a salted hash of the shopper key (core.experiments.assign), over a per-process view
of the running experiments."""

from __future__ import annotations

from dragonrec.recommender.core import experiments as stats
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.models import Arm, Experiment

CACHE_TTL_S = 5.0  # how stale a serving process's view of running experiments may be (like the catalog snapshot)
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
