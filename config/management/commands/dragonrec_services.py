from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from config import embedded


class Command(BaseCommand):
    help = "Start, stop or show the embedded PostgreSQL+pgvector and Redis (unused with DATABASE_URL/REDIS_URL)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args: object, action: str, **options: object) -> None:
        embedded.main([action])
