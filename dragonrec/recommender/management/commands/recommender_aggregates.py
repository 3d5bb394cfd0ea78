from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from dragonrec.recommender.services.aggregates import complements_recompute, trending_recompute
from dragonrec.recommender.services.aggregates_incremental import copurchase_refresh, trending_refresh


class Command(BaseCommand):
    help = (
        "Recompute trending scores and complements now (the beat jobs do this on a schedule). --incremental: add "
        "the events received since the last run in PostgreSQL (AGGREGATES_INCREMENTAL's path); with --rebuild, "
        "recompute that path's tables from the whole window."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incremental", action="store_true")
        parser.add_argument("--rebuild", action="store_true", help="with --incremental: from the whole window")

    def handle(self, *args: object, incremental: bool, rebuild: bool, **options: object) -> None:
        if incremental:
            trending = trending_refresh(rebuild=rebuild)
            products, categories = copurchase_refresh(rebuild=rebuild)
            self.stdout.write(
                self.style.SUCCESS(
                    f"trending: {trending} products changed; complements: {products} products rescored, "
                    f"{categories} category pairs"
                )
            )
            return
        trending = trending_recompute()
        pairs, categories = complements_recompute()
        self.stdout.write(
            self.style.SUCCESS(
                f"trending: {trending} products; complements: {pairs} pairs, {categories} category pairs"
            )
        )
