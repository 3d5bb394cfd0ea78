from django.apps import AppConfig

from dragonrec import settings_defaults

settings_defaults.apply()


class CatalogConfig(AppConfig):
    name = "dragonrec.catalog"
    label = "dragonrec_catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save

        from dragonrec.catalog import receivers
        from dragonrec.catalog.models import Category, Product

        if settings.DRAGONREC_PRODUCT_MODEL == "dragonrec_catalog.Product":  # swapped out: no table to index
            post_save.connect(receivers.product_saved, sender=Product, dispatch_uid="dragonrec_catalog_search")
            post_save.connect(receivers.category_saved, sender=Category, dispatch_uid="dragonrec_category_search")
