from __future__ import annotations

from django.core.management.base import BaseCommand

from dragonrec.recommender.services.aggregates import complements_recompute, trending_recompute


class Command(BaseCommand):
    help = "Recompute trending scores and complements now (the beat jobs do this on a schedule)."

    def handle(self, *args: object, **options: object) -> None:
        trending = trending_recompute()
        pairs, categories = complements_recompute()
        self.stdout.write(
            self.style.SUCCESS(
                f"trending: {trending} products; complements: {pairs} pairs, {categories} category pairs"
            )
        )
