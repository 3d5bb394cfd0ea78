from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.registry import model_version_force_activate, model_version_promote_if_better


class Command(BaseCommand):
    help = "Activate a model version: through the promotion gate, or unconditionally with --force."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version")
        parser.add_argument("--force", action="store_true", help="Skip the gate (recorded in the version's notes).")
        parser.add_argument("--reason", default="", help="Why the gate is skipped (recorded with --force).")

    def handle(self, *args: object, version: str, force: bool, reason: str, **options: object) -> None:
        target = ModelVersion.objects.filter(version=version).first()
        if target is None:
            raise CommandError(f"no model version {version!r}")
        try:
            promoted = (
                model_version_force_activate(version=target, by="manage.py recommender_promote --force", reason=reason)
                if force
                else model_version_promote_if_better(version=target)
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not promoted:
            raise CommandError(f"{version} does not beat the active version; use --force to activate it anyway")
        self.stdout.write(self.style.SUCCESS(f"{version} is active"))
