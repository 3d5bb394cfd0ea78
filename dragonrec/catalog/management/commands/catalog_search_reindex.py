from __future__ import annotations

from django.core.management.base import BaseCommand

from dragonrec.catalog.search import product_search_index_update


class Command(BaseCommand):
    help = (
        "Rewrite every product's search vector (after product text was changed without save(), e.g. by a queryset "
        "update() or raw SQL, or after upgrading DragonRec's search normalisation)."
    )

    def handle(self, *args: object, **opts: object) -> None:
        count = product_search_index_update()
        self.stdout.write(self.style.SUCCESS(f"{count} products indexed"))
