from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from dragonrec.catalog.services import catalog_import


class Command(BaseCommand):
    help = (
        "Upsert products by sku from items.jsonl (the ../shared/data format: item_id, title, brand, category as "
        "'A > B > C', description, optional price/currency/stock/image_url/attributes) or a CSV with those columns."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--strict", action="store_true", help="Abort without writing anything if any row is bad.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self, *args: object, path: Path, strict: bool, batch_size: int, no_progress: bool, **opts: object
    ) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        with tqdm(desc="products", unit="row", disable=no_progress) as bar:
            report = catalog_import(path=path, strict=strict, batch_size=batch_size, progress=bar.update)
        for error in report.errors[:200]:
            sku = f" (sku {error.sku})" if error.sku else ""
            self.stderr.write(f"{path}:{error.line}: {error.reason}{sku}")
        if len(report.errors) > 200:
            self.stderr.write(f"... and {len(report.errors) - 200} more bad rows")
        if report.aborted:
            raise CommandError(f"--strict: {len(report.errors)} bad rows, nothing was written")
        self.stdout.write(
            self.style.SUCCESS(f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected")
        )
