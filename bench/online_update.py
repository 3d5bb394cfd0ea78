"""How long one hourly online update (`student_update`) takes on demo-sized traffic. Bar: under 60 s on 2 cores.

    .venv/bin/python bench/online_update.py                      # on this checkout's embedded services
    .venv/bin/python bench/online_update.py --shoppers 400 --new-products 10 --repetitions 3

What it does, on the development database of this checkout (`config.embedded`, as bench/faults.py):
1. loads the demo shop (`dragonrec_demo_data --skip-train`: 300 products, a month of 600 sessions) and, when no
   version is active, trains a first student with a bounded budget (`recommender_train --promote`);
2. makes "the last hour" once (tagged `source="bench-online"`, reused by later runs): `--new-products` products
   added to the catalog and embedded, `--shoppers` shoppers whose sessions come from the demo's own generator
   (another seed, one day squeezed into the hour: ~20x the demo's hourly rate), each served a home list through
   `recommendation_list` whose first items they click with a position-biased probability (clicks recorded with
   `events_record`, attributed as in production);
   The clicks depend on the position only, not on what the shopper wants: they are there to be processed, and
   they teach nothing, so the candidate is expected to be refused (the logged clicks favour the order that was
   served; the gate's held-out last events of this hour's shoppers are those clicks). Quality is the closed-loop
   simulator's job (bench/closed_loop.py), where clicks follow the shoppers' real next items.
3. times `student_update()` `--repetitions` times; before each, the online versions of earlier runs are removed
   (with their artifacts) and the full-retrain version re-activated, so every run does the same work.
Prints each run's seconds and what it did, the range, and the load average (the box is shared).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep instead of spinning (shared box)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import argparse
import shutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TAG = "bench-online"
POSITION_CLICK = 0.3  # click chance at the top slot, falling as 1 / log2(k + 2) (the simulator's examination curve)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, check=True)


def make_hour(*, shoppers: int, new_products: int) -> None:
    """The traffic of "the last hour", once: new products, sessions, served lists and their clicks."""
    from django.utils import timezone

    from dragonrec.catalog.demo.sessions import generate_sessions, load_products
    from dragonrec.catalog.models import Product
    from dragonrec.recommender.services.embeddings import product_embeddings_refresh
    from dragonrec.recommender.services.impressions import impressions_flush
    from dragonrec.recommender.services.recommendations import recommendation_list
    from dragonrec.tracking.models import Event
    from dragonrec.tracking.services import EventInput, events_record

    if Event.objects.filter(source=TAG).exists():
        return

    template = Product.objects.order_by("pk").first()
    assert template is not None, "the demo catalog did not load"
    added = [
        Product.objects.create(
            sku=f"BENCH-NEW-{i}",
            title=f"{template.title} (new edition {i})",
            description=template.description,
            category=template.category,
            price=template.price,
        )
        for i in range(new_products)
    ]
    product_embeddings_refresh(product_ids=[p.pk for p in added])
    demo = generate_sessions(products=load_products(), n_users=shoppers, n_sessions=shoppers, days=1, seed=11)
    skus = dict(Product.objects.values_list("sku", "id"))
    now = timezone.now()
    shift = now - max(e.timestamp for e in demo)
    Event.objects.bulk_create(
        [
            Event(
                type=e.type,
                session_id=f"{TAG}-{e.session_id}",
                product_id=skus[e.sku],
                quantity=e.quantity,
                timestamp=now - (now - e.timestamp - shift) / 24,  # the day, squeezed into the last hour
                source=TAG,
            )
            for e in demo
            if e.sku in skus
        ],
        batch_size=5000,
    )
    rng = np.random.default_rng(0)
    sessions = sorted({f"{TAG}-{e.session_id}" for e in demo})
    for session in sessions:
        served = recommendation_list(scenario="home", session_id=session, n=10)
        clicks = [
            EventInput(
                id=uuid.uuid4(),
                type="click",
                product_id=item.product_id,
                session_id=session,
                context={"request_id": str(served.request_id), "position": k + 1},
            )
            for k, item in enumerate(served.items)
            if rng.random() < POSITION_CLICK / np.log2(k + 2)
        ]
        impressions_flush()
        if clicks:
            events_record(items=clicks, source=TAG)
    print(
        f"the last hour: {len(sessions)} shoppers, {Event.objects.filter(source=TAG).count()} events, "
        f"{new_products} new products"
    )


def reset() -> None:
    """Remove earlier runs' online versions (and their artifacts: a reused version name must not meet old files)
    and re-activate the full-retrain version they grew from."""
    from django.core.files.storage import default_storage

    from dragonrec.recommender.models import ModelVersion
    from dragonrec.recommender.services.registry import model_version_activate

    base = ModelVersion.objects.filter(kind=ModelVersion.Kind.FULL, activated_at__isnull=False).order_by(
        "-activated_at"
    )[0]
    for version in ModelVersion.objects.filter(kind=ModelVersion.Kind.ONLINE):
        if version.artifact:
            shutil.rmtree(default_storage.path(version.artifact), ignore_errors=True)
        version.delete()
    if base.status != ModelVersion.Status.ACTIVE:
        model_version_activate(version=base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=400)
    parser.add_argument("--new-products", type=int, default=10)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--train-budget-s", type=float, default=180.0, help="the first student's training, once")
    args = parser.parse_args()

    from config import embedded

    embedded.start()
    manage("migrate", "--no-input", "-v", "0")
    manage("dragonrec_demo_data", "--skip-train")
    import django

    django.setup()
    import torch

    torch.set_num_threads(2)  # the bar is for 2 cores
    from django.utils import timezone

    from dragonrec.recommender.models import ModelVersion
    from dragonrec.recommender.services.feedback import clicks_attribute_since, rewards_attribute
    from dragonrec.recommender.services.online import student_update

    if not ModelVersion.objects.filter(kind=ModelVersion.Kind.FULL, activated_at__isnull=False).exists():
        manage("recommender_train", "--promote", "--quiet", "--time-budget", str(args.train_budget_s))
    reset()
    make_hour(shoppers=args.shoppers, new_products=args.new_products)
    # the rewards job (tasks.rewards_update) as beat runs it: the hour's clicks credited to their lists (idempotent)
    clicks_attribute_since(start=timezone.now() - timedelta(days=1))
    rewards_attribute()
    seconds = []
    for run in range(1, args.repetitions + 1):
        reset()
        started = time.perf_counter()
        version = student_update()
        seconds.append(time.perf_counter() - started)
        assert version is not None, "the update found nothing new"
        snapshot = version.data_snapshot
        print(
            f"run {run}: {seconds[-1]:.1f} s (data {version.metrics['data_seconds']:.1f} s, fine-tuning "
            f"{version.metrics['fine_tune_seconds']:.1f} s, built at {version.metrics['update_seconds']:.1f} s, "
            f"then stored, the gate and the off-policy check): "
            f"{snapshot['events']} events of {snapshot['sequences']} shoppers, {snapshot['rewards']} rewards, "
            f"{snapshot.get('replay_sequences', 0)} older shoppers replayed, "
            f"{snapshot['new_products']} new products; {version.status}: {version.decision}"
        )
    reset()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"student_update: {min(seconds):.1f}-{max(seconds):.1f} s over {len(seconds)} runs (bar: < 60 s on 2 cores)")
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
