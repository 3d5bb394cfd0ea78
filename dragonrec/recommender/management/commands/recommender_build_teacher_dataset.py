from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.services.teacher_dataset import teacher_dataset_build, teacher_dataset_export


class Command(BaseCommand):
    help = (
        "Sample histories from real sequences plus edge cases (single item, mixed categories, cold start, repeated "
        "views, bot-like bursts), have the teacher judge them through Celery within a spend budget, and/or export "
        "stored judgments as {'input': 'User viewed ...', 'output': 'Recommend: ...'} JSONL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--histories", type=int, default=200)
        parser.add_argument("--max-cost", type=float, default=1.0, help="USD this run may spend (default 1.0)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--sync", action="store_true", help="Call the teacher here instead of through Celery.")
        parser.add_argument("--export", type=Path, help="Write the text-format JSONL here (after judging, if any).")
        parser.add_argument("--export-only", action="store_true")

    def handle(
        self,
        *args: object,
        histories: int,
        max_cost: float,
        seed: int,
        sync: bool,
        export: Path | None,
        export_only: bool,
        **options: object,
    ) -> None:
        if not export_only:
            if not recommender_settings.teacher_enabled:
                raise CommandError("the teacher is off: set OPENAI_API_KEY or OPENAI_BASE_URL")
            with tqdm(total=histories, desc="histories", unit="history") as bar:
                report = teacher_dataset_build(
                    n=histories, max_cost_usd=max_cost, seed=seed, via_celery=not sync, progress=bar.update
                )
            where = "queued for the Celery worker" if report["celery"] else "judged"
            self.stdout.write(self.style.SUCCESS(f"{report['queued']} of {report['histories']} histories {where}"))
        if export:
            written = teacher_dataset_export(path=export)
            self.stdout.write(self.style.SUCCESS(f"{written} examples written to {export}"))
