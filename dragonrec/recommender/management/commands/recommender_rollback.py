from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dragonrec.recommender.services.registry import model_version_rollback


class Command(BaseCommand):
    help = "Re-activate the previously active model version."

    def handle(self, *args: object, **options: object) -> None:
        try:
            version = model_version_rollback()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"rolled back: {version.version} is active"))
