"""Load the demo shop: catalog, a demo superuser, generated browsing/purchase sessions, embeddings, trending and
complements, and a first student. Idempotent: a second run only fills what is missing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from dragonrec.catalog.demo.sessions import generate_sessions, load_products
from dragonrec.catalog.models import Product
from dragonrec.catalog.services import catalog_import
from dragonrec.tracking.models import Event

DEMO_ADMIN = ("admin", "dragonrec-demo")  # stated in the README; a demo-only account
EVENT_NAMESPACE = uuid.UUID("0b8f4a52-6f1d-4b8e-9a3c-5d2e1f0a9b77")


class Command(BaseCommand):
    help = "Load the demo catalog, users and events, then embed, aggregate and train (skips what is done)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-train", action="store_true")

    def handle(self, *args: object, skip_train: bool, **options: object) -> None:
        products_path = Path(__file__).resolve().parents[3] / "dragonrec" / "catalog" / "demo" / "products.jsonl"
        report = catalog_import(path=products_path)
        self.stdout.write(f"catalog: {report.created} created, {report.updated} updated")
        User = get_user_model()
        if not settings.DRAGONREC_DEMO_ADMIN:
            self.stdout.write("demo superuser skipped (DRAGONREC_DEMO_ADMIN is off outside config.settings.dev)")
        elif not User.objects.filter(username=DEMO_ADMIN[0]).exists():
            User.objects.create_superuser(DEMO_ADMIN[0], "admin@example.com", DEMO_ADMIN[1])
            self.stdout.write(f"superuser: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
        if not Event.objects.filter(source="demo").exists():
            self._load_events()
        call_command("recommender_embed", "--no-progress")
        self._category_complements()
        call_command("recommender_aggregates")
        if not skip_train:
            from dragonrec.recommender.models import ModelVersion

            if not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
                call_command("recommender_train", "--promote", "--quiet")

    def _category_complements(self) -> None:
        """The demo merchant's own category map (what goes with a monitor: cables, arms, keyboards, ...), entered
        as merchant category complements (admin's "Category complements", manual=True), strongest first. Learned
        pairs still come on top for the categories it leaves out; a merchant corrects either in admin."""
        from dragonrec.recommender.models import CategoryComplement

        path = Path(__file__).resolve().parents[3] / "dragonrec" / "catalog" / "demo" / "complements.json"
        entered = 0
        for category, complements in json.loads(path.read_text()).items():
            for rank, complement in enumerate(complements):
                # scores fall with the merchant's order; manual rows are served before learned ones regardless
                CategoryComplement.objects.update_or_create(
                    category_path=category,
                    complement_path=complement,
                    defaults={"score": float(len(complements) - rank), "manual": True},
                )
                entered += 1
        self.stdout.write(f"category complements: {entered} entered (or updated) from the demo merchant's map")

    @transaction.atomic
    def _load_events(self) -> None:
        demo = generate_sessions(products=load_products())
        skus = dict(Product.objects.values_list("sku", "id"))
        User = get_user_model()
        names = {e.user for e in demo if e.user}
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create([User(username=n, password="!") for n in sorted(names - existing)])
        users = dict(User.objects.filter(username__in=names).values_list("username", "id"))
        events = [
            Event(
                id=uuid.uuid5(EVENT_NAMESPACE, f"{e.session_id}|{i}"),
                type=e.type,
                user_id=users.get(e.user) if e.user else None,
                session_id=e.session_id,
                product_id=skus[e.sku],
                quantity=e.quantity,
                timestamp=e.timestamp,
                source="demo",
            )
            for i, e in enumerate(demo)
            if e.sku in skus
        ]
        Event.objects.bulk_create(events, batch_size=5000, ignore_conflicts=True)
        self.stdout.write(f"events: {len(events)} demo events for {len(users)} users")
