from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from dragonrec.tracking.services import IMPORT_BATCH, tracking_import


class Command(BaseCommand):
    help = "Load events.csv (user_id,item_id,event_type,timestamp[,rating]); idempotent, batched."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--batch-size", type=int, default=IMPORT_BATCH)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: object, path: Path, batch_size: int, no_progress: bool, **opts: object) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        with tqdm(desc="events", unit="row", disable=no_progress) as bar:
            report = tracking_import(path=path, batch_size=batch_size, progress=bar.update)
        for error in report.errors[:200]:
            self.stderr.write(f"{path}:{error.line}: {error.reason}")
        if len(report.errors) > 200:
            self.stderr.write(f"... and {len(report.errors) - 200} more bad rows")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} created, {report.duplicates} duplicates, {len(report.errors)} rejected, "
                f"{report.users_created} users created"
            )
        )
