from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommender"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_migrate, post_save

        from recommender import (
            checks,  # noqa: F401  (registers system checks)
            receivers,
        )
        from tracking.signals import events_recorded

        post_save.connect(
            receivers.product_saved, sender=settings.DRAGONREC_PRODUCT_MODEL, dispatch_uid="recommender.product_saved"
        )
        events_recorded.connect(receivers.events_recorded, dispatch_uid="recommender.events_recorded")
        post_migrate.connect(receivers.schedule_install, sender=self, dispatch_uid="recommender.schedule_install")
