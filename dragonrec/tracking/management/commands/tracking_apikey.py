from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dragonrec.tracking.models import ApiKey
from dragonrec.tracking.services import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API keys for server integrations (the full key is printed once, at creation)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it")
        create.add_argument("name")
        create.add_argument(
            "--scopes",
            default=",".join(ApiKey.Scope.values),
            help=f"comma-separated, some of {', '.join(ApiKey.Scope.values)} (default: all)",
        )
        sub.add_parser("list", help="list keys (prefix, name, scopes, state)")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: object, action: str, **opts: str) -> None:
        key: ApiKey | None
        if action == "create":
            try:
                key, raw = api_key_create(name=opts["name"], scopes=[s for s in opts["scopes"].split(",") if s])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stderr.write(f"created {key}; store this key now, it is not shown again:")
            self.stdout.write(raw)
        elif action == "list":
            for key in ApiKey.objects.all():
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                self.stdout.write(f"{key.prefix}  {key.name}  {','.join(key.scopes)}  {state}")
        else:
            key = ApiKey.objects.filter(prefix=opts["prefix"]).first()
            if key is None:
                raise CommandError(f"no API key with prefix {opts['prefix']!r}")
            api_key_revoke(key=key)
            self.stdout.write(self.style.SUCCESS(f"revoked {key}"))
