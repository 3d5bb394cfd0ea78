from django.apps import AppConfig

from dragonrec import settings_defaults

settings_defaults.apply()


class TrackingConfig(AppConfig):
    name = "dragonrec.tracking"
    label = "dragonrec_tracking"
    verbose_name = "Tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dragonrec.tracking import receivers  # noqa: F401  (connects the login merge)
