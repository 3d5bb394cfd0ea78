"""Load the demo shop: catalog, a demo superuser, generated browsing/purchase sessions, embeddings, trending and
complements, and a first student. Idempotent: a second run only fills what is missing."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from dragonrec.catalog.demo.images import with_demo_image
from dragonrec.catalog.demo.sessions import generate_sessions, load_complements, load_products
from dragonrec.catalog.models import Product
from dragonrec.catalog.services import catalog_import
from dragonrec.tracking.models import Event

DEMO_ADMIN = ("admin", "dragonrec-demo")  # stated in the README; a demo-only account
# a shopper to try the shop as (not staff): a runner who compared shoes, bought a pair and looked at a running shirt,
# so their home page shows running gear where a new visitor sees the shop's bestsellers. Stated in the README.
DEMO_SHOPPER = ("shopper", "dragonrec-shopper")
SHOPPER_STORY = (
    # (leaf category, rank of the product in it (catalog order), event type)
    ("Sports & Outdoors > Running > Running Shoes", 0, "view"),
    ("Sports & Outdoors > Running > Running Shoes", 1, "view"),
    ("Sports & Outdoors > Running > Running Shoes", 2, "view"),
    ("Sports & Outdoors > Running > Running Shoes", 1, "add_to_cart"),
    ("Sports & Outdoors > Running > Running Shoes", 1, "purchase"),
    ("Sports & Outdoors > Running > Running Apparel", 0, "view"),
)
EVENT_NAMESPACE = uuid.UUID("0b8f4a52-6f1d-4b8e-9a3c-5d2e1f0a9b77")


def merchant_map_enter() -> int:
    """Enter the demo's whole category map (dragonrec/catalog/demo/complements.json: what goes with a monitor,
    strongest first) as merchant category complements (admin's "Category complements", manual=True).

    Not done by default: the map is the world the demo's sessions are drawn from, and "goes well with" must come from
    what the shop learns of those sessions (co-purchases and category pairs), not from the answer key. A merchant
    enters a pair in admin as a correction; this enters them all, for comparing the two (bench/scenarios.py)."""
    from dragonrec.recommender.models import CategoryComplement

    entered = 0
    for category, complements in load_complements().items():
        for rank, complement in enumerate(complements):
            # scores fall with the merchant's order; manual rows are served before learned ones regardless
            CategoryComplement.objects.update_or_create(
                category_path=category,
                complement_path=complement,
                defaults={"score": float(len(complements) - rank), "manual": True},
            )
            entered += 1
    return entered


class Command(BaseCommand):
    help = "Load the demo catalog, users and events, then embed, aggregate and train (skips what is done)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-train", action="store_true")
        parser.add_argument(
            "--merchant-map",
            action="store_true",
            help="also enter the demo's whole category map as merchant category complements (for comparison: "
            "the shop's complements are learned from its sessions without it)",
        )

    def handle(self, *args: object, skip_train: bool, merchant_map: bool = False, **options: object) -> None:
        products_path = Path(__file__).resolve().parents[3] / "dragonrec" / "catalog" / "demo" / "products.jsonl"
        # products.jsonl names an image host that does not exist: the shop serves its own picture per category.
        report = catalog_import(path=products_path, transform=with_demo_image)
        self.stdout.write(f"catalog: {report.created} created, {report.updated} updated")
        User = get_user_model()
        if not settings.DRAGONREC_DEMO_ADMIN:
            self.stdout.write("demo superuser skipped (DRAGONREC_DEMO_ADMIN is off outside config.settings.dev)")
        elif not User.objects.filter(username=DEMO_ADMIN[0]).exists():
            User.objects.create_superuser(DEMO_ADMIN[0], "admin@example.com", DEMO_ADMIN[1])
            self.stdout.write(f"superuser: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
        if not Event.objects.filter(source="demo").exists():
            self._load_events()
        if settings.DRAGONREC_DEMO_ADMIN:
            self._demo_shopper(products_path)
        call_command("recommender_embed", "--no-progress")
        if merchant_map:
            self.stdout.write(f"category complements: {merchant_map_enter()} entered from the demo merchant's map")
        call_command("recommender_aggregates")
        if not skip_train:
            from dragonrec.recommender.models import ModelVersion

            if not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
                call_command("recommender_train", "--promote", "--quiet")

    @transaction.atomic
    def _demo_shopper(self, products_path: Path) -> None:
        """The demo shopper account and its history (once; the password is the README's, demo settings only)."""
        import json
        from datetime import timedelta

        from django.utils import timezone

        User = get_user_model()
        user = User.objects.filter(username=DEMO_SHOPPER[0]).first()
        if user is None:
            user = User.objects.create_user(DEMO_SHOPPER[0], "shopper@example.com", DEMO_SHOPPER[1])
            self.stdout.write(f"shopper: {DEMO_SHOPPER[0]} / {DEMO_SHOPPER[1]}")
        if Event.objects.filter(user=user).exists():
            return
        by_category: dict[str, list[str]] = {}
        for line in products_path.read_text().splitlines():
            row = json.loads(line)
            if int(row.get("stock") or 0) > 0:  # what the story buys must be buyable
                by_category.setdefault(row["category"], []).append(row["item_id"])
        products = {p.sku: p for p in Product.objects.filter(sku__in=[s for v in by_category.values() for s in v])}
        start = timezone.now() - timedelta(hours=3)
        events = []
        for k, (category, rank, kind) in enumerate(SHOPPER_STORY):
            product = products[by_category[category][rank]]
            events.append(
                Event(
                    id=uuid.uuid5(EVENT_NAMESPACE, f"{DEMO_SHOPPER[0]}|{k}"),
                    type=kind,
                    user=user,
                    session_id="demo-shopper",
                    product=product,
                    value=product.price if kind == "purchase" else None,
                    timestamp=start + timedelta(minutes=3 * k),
                    source="demo",
                )
            )
        Event.objects.bulk_create(events, ignore_conflicts=True)

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
