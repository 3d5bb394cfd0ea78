from django.apps import AppConfig

from dragonrec import settings_defaults

settings_defaults.apply()


class TrackingConfig(AppConfig):
    name = "dragonrec.tracking"
    label = "dragonrec_tracking"
    verbose_name = "Tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from dragonrec.tracking import receivers  # connects the login merge
        from dragonrec.tracking.models import ApiKey, Event, UserPreference

        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            uid = f"dragonrec.tracking.{{}}_{name}"
            signal.connect(receivers.preferences_changed, sender=UserPreference, dispatch_uid=uid.format("preference"))
            signal.connect(receivers.api_keys_changed, sender=ApiKey, dispatch_uid=uid.format("api_key"))
        # one saved event (an admin's edit, a factory): the services' bulk writes announce theirs themselves, and no
        # post_delete receiver, which would turn every bulk delete (erasure, retention) into a row-by-row one
        post_save.connect(receivers.event_saved, sender=Event, dispatch_uid="dragonrec.tracking.event_saved")
