"""Building the distillation dataset: histories sampled from real sequences plus generated edge cases, judged by
the teacher through Celery within a spend budget; and an export in the seed's text format for fine-tuning a
text LLM on the same judgments."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import Sum

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.types import ADD_TO_CART, PURCHASE, VIEW, Context, HistoryEvent, Preferences
from dragonrec.recommender.models import TeacherJudgment
from dragonrec.recommender.services.recommendations import build_pipeline
from dragonrec.recommender.services.registry import training_sequences
from dragonrec.recommender.services.teacher import teacher_judge
from dragonrec.recommender.stores import products_from_db

EDGE_CASES = ("single_item", "mixed_categories", "cold_start", "repeated_views", "bot_burst")
VERB = {
    VIEW: "viewed",
    ADD_TO_CART: "added",
    PURCHASE: "purchased",
    "rating": "purchased",
    "click": "clicked",
    "remove_from_cart": "removed",
}


def _edge_case(kind: str, rng: random.Random, products: list[Any]) -> tuple[list[HistoryEvent], Preferences]:
    pick = rng.choice
    if kind == "single_item":
        return [HistoryEvent(pick(products).id, VIEW, 0.0)], Preferences()
    if kind == "mixed_categories":
        by_cat: dict[str, Any] = {}
        for p in rng.sample(products, min(len(products), 40)):
            by_cat.setdefault(p.leaf_category, p)
        items = list(by_cat.values())[:4]
        return [HistoryEvent(p.id, VIEW, float(i)) for i, p in enumerate(items)], Preferences()
    if kind == "cold_start":
        return [], Preferences(categories=(pick(products).category,))
    if kind == "repeated_views":
        item = pick(products)
        return [HistoryEvent(item.id, VIEW, float(i)) for i in range(3)] + [HistoryEvent(item.id, ADD_TO_CART, 3.0)], (
            Preferences()
        )
    # bot-like burst: many unrelated views in a row, the kind of history a scraper leaves
    return [HistoryEvent(pick(products).id, VIEW, float(i)) for i in range(20)], Preferences()


def teacher_dataset_histories(*, n: int, edge_share: float = 0.2, seed: int = 0) -> list[dict[str, Any]]:
    """Payloads (history, preferences, candidates) to judge: real sequence prefixes and edge cases."""
    rng = random.Random(seed)
    sequences = [s for s in training_sequences().values() if s]
    pipeline, _ = build_pipeline()
    catalog = [p for p in pipeline.products.snapshot.products.all() if p.is_active]  # type: ignore[attr-defined]
    if not catalog:
        return []
    # every edge-case kind at least once, then the given share; the rest are real sequence prefixes
    n_edge = n if not sequences else min(n, max(len(EDGE_CASES), round(n * edge_share)))
    payloads = []
    for i in range(n):
        if i >= n_edge:
            seq = rng.choice(sequences)
            cut = rng.randint(1, len(seq))
            history, prefs, kind = seq[:cut][-20:], Preferences(), "real"
        else:
            kind = EDGE_CASES[i % len(EDGE_CASES)]
            history, prefs = _edge_case(kind, rng, catalog)
        ctx = Context(
            scenario="home",
            history=history,
            preferences=prefs,
            n=recommender_settings.TEACHER_CANDIDATES,
            exclude_ids={e.product_id for e in history},
        )
        candidates, _ = pipeline.candidates(ctx)
        payloads.append(
            {
                "user_key": f"dataset:{seed}:{i}",
                "kind": kind,
                "preferences": asdict(prefs),
                "history": [[e.product_id, e.event_type] for e in history],
                "candidates": [c.product_id for c in candidates[: recommender_settings.TEACHER_CANDIDATES]],
            }
        )
    return payloads


def teacher_dataset_build(
    *,
    n: int,
    max_cost_usd: float,
    seed: int = 0,
    via_celery: bool = True,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Queue (or run) teacher judgments for `n` histories; stops queuing once this run's stored cost reaches
    `max_cost_usd` (the client's hourly budget applies on top)."""
    # Function-level: tasks.py imports the services its tasks run, so a top-level import here would be a cycle.
    from dragonrec.recommender.tasks import teacher_judge_payload

    payloads = teacher_dataset_histories(n=n, seed=seed)
    marker = f"dataset:{seed}:"
    queued = 0
    for payload in payloads:
        spent = TeacherJudgment.objects.filter(user_key__startswith=marker).aggregate(s=Sum("cost_usd"))["s"]
        if (spent or Decimal(0)) >= Decimal(str(max_cost_usd)):
            break
        if via_celery:
            teacher_judge_payload.delay(payload)
        else:
            teacher_judge(payload=payload, source="dataset")
        queued += 1
        if progress:
            progress(1)
    return {"histories": len(payloads), "queued": queued, "celery": via_celery}


def teacher_dataset_export(*, path: Path, top: int = 5) -> int:
    """The seed's text format, one JSON object per line:
    {"input": "User viewed A, added B, purchased C", "output": "Recommend: X, Y, Z"} from stored judgments."""
    judgments = TeacherJudgment.objects.filter(error="").exclude(scores={})
    # as for the student's labels (registry.teacher_labels): products flagged by the injection checks are left out
    rows = [
        (history, {pid: score for pid, score in scores.items() if int(pid) not in set(flagged)})
        for history, scores, flagged in judgments.values_list("history", "scores", "flagged").iterator(chunk_size=2000)
    ]
    ids = {int(p) for history, scores in rows for p, _ in history} | {int(k) for _, s in rows for k in s}
    titles = {pid: p.title for pid, p in products_from_db(ids).items()}
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        for history, scores in rows:
            steps = [f"{VERB.get(kind, kind)} {titles.get(int(pid), pid)}" for pid, kind in history]
            best = sorted(scores.items(), key=lambda kv: -kv[1])[:top]
            line = {
                "input": "User " + ", ".join(steps) if steps else "New visitor with no history",
                "output": "Recommend: " + ", ".join(str(titles.get(int(pid), pid)) for pid, _ in best),
            }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            written += 1
    return written
