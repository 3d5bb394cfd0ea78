from __future__ import annotations

import time

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from dragonrec.tracking.generate import shop_generate


class Command(BaseCommand):
    help = (
        "Generate a large synthetic shop for load tests: a category tree, brands, power-law popularity, price bands "
        "and shopper sessions (views -> carts -> purchases, cross-category co-purchases), bulk-loaded with COPY. "
        "Embeddings: --embeddings fast (per-category centroid + noise, flagged; for load tests), real (the "
        "configured embedder: small catalogs only, MiniLM does ~100 products/s on 2 cores) or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, required=True)
        parser.add_argument("--shoppers", type=int, required=True)
        parser.add_argument("--events", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--days", type=int, default=28, help="the events span the last DAYS days")
        parser.add_argument("--embeddings", choices=["fast", "real", "none"], default="fast")
        parser.add_argument("--search-index", action="store_true", help="write the products' search vectors too")

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        try:
            report = shop_generate(
                products=int(options["products"]),  # type: ignore[call-overload]
                shoppers=int(options["shoppers"]),  # type: ignore[call-overload]
                events=int(options["events"]),  # type: ignore[call-overload]
                seed=int(options["seed"]),  # type: ignore[call-overload]
                days=int(options["days"]),  # type: ignore[call-overload]
                progress=lambda line: self.stdout.write(line),
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["search_index"]:
            from dragonrec.catalog.search import product_search_index_update

            step = time.perf_counter()
            product_search_index_update()
            self.stdout.write(f"search vectors in {time.perf_counter() - step:.1f} s")
        embeddings = options["embeddings"]
        if embeddings != "none" and apps.is_installed("dragonrec.recommender"):
            # by name: the catalog app does not import the recommender
            step = time.perf_counter()
            call_command("recommender_embed", synthetic=embeddings == "fast", no_progress=True, stdout=self.stdout)
            self.stdout.write(f"embeddings ({embeddings}) in {time.perf_counter() - step:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.categories} categories, {report.products} products, {report.events} events in "
                f"{time.perf_counter() - started:.1f} s; database {size}"
            )
        )
