from django.apps import AppConfig

from dragonrec import settings_defaults

settings_defaults.apply()


class RecommenderConfig(AppConfig):
    name = "dragonrec.recommender"
    label = "dragonrec_recommender"
    verbose_name = "Recommender"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_migrate, post_save

        from dragonrec.recommender import (
            checks,  # noqa: F401  (registers system checks)
            receivers,
        )
        from dragonrec.tracking.signals import events_recorded

        post_save.connect(
            receivers.product_saved,
            sender=settings.DRAGONREC_PRODUCT_MODEL,
            dispatch_uid="dragonrec.product_saved",
        )
        events_recorded.connect(receivers.events_recorded, dispatch_uid="dragonrec.events_recorded")
        post_migrate.connect(receivers.schedule_install, sender=self, dispatch_uid="dragonrec.schedule_install")
        # job health: every run of a scheduled job is recorded here, whoever started it
        from celery.signals import task_failure, task_prerun, task_retry, task_success

        task_prerun.connect(receivers.job_started, dispatch_uid="dragonrec.job_started", weak=False)
        task_success.connect(receivers.job_succeeded, dispatch_uid="dragonrec.job_succeeded", weak=False)
        task_failure.connect(receivers.job_failed, dispatch_uid="dragonrec.job_failed", weak=False)
        task_retry.connect(receivers.job_retried, dispatch_uid="dragonrec.job_retried", weak=False)
