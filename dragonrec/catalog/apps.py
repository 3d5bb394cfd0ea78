from django.apps import AppConfig

from dragonrec import settings_defaults

settings_defaults.apply()


class CatalogConfig(AppConfig):
    name = "dragonrec.catalog"
    label = "dragonrec_catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"
