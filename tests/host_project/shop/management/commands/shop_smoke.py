"""What the shop's storefront does, through the real URL conf and DRF views: a signed-in shopper looks at a
monitor and buys it with a keyboard, then the shop asks DragonRec for lists. Prints one JSON object."""

import json
import uuid

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test import Client

from shop.models import Product


class Command(BaseCommand):
    def handle(self, *args: object, **options: object) -> None:
        monitor = Product.objects.get(name__startswith="Vista 27")
        keyboard = Product.objects.get(name__startswith="Orbit mechanical")
        user, _ = get_user_model().objects.get_or_create(username="shopper")
        client = Client()
        client.force_login(user)

        events = [
            {"id": str(uuid.uuid4()), "type": "view", "product_id": monitor.pk},
            {"id": str(uuid.uuid4()), "type": "add_to_cart", "product_id": monitor.pk},
            {"id": str(uuid.uuid4()), "type": "purchase", "product_id": monitor.pk},
            {"id": str(uuid.uuid4()), "type": "purchase", "product_id": keyboard.pk},
            {"id": str(uuid.uuid4()), "type": "view", "product_id": 999_999},  # not one of ours: rejected
        ]
        posted = client.post("/api/events/", {"events": events}, content_type="application/json")
        # More shoppers: three buy a monitor with mice and cables, three buy kitchen goods; the beat job then learns
        # what goes together (PMI needs the contrast).
        desk = [monitor, *Product.objects.filter(section_path__in=["Computers > Mice", "Computers > Cables"])]
        kitchen = list(Product.objects.filter(section_path__startswith="Kitchen"))
        for i, bought in enumerate([desk, desk, desk, kitchen, kitchen, kitchen]):
            other = Client()
            other.force_login(get_user_model().objects.get_or_create(username=f"shopper{i}")[0])
            batch = [{"id": str(uuid.uuid4()), "type": "purchase", "product_id": p.pk} for p in bought]
            other.post("/api/events/", {"events": batch}, content_type="application/json")
        call_command("recommender_aggregates")
        home = client.get("/api/recommendations/", {"scenario": "home"})
        product = client.get("/api/recommendations/", {"scenario": "product", "product_id": monitor.pk})
        similar = client.get(f"/api/products/{monitor.pk}/similar/", {"n": 5})
        complements = client.get(f"/api/products/{monitor.pk}/complements/", {"n": 5})
        out = {
            "monitor": monitor.pk,
            "products": {p.pk: p.section_path for p in Product.objects.all()},
            "events": [posted.status_code, [r["status"] for r in posted.json()["results"]]],
        }
        for name, response in [
            ("home", home),
            ("product", product),
            ("similar", similar),
            ("complements", complements),
        ]:
            body = response.json()
            out[name] = [response.status_code, [item["product"]["id"] for item in body.get("items", [])]]
            out[name + "_first"] = body.get("items", [{}])[0].get("product") if body.get("items") else None
        self.stdout.write(json.dumps(out))
