from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dragonrec.recommender.services.registry import student_train_and_register


class Command(BaseCommand):
    help = "Train a new student version on tracking events and teacher judgments; --promote gates it into service."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--promote", action="store_true", help="Activate it if it beats the active version.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--max-epochs", type=int, default=None)
        parser.add_argument("--time-budget", type=float, default=None, help="Seconds of training at most.")
        parser.add_argument("--quiet", action="store_true")

    def handle(
        self,
        *args: object,
        promote: bool,
        seed: int,
        max_epochs: int | None,
        time_budget: float | None,
        quiet: bool,
        **options: object,
    ) -> None:
        from dragonrec.recommender.conf import recommender_settings
        from dragonrec.recommender.ml.model import StudentConfig

        overrides: dict[str, Any] = {"time_budget_s": time_budget or float(recommender_settings.STUDENT_TIME_BUDGET_S)}
        if max_epochs:
            overrides["max_epochs"] = max_epochs
        version = student_train_and_register(
            promote=promote,
            notes="manage.py recommender_train",
            seed=seed,
            config=StudentConfig(**overrides),
            progress=not quiet,
        )
        if version is None:
            raise CommandError("not enough data to train (see STUDENT_MIN_EVENTS) or no product embeddings yet")
        gate = version.metrics.get("gate_ndcg@10")
        shown = f"{gate:.4f}" if isinstance(gate, int | float) else "-"
        self.stdout.write(self.style.SUCCESS(f"{version.version}: {version.status}, gate NDCG@10 {shown}"))
