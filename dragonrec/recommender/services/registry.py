"""The student model registry: train a version on tracking data (+ teacher judgments), store its artifact through
Django's storage API, and promote it only when it beats the active version (Gorse's master/tasks.go rule).

Three disjoint uses of the data: training sequences; the last events of most shoppers, for early stopping
(`valid_ndcg@10`, optimistic by construction); the last events of the gate shoppers (GATE_SHARE of them, by a salted
hash), never trained or early-stopped on, on which a candidate and the version active at promotion time are both
scored (`gate_ndcg@10`)."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.models import ImpressionItem, ModelVersion, ProductEmbedding, TeacherJudgment
from dragonrec.recommender.services.artifacts import artifact_save
from dragonrec.recommender.services.embeddings import embedding_model_name
from dragonrec.recommender.services.model_report import training_log_rows, version_quality_record
from dragonrec.recommender.services.students import (
    inactive_products,
    load_student,
    student_retrieval_config,
    student_training_overrides,
)
from dragonrec.tracking.identity import shopper_key, shopper_key_hash
from dragonrec.tracking.selectors import erased_key_hashes, events_span, product_events

logger = logging.getLogger(__name__)

MIN_VALID_HISTORY = 3  # a user needs 2+ input events and a held-out last one to count in validation or the gate
GATE_SHARE = 0.2  # of the shoppers with a held-out event: their last events judge promotion, not early stopping
GATE_SALT = "dragonrec-gate-v1"  # changing it reshuffles which shoppers are in the gate
TEACHER_CONFIDENCE = 1.0  # all stored judgments weigh the same until we calibrate the teacher per prompt version


# ----------------------------------------------------------------------------------------------------- data


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


def teacher_labels() -> list[Any]:
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


def reward_labels() -> list[Any]:
    """Served lists with at least one click/cart/purchase as listwise labels: the rewarded items against what was
    shown and ignored (exposure-aware implicit feedback), in the same form as teacher judgments."""
    from dragonrec.recommender.ml.data import TeacherLabel

    since = timezone.now() - timedelta(days=REWARD_WINDOW_DAYS)
    clicked = ImpressionItem.objects.filter(impression__created_at__gte=since, clicked_at__isnull=False)
    rewarded = set(clicked.values_list("impression_id", flat=True).distinct()[:50_000])
    by_impression: dict[Any, list[ImpressionItem]] = defaultdict(list)
    for item in ImpressionItem.objects.filter(impression_id__in=rewarded).select_related("impression"):
        by_impression[item.impression_id].append(item)
    labels = []
    erased = erased_key_hashes()
    for rows in by_impression.values():
        impression = rows[0].impression
        key = shopper_key(user_id=impression.user_id, session_id=impression.session_id)
        if erased and key and shopper_key_hash(key) in erased:
            continue
        history = impression.context.get("history") or []
        if not history or len(rows) < 2:
            continue
        events = [
            HistoryEvent(product_id=int(p), event_type=str(e), timestamp=float(i)) for i, (p, e) in enumerate(history)
        ]
        rows.sort(key=lambda r: r.position)
        labels.append(
            TeacherLabel(
                history=events,
                candidate_ids=[r.product_id for r in rows],
                scores=[10.0 * r.reward for r in rows],
                confidence=REWARD_CONFIDENCE,
            )
        )
    return labels


def ndcg10(student: Any, pairs: Pairs) -> float:
    """Full-ranking NDCG@10 of the held-out events (core.metrics: ties count against the target)."""
    from dragonrec.recommender.ml.metrics import student_ranking_metrics

    return student_ranking_metrics(student, pairs, ks=(10,))["ndcg@10"]


class GateScorer:
    """NDCG@10 of any version on one gate split: the held-out last events of the gate shoppers as of the candidate's
    training data (rebuilt from the events received by then), so the candidate and whichever version is active at
    promotion time are compared on the same pairs, which neither was early-stopped on."""

    def __init__(self, candidate: ModelVersion, *, students: dict[int, Any] | None = None) -> None:
        self.candidate = candidate
        self.students = dict(students or {})
        self._pairs: Pairs | None = None

    @property
    def pairs(self) -> Pairs:
        if self._pairs is None:
            cutoff = self.candidate.data_snapshot.get("gate_received_until")
            until = datetime.fromisoformat(cutoff) if cutoff else None
            self._pairs = training_split(training_sequences(received_until=until))[2] if until else []
        return self._pairs

    def __call__(self, version: ModelVersion) -> float | None:
        """The version's gate NDCG@10, or None when it cannot be evaluated (no gate pairs, unloadable artifact)."""
        if not self.pairs:
            return None
        try:
            student = self.students.get(version.pk)
            if student is None:
                student = load_student(version)
            return ndcg10(student, self.pairs)
        except Exception:  # an unloadable artifact must not crash the gate; the caller decides
            logger.exception("could not evaluate %s on the gate split", version.version)
            return None


# ----------------------------------------------------------------------------------------------------- lifecycle


def _next_version() -> str:
    numbers = [int(v[1:]) for v in ModelVersion.objects.values_list("version", flat=True) if v[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1}"


VERSION_ATTEMPTS = 20  # concurrent trainings retry on the unique version; 20 collisions in a row means a bug


def model_version_create(**fields: Any) -> ModelVersion:
    """A new version row with the next free number. Two trainings starting together may read the same maximum:
    the unique constraint on `version` rejects the second insert, which retries with a fresh number."""
    for attempt in range(VERSION_ATTEMPTS):
        try:
            with transaction.atomic():
                return ModelVersion.objects.create(version=_next_version(), **fields)
        except IntegrityError:
            if attempt == VERSION_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def student_train_and_register(
    *, promote: bool = True, notes: str = "", seed: int = 0, config: Any = None, progress: bool = False
) -> ModelVersion | None:
    """Train a new version on all tracking events (+ teacher judgments), register it as a candidate, and promote
    it when it beats the active version on the same validation data. Returns None when there is too little data."""
    from dragonrec.recommender.ml.model import StudentConfig
    from dragonrec.recommender.ml.student import Student

    sequences = training_sequences()
    n_events = sum(len(s) for s in sequences.values())
    if n_events < recommender_settings.STUDENT_MIN_EVENTS:
        logger.info("student training skipped: %s events < STUDENT_MIN_EVENTS", n_events)
        return None
    product_ids, vectors = item_table()
    if not product_ids:
        logger.info("student training skipped: no product embeddings yet")
        return None
    train, valid, gate = training_split(sequences)
    labels = teacher_labels()
    rewards = reward_labels()
    config = config or StudentConfig(
        time_budget_s=float(recommender_settings.STUDENT_TIME_BUDGET_S), **student_training_overrides()
    )
    span = events_span()
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    version = model_version_create(
        status=ModelVersion.Status.TRAINING,
        architecture={
            "backbone": "gpt2",
            "hidden": config.hidden,
            "layers": config.n_layers,
            "heads": config.n_heads,
            "max_len": config.max_len,
            "text_dim": config.text_dim,
        },
        hyperparameters=config.to_dict(),
        data_snapshot={
            "events": n_events,
            "sequences": len(sequences),
            "products": len(product_ids),
            "teacher_labels": len(labels),
            "reward_labels": len(rewards),
            "valid_users": len(valid),
            "gate_users": len(gate),
            # the gate split is rebuilt from the events received by then (GateScorer)
            "gate_received_until": span["received"].isoformat() if span["received"] else None,
            "first_event": span["first"].isoformat() if span["first"] else None,
            "last_event": span["last"].isoformat() if span["last"] else None,
        },
        parent=active,
        notes=notes,
    )
    try:
        student = Student.fit(
            sequences=train,
            product_ids=product_ids,
            text_vectors=vectors,
            config=config,
            valid=valid,
            teacher_labels=labels + rewards,
            version=version.version,
            seed=seed,
            progress=progress,
        )
        # the version's retrieval index (saved in the artifact) as serving will search it, without what is off sale
        student.retrieval = student_retrieval_config()
        student.set_inactive(inactive_products(product_ids))
        with tempfile.TemporaryDirectory() as tmp:
            student.save(Path(tmp))
            version.artifact = artifact_save(local_dir=Path(tmp), version=version.version)
        metrics = {
            "valid_ndcg@10": ndcg10(student, valid),  # early-stopped on: optimistic, for the training curve only
            "gate_ndcg@10": ndcg10(student, gate) if gate else None,
            "train_seconds": student.meta.get("train_seconds"),
            "best_epoch": student.meta.get("best_epoch"),
        }
        version.metrics = metrics
        version.training_log = training_log_rows(student.meta.get("history", []))
        version.status = ModelVersion.Status.CANDIDATE
        version.save()
    except Exception:
        version.status = ModelVersion.Status.FAILED
        version.save(update_fields=["status"])
        raise
    # the gate's figures beside popularity and item-kNN on the same held-out shoppers, for the owner's page
    version_quality_record(version=version, student=student, train=train, gate=gate)
    if promote:
        model_version_promote_if_better(version=version, scorer=GateScorer(version, students={version.pk: student}))
    return version


def model_versions_fail_stuck(*, older_than: timedelta) -> int:
    """Mark `training` runs started more than `older_than` ago as failed; how many. A worker killed mid-training
    (OOM, a lost machine, SIGKILL) never reaches the `except` that records the failure, and the hard time limit
    means no live run can be that old, so such a row would otherwise say "training" forever."""
    cutoff = timezone.now() - older_than
    stuck = ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING, created_at__lt=cutoff)
    count = stuck.update(status=ModelVersion.Status.FAILED, notes="worker lost: still training past the time limit")
    if count:
        logger.warning("marked %s training run(s) older than %s as failed", count, older_than)
    return count


@transaction.atomic
def model_version_promote_if_better(
    *, version: ModelVersion, scorer: Callable[[ModelVersion], float | None] | None = None
) -> bool:
    """The promotion gate: activate `version` only if it beats the version active *now* (locked until the decision)
    by STUDENT_PROMOTION_MARGIN on the gate split, both scored there by `scorer` (default: GateScorer, the held-out
    shoppers of `version`'s training data). An active version that cannot be scored does not block; a candidate
    that cannot be scored is not promoted. The comparison is recorded in `version.metrics`."""
    scorer = scorer or GateScorer(version)
    active = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None or active.pk == version.pk:
        model_version_activate(version=version)
        return True
    if not gate_passes(version=version, active=active, scorer=scorer):
        return False
    model_version_activate(version=version)
    return True


def gate_passes(*, version: ModelVersion, active: ModelVersion, scorer: Callable[[ModelVersion], float | None]) -> bool:
    """The gate's comparison alone (the caller holds the lock on `active`): whether `version` beats `active` by
    STUDENT_PROMOTION_MARGIN on the gate split, recorded in `version.metrics` either way."""
    mine, theirs = scorer(version), scorer(active)
    if mine is not None:
        version.metrics["gate_ndcg@10"] = mine
    version.metrics.update({"gate_compared_with": active.version, "active_gate_ndcg@10": theirs})
    version.save(update_fields=["metrics"])
    margin = float(recommender_settings.STUDENT_PROMOTION_MARGIN)
    if mine is None or (theirs is not None and mine <= theirs + margin):
        logger.info("%s fails the gate: NDCG@10 %s vs %s's %s", version.version, mine, active.version, theirs)
        return False
    return True


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one serving (the previous active one is archived). Serving processes pick it up within
    MODEL_REFRESH_S seconds, without a restart."""
    if version.status == ModelVersion.Status.FAILED or not version.artifact:
        raise ValueError(f"{version.version} has no usable artifact")
    now = timezone.now()
    replaced = list(
        ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).exclude(pk=version.pk)
    )
    # the only way an active version stops serving: recorded on both, so the history reads from either side
    for old in replaced:
        old.status = ModelVersion.Status.ARCHIVED
        old.decision = f"{old.decision}\n[{now:%Y-%m-%d %H:%M} UTC] replaced by {version.version}".strip()
        old.save(update_fields=["status", "decision"])
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = now
    if replaced:
        version.decision = (
            f"{version.decision}\n[{now:%Y-%m-%d %H:%M} UTC] activated, replacing {replaced[0].version}".strip()
        )
    version.save(update_fields=["status", "activated_at", "decision"])
    return version


@transaction.atomic
def model_version_force_activate(*, version: ModelVersion, by: str, reason: str = "") -> ModelVersion:
    """Activate `version` past the promotion gate: an explicit act, recorded in the version's notes (who, when,
    both scores) and the log, so a worse model serving is never a silent accident."""
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exclude(pk=version.pk).first()
    theirs = f"{active.version} at {active.valid_ndcg10}" if active is not None else "no active version"
    entry = (
        f"[{timezone.now():%Y-%m-%d %H:%M} UTC] force-activated by {by} past the promotion gate "
        f"(valid NDCG@10 {version.valid_ndcg10} vs {theirs}){': ' + reason if reason else ''}"
    )
    version.notes = f"{version.notes}\n{entry}".strip()
    version.save(update_fields=["notes"])
    logger.warning("%s", entry.replace("force-activated", f"{version.version} force-activated"))
    return model_version_activate(version=version)


@transaction.atomic
def model_version_rollback() -> ModelVersion:
    """Re-activate the most recently active earlier version."""
    current = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    previous = (
        ModelVersion.objects.filter(status=ModelVersion.Status.ARCHIVED, activated_at__isnull=False)
        .exclude(pk=current.pk if current else None)  # type: ignore[misc]  # pk=None is IS NULL: excludes nothing
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise ValueError("no earlier active version to roll back to")
    return model_version_activate(version=previous)


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
