from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dragonrec.recommender.services.privacy import shopper_data_erase


class Command(BaseCommand):
    help = (
        "Erase a shopper's data (events, preferences, served lists, teacher judgments, Redis state) for a support "
        "request, and keep them out of later training data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", type=int, help="the user's primary key")
        parser.add_argument("--session", default="", help="an anonymous shopper's session id")

    def handle(self, *args: object, user: int | None, session: str, **opts: object) -> None:
        if not user and not session:
            raise CommandError("name a shopper: --user ID and/or --session ID")
        if user and not get_user_model().objects.filter(pk=user).exists():
            raise CommandError(f"no user {user}")
        report = shopper_data_erase(user_id=user, session_id=session, requested_by="support")
        counts = ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in report.as_dict().items())
        self.stdout.write(self.style.SUCCESS(f"erased: {counts}"))
