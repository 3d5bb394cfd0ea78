from __future__ import annotations

import sys
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from dragonrec.recommender.services.reward_log import FORMATS, reward_log_export


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"not a date or date-time: {value!r} (use 2026-11-30 or 2026-11-30T12:00:00Z)")
        parsed = datetime(day.year, day.month, day.day)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = "Export the reward log (served lists and what came of them), one JSON object per line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="lists served at or after this date or date-time")
        parser.add_argument("--until", help="lists served before this date or date-time")
        parser.add_argument("--format", choices=FORMATS, default="seed", dest="fmt")
        parser.add_argument("--out", required=True, help="file to write, or - for standard output")

    def handle(
        self, *args: object, since: str | None, until: str | None, fmt: str, out: str, **options: object
    ) -> None:
        start, end = _when(since), _when(until)
        if out == "-":
            written = reward_log_export(out=sys.stdout, fmt=fmt, since=start, until=end)
        else:
            with open(out, "w", encoding="utf-8") as handle:
                written = reward_log_export(out=handle, fmt=fmt, since=start, until=end)
        self.stderr.write(f"{written} lists written")
