from django.apps import AppConfig


class DragonRecConfig(AppConfig):
    """Project-level app: owns the `dragonrec_services` command (embedded PostgreSQL/Redis)."""

    name = "config"
    label = "dragonrec"
    verbose_name = "DragonRec"
