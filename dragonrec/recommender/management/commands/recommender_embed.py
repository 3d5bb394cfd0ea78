from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from dragonrec.recommender.services.embeddings import (
    dirty_products_queryset,
    embedder_get,
    product_embeddings_refresh_all,
)


class Command(BaseCommand):
    help = "Embed products whose text changed or that have no embedding yet (--all: re-embed everything)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Re-embed every product, changed or not.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: object, all: bool, no_progress: bool, **options: object) -> None:
        embedder = embedder_get()
        from dragonrec.recommender.adapters import product_adapter

        total = (
            product_adapter().queryset().count() if all else dirty_products_queryset(model_name=embedder.name).count()
        )
        with tqdm(total=total, desc="embedding", unit="product", disable=no_progress) as bar:
            embedded = product_embeddings_refresh_all(force=all, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"{embedded} products embedded with {embedder.name}"))
