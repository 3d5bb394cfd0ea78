"""Celery queues, one per kind of job, so each kind can have workers of its own (docs/scaling.md):

- `impressions`: the impression flush (buffer → database). Seconds behind serving at most: never behind a long job,
  or the Redis buffer fills up.
- `teacher`: LLM judgments (serving lists, dataset histories). Paid calls, seconds each, rate-limited: a flood of
  them delays nothing else.
- `training`: the nightly training and the hourly online update. Minutes to an hour of CPU (or GPU): prefetch 1.
- `maintenance`: trending, complements, rewards, experiment results, retention. Aggregate queries over the history,
  minutes each at a large shop, never ahead of a flush.
- `default`: everything else (embeddings of changed products, the guardrail): short jobs.

Every queue needs a worker consuming it: one worker for all of them (`-Q` ALL, what `make demo` and the tests run) or
one per queue. Importable without Django or Celery (launchers build their command lines from it).
"""

from __future__ import annotations

DEFAULT = "default"
IMPRESSIONS = "impressions"
TEACHER = "teacher"
TRAINING = "training"
MAINTENANCE = "maintenance"

QUEUES = (DEFAULT, IMPRESSIONS, TEACHER, MAINTENANCE, TRAINING)
ALL = ",".join(QUEUES)  # `celery -A config worker -Q <ALL>`: one worker that runs every kind of job

_TASKS = "dragonrec.recommender.tasks."
# CELERY_TASK_ROUTES (config/settings/base.py); recommender/task_names.py names the ones services queue by name.
ROUTES: dict[str, dict[str, str]] = {
    **{_TASKS + name: {"queue": IMPRESSIONS} for name in ("impressions_flush",)},
    **{_TASKS + name: {"queue": TEACHER} for name in ("teacher_score", "teacher_judge_payload")},
    **{_TASKS + name: {"queue": TRAINING} for name in ("student_train", "student_update")},
    **{
        _TASKS + name: {"queue": MAINTENANCE}
        for name in (
            "trending_recompute",
            "complements_recompute",
            "rewards_update",
            "experiment_results_refresh",
            "retention_apply",
        )
    },
}
