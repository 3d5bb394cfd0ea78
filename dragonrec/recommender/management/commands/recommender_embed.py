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
        parser.add_argument(
            "--synthetic",
            action="store_true",
            help="Load tests only: per-category random vectors + noise instead of the embedder, for products "
            "without an embedding (marked text_hash='synthetic'; --all later replaces them with real ones).",
        )
        parser.add_argument("--seed", type=int, default=0, help="with --synthetic")

    def handle(
        self, *args: object, all: bool, no_progress: bool, synthetic: bool = False, seed: int = 0, **options: object
    ) -> None:
        if synthetic:
            from dragonrec.recommender.services.embeddings_synthetic import product_embeddings_synthetic

            written = product_embeddings_synthetic(seed=seed)
            self.stdout.write(self.style.SUCCESS(f"{written} products given synthetic embeddings"))
            return
        embedder = embedder_get()
        from dragonrec.recommender.adapters import product_adapter

        total = (
            product_adapter().queryset().count() if all else dirty_products_queryset(model_name=embedder.name).count()
        )
        with tqdm(total=total, desc="embedding", unit="product", disable=no_progress) as bar:
            embedded = product_embeddings_refresh_all(force=all, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"{embedded} products embedded with {embedder.name}"))
