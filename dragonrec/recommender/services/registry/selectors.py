"""Reads of the model registry: a version's training data (every shopper's sequence, the train / validation / gate
split, the item table, teacher and reward labels) and the figures the admin's compare page puts side by side.

Three disjoint uses of the data: training sequences; the last events of most shoppers, for early stopping
(`valid_ndcg@10`, optimistic by construction); the last events of the gate shoppers (GATE_SHARE of them, by a salted
hash), never trained or early-stopped on, on which a candidate and the version active at promotion time are both
scored (`gate_ndcg@10`)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.utils import timezone

from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.models import ModelVersion, ProductEmbedding, TeacherJudgment
from dragonrec.recommender.selectors import clicked_lists, served_pages
from dragonrec.recommender.services.embeddings import embedding_model_name
from dragonrec.tracking.identity import shopper_key, shopper_key_hash
from dragonrec.tracking.selectors import erased_key_hashes, product_events

if TYPE_CHECKING:  # torch (ml.data) is imported when labels are read, not with this module
    from dragonrec.recommender.ml.data import TeacherLabel

MIN_VALID_HISTORY = 3  # a user needs 2+ input events and a held-out last one to count in validation or the gate
GATE_SHARE = 0.2  # of the shoppers with a held-out event: their last events judge promotion, not early stopping
GATE_SALT = "dragonrec-gate-v1"  # changing it reshuffles which shoppers are in the gate
TEACHER_CONFIDENCE = 1.0  # all stored judgments weigh the same until we calibrate the teacher per prompt version


def training_sequences(*, received_until: datetime | None = None) -> dict[str, list[HistoryEvent]]:
    """Every shopper's product events, oldest first (users and anonymous sessions alike); with `received_until`,
    only the events received by then (the data a version was trained on, rebuilt for its promotion gate)."""
    sequences: dict[str, list[HistoryEvent]] = defaultdict(list)
    for user_id, session_id, product_id, kind, ts in product_events(received_until=received_until):
        key = shopper_key(user_id=user_id, session_id=session_id)
        sequences[key].append(HistoryEvent(product_id=int(product_id), event_type=kind, timestamp=ts.timestamp()))
    erased = erased_key_hashes()
    return {key: events for key, events in sequences.items() if not erased or shopper_key_hash(key) not in erased}


Pairs = list[tuple[list[HistoryEvent], ProductId]]


def is_gate_shopper(key: str) -> bool:
    """Whether a shopper's last event belongs to the promotion gate: a salted hash, so the same shoppers stay in the
    gate across retrains and the split needs no storage."""
    digest = hashlib.sha256(f"{GATE_SALT}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < GATE_SHARE


def training_split(sequences: dict[str, list[HistoryEvent]]) -> tuple[list[list[HistoryEvent]], Pairs, Pairs]:
    """(train, valid, gate). Every long-enough sequence holds out its last event: for the gate shoppers it is a gate
    target, for the others a validation target (early stopping). The two sets of shoppers are disjoint and no
    held-out event is trained on, so the gate's NDCG@10 is not inflated by early stopping on it."""
    train: list[list[HistoryEvent]] = []
    valid: Pairs = []
    gate: Pairs = []
    for key, events in sequences.items():
        if len(events) < MIN_VALID_HISTORY:
            train.append(events)
            continue
        train.append(events[:-1])
        (gate if is_gate_shopper(key) else valid).append((events[:-1], events[-1].product_id))
    return train, valid, gate


def item_table() -> tuple[list[ProductId], np.ndarray]:
    """Product ids and their stored text embeddings (the student's frozen text input)."""
    rows = ProductEmbedding.objects.filter(model_name=embedding_model_name()).order_by("product_id")
    ids, vectors = [], []
    for pid, vector in rows.values_list("product_id", "vector").iterator(chunk_size=5000):
        ids.append(int(pid))
        vectors.append(np.asarray(vector, dtype=np.float32))
    return ids, (np.stack(vectors) if vectors else np.zeros((0, 384), dtype=np.float32))


def teacher_labels() -> list[TeacherLabel]:
    from dragonrec.recommender.ml.data import TeacherLabel

    labels = []
    erased = erased_key_hashes()
    for user_key, history, candidates, scores, flagged in (
        TeacherJudgment.objects.filter(error="")
        .exclude(scores={})
        .values_list("user_key", "history", "candidates", "scores", "flagged")
        .iterator(chunk_size=2000)
    ):
        if erased and user_key and shopper_key_hash(user_key) in erased:
            continue  # judged before (or while) the shopper's data was erased
        # a product whose text tried to instruct the teacher may have got the score it asked for: never a label
        injected = {int(pid) for pid in flagged}
        judged = [(int(c), float(scores[str(c)])) for c in candidates if str(c) in scores and int(c) not in injected]
        if len(judged) < 2 or not history:
            continue
        events = [
            HistoryEvent(product_id=int(p), event_type=str(e), timestamp=float(i)) for i, (p, e) in enumerate(history)
        ]
        labels.append(
            TeacherLabel(
                history=events,
                candidate_ids=[c for c, _ in judged],
                scores=[s for _, s in judged],
                confidence=TEACHER_CONFIDENCE,
            )
        )
    return labels


REWARD_CONFIDENCE = 0.5  # one shopper's click is noisier than a teacher's judgment of the same list
REWARD_WINDOW_DAYS = 90


def reward_labels() -> list[TeacherLabel]:
    """Served lists with at least one click/cart/purchase as listwise labels: the rewarded items against what was
    shown and ignored (exposure-aware implicit feedback), in the same form as teacher judgments."""
    from dragonrec.recommender.ml.data import TeacherLabel

    since = timezone.now() - timedelta(days=REWARD_WINDOW_DAYS)
    labels = []
    erased = erased_key_hashes()
    rewarded = clicked_lists(since=since).filter(served_at__gte=since)[:50_000]
    for page in served_pages(rewarded):  # the history read back from events before each list was served
        key = shopper_key(user_id=page.served.user_id, session_id=page.served.session_id)
        if erased and key and shopper_key_hash(key) in erased:
            continue
        if not page.history or len(page.items) < 2:
            continue
        events = [
            HistoryEvent(product_id=int(p), event_type=str(e), timestamp=float(i))
            for i, (p, e) in enumerate(page.history)
        ]
        labels.append(
            TeacherLabel(
                history=events,
                candidate_ids=[item.product_id for item in page.items],
                scores=[10.0 * item.reward for item in page.items],
                confidence=REWARD_CONFIDENCE,
            )
        )
    return labels


COMPARED = [
    # (metric key, label, decimals): what an owner compares; the rest is in each version's details
    ("gate_ndcg@10", "NDCG@10 on held-out shoppers (decides promotion)", 4),
    ("valid_ndcg@10", "NDCG@10 on early-stopping shoppers (optimistic)", 4),
    ("baselines.item_knn", "item-kNN on the same held-out shoppers", 4),
    ("baselines.popularity", "popularity on the same held-out shoppers", 4),
    ("best_epoch", "best epoch", 0),
    ("train_seconds", "training time (s)", 0),
    ("update_seconds", "update time (s)", 1),
    ("events", "events trained on", 0),
    ("teacher_labels", "teacher judgments used", 0),
]


def versions_comparison(*, versions: list[ModelVersion]) -> dict[str, Any]:
    """What the admin's compare page shows: each version's gate figures in words, the figures side by side, both
    training curves (loss and validation NDCG@10 per epoch) and the per-slice table."""
    from dragonrec.recommender.services.model_report import slice_rows, training_curve_svg, version_summary

    def value(version: ModelVersion, key: str) -> Any:
        if key.startswith("baselines."):
            return (version.metrics.get("baselines") or {}).get(key.split(".", 1)[1])
        return version.metrics.get(key, version.data_snapshot.get(key))

    rows = []
    for key, label, decimals in COMPARED:
        values = [value(v, key) for v in versions]
        if all(x is None for x in values):
            continue
        rows.append(
            {"metric": label, "values": [f"{x:,.{decimals}f}" if isinstance(x, int | float) else "-" for x in values]}
        )
    return {
        "versions": versions,
        "summaries": [(v, version_summary(v)) for v in versions],
        "rows": rows,
        "curve": training_curve_svg(versions),
        "slice_rows": slice_rows(versions),
    }
