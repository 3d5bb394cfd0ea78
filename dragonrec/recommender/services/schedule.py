"""Our periodic tasks in django-celery-beat, created or updated by name: a host project's own schedule entries
are never touched."""

from __future__ import annotations

import json

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from dragonrec.recommender.models import JobRun

# name -> (task, schedule, expires seconds). Intervals are what a mid-size shop needs; edit them in the admin.
SCHEDULE: dict[str, tuple[str, dict[str, int | str], int]] = {
    "dragonrec: embed dirty products": (
        "dragonrec.recommender.tasks.embed_products",
        {"every": 5, "period": "minutes"},
        300,
    ),
    "dragonrec: trending": ("dragonrec.recommender.tasks.trending_recompute", {"every": 15, "period": "minutes"}, 900),
    "dragonrec: complements": (
        "dragonrec.recommender.tasks.complements_recompute",
        {"every": 6, "period": "hours"},
        3600,
    ),
    # normally each buffered impression schedules its own flush; this is the net if such a message was lost
    "dragonrec: flush impressions": (
        "dragonrec.recommender.tasks.impressions_flush",
        {"every": 1, "period": "minutes"},
        60,
    ),
    "dragonrec: rewards": ("dragonrec.recommender.tasks.rewards_update", {"every": 30, "period": "minutes"}, 1800),
    "dragonrec: experiment results": (
        "dragonrec.recommender.tasks.experiment_results_refresh",
        {"every": 15, "period": "minutes"},
        900,
    ),
    "dragonrec: nightly student training": ("dragonrec.recommender.tasks.student_train", {"crontab": "30 3"}, 6 * 3600),
    # after training (03:30) has read its data; quiet hours for a shop's database
    # served lists are written into day partitions: today's and the next three exist before they are needed
    "dragonrec: served-list partitions": (
        "dragonrec.recommender.tasks.served_partitions_ensure",
        {"every": 6, "period": "hours"},
        6 * 3600,
    ),
    "dragonrec: retention": ("dragonrec.recommender.tasks.retention_apply", {"crontab": "15 5"}, 6 * 3600),
}


TRAINING_QUEUE_TASKS = ("dragonrec.recommender.tasks.student_train", "dragonrec.recommender.tasks.student_update")


def schedule() -> dict[str, tuple[str, dict[str, int | str], int]]:
    """SCHEDULE plus the online update and the guardrail, at the intervals their settings give (when on)."""
    from dragonrec.recommender.services.guardrail import guardrail_settings
    from dragonrec.recommender.services.online import online_settings

    entries = dict(SCHEDULE)
    for name, task, conf in (
        ("dragonrec: online student update", "dragonrec.recommender.tasks.student_update", online_settings()),
        ("dragonrec: model guardrail", "dragonrec.recommender.tasks.model_guardrail", guardrail_settings()),
    ):
        if conf["enabled"]:
            minutes = int(conf["every_minutes"])
            entries[name] = (task, {"every": minutes, "period": "minutes"}, minutes * 60)
    return entries


def periodic_tasks_install() -> int:
    entries = schedule()
    for name, (task, spec, expires) in entries.items():
        defaults: dict[str, object] = {"task": task, "expire_seconds": expires, "kwargs": json.dumps({})}
        if "crontab" in spec:
            minute, hour = str(spec["crontab"]).split()
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*"
            )
            defaults.update(crontab=crontab, interval=None)
        else:
            interval, _ = IntervalSchedule.objects.get_or_create(every=spec["every"], period=spec["period"])
            defaults.update(interval=interval, crontab=None)
        if task in TRAINING_QUEUE_TASKS:
            defaults["queue"] = "training"
        PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        # job health judges a job that never succeeded from when it was installed
        JobRun.objects.get_or_create(task=task)
    return len(entries)
