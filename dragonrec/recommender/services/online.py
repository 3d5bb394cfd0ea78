"""The hourly online update: warm-start from the active student, fine-tune on what happened since its data
cutoff, add new products, register a candidate, and promote it only when both the held-out gate and an off-policy
estimate on recent logged lists say it is not worse.

    >>> version = student_update()           # None when nothing happened since the last update
    >>> version.kind, version.status, version.decision

The fine-tuning is `ml.online.online_update`, the function the closed-loop simulator's `update_policy` calls,
fed the same way: every shopper's recent sequence (next-item targets) and one `RewardExample` per rewarded item of
a served list (the history the list was made from, the item, its logged propensity, whether it was bought).
Half of every next-item batch (`replay_share`) is replayed from the shoppers active in the month before the
window, so the candidate does not forget what the last hour did not show.

Two things are kept out of the fine-tuning so the checks stay honest:
- the gate shoppers' last events (registry.is_gate_shopper): the gate scores the candidate and the active version
  on exactly those, as the nightly retrain's gate does;
- the rewards of a salted-hash share of served lists (`offpolicy_share`): the off-policy check's log. On them, each
  version re-ranks the page it was shown (the student's order of the logged items) and SNIPS estimates the click
  rate of that order from the logged propensities (core.offpolicy, item-position model: a slot counts where the
  version would have put the logged item in the logged position).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core import offpolicy
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.models import Impression, ImpressionItem, ModelVersion, ProductEmbedding
from dragonrec.recommender.services.artifacts import artifact_save
from dragonrec.recommender.services.embeddings import embedding_model_name
from dragonrec.recommender.services.model_report import version_quality_record
from dragonrec.recommender.services.registry import (
    MIN_VALID_HISTORY,
    GateScorer,
    gate_passes,
    is_gate_shopper,
    model_version_activate,
    model_version_create,
    training_sequences,
    training_split,
)
from dragonrec.recommender.services.students import inactive_products, load_student
from dragonrec.tracking.identity import shopper_key, shopper_key_hash
from dragonrec.tracking.selectors import (
    erased_key_hashes,
    events_span,
    product_events_received_after,
    recent_shoppers,
    shoppers_product_events,
)

logger = logging.getLogger(__name__)

OFFPOLICY_SALT = "dragonrec-offpolicy-v1"  # changing it reshuffles which lists are held out for the check


def online_settings() -> dict[str, Any]:
    """ONLINE_UPDATE with the defaults of the keys a host project left out."""
    return {**DEFAULTS["ONLINE_UPDATE"], **recommender_settings.ONLINE_UPDATE}


def is_offpolicy_list(request_id: Any) -> bool:
    """Whether a served list belongs to the off-policy check's log (and is never trained on): a salted hash of its
    request id, so the split needs no storage and is the same in every update."""
    digest = hashlib.sha256(f"{OFFPOLICY_SALT}:{request_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < float(online_settings()["offpolicy_share"])


def _history(raw: Any) -> list[HistoryEvent]:
    """A served list's recorded history ([[product id, event type], ...], oldest first) as events."""
    return [HistoryEvent(product_id=int(p), event_type=str(e), timestamp=float(i)) for i, (p, e) in enumerate(raw)]


# ----------------------------------------------------------------------------------------------------- data


def _data_cutoff(version: ModelVersion) -> datetime:
    """The last event receipt a version was trained on (older versions without one: when it was created)."""
    cutoff = version.data_snapshot.get("gate_received_until")
    return datetime.fromisoformat(cutoff) if cutoff else version.created_at


def _last_update(active: ModelVersion) -> tuple[datetime, datetime]:
    """(data cutoff, time) of the latest update attempt on top of `active`, or of `active` itself: anything newer
    is what a new update would have to learn."""
    latest = (
        ModelVersion.objects.filter(parent=active, kind=ModelVersion.Kind.ONLINE)
        .exclude(status=ModelVersion.Status.FAILED)
        .order_by("-created_at")
        .first()
    )
    base = latest or active
    return _data_cutoff(base), base.created_at


def nothing_new(active: ModelVersion) -> bool:
    """No event received and no product embedded since the last update: two indexed EXISTS queries, so the hourly
    job on a quiet shop costs nothing."""
    data_cutoff, checked_at = _last_update(active)
    if product_events_received_after(since=data_cutoff):
        return False
    return not ProductEmbedding.objects.filter(model_name=embedding_model_name(), embedded_at__gt=checked_at).exists()


def recent_sequences(
    *, since: datetime, until: datetime, max_shoppers: int
) -> tuple[list[list[HistoryEvent]], dict[str, ProductId], int]:
    """(sequences, gate targets, events since) for the `max_shoppers` most recently active shoppers since `since`:
    each one's last HISTORY_LENGTH product events received by `until`, oldest first, without a gate shopper's
    held-out last event (returned as {shopper key: product id} so rewards on it are left out too)."""
    users, sessions = recent_shoppers(since=since, until=until, limit=max_shoppers)
    if not users and not sessions:
        return [], {}, 0
    rows = shoppers_product_events(user_ids=users, session_ids=sessions, received_until=until)
    by_shopper: dict[str, list[HistoryEvent]] = defaultdict(list)
    n_new = 0
    for user_id, session_id, product_id, kind, ts, received in rows:
        key = shopper_key(user_id=user_id, session_id=session_id)
        by_shopper[key].append(HistoryEvent(product_id=int(product_id), event_type=kind, timestamp=ts.timestamp()))
        n_new += received > since
    erased = erased_key_hashes()
    length = int(recommender_settings.HISTORY_LENGTH)
    sequences: list[list[HistoryEvent]] = []
    gate_targets: dict[str, ProductId] = {}
    for key, events in by_shopper.items():
        if erased and shopper_key_hash(key) in erased:
            continue
        if len(events) >= MIN_VALID_HISTORY and is_gate_shopper(key):
            gate_targets[key] = events[-1].product_id
            events = events[:-1]
        sequences.append(events[-length:])
    return sequences, gate_targets, n_new


def reward_examples(
    *, since: datetime, gate_targets: dict[str, ProductId], limit: int, with_pages: bool = False
) -> list[Any]:
    """One RewardExample per item clicked (then perhaps carted or bought) since `since` on a served list that is
    not held out for the off-policy check, newest first: as the simulator builds them from its reward log.
    `with_pages`: each with the items of its list in served order (the listwise form's negatives; one more query)."""
    from dragonrec.recommender.ml.online import RewardExample

    rows = (
        ImpressionItem.objects.filter(clicked_at__gt=since)
        .order_by("-clicked_at")
        .values_list(
            "impression_id",
            "product_id",
            "propensity",
            "purchased_at",
            "impression__context",
            "impression__user_id",
            "impression__session_id",
        )
    )
    erased = erased_key_hashes()
    examples = []
    for request_id, product_id, propensity, purchased_at, context, user_id, session_id in rows.iterator(
        chunk_size=2000
    ):
        if is_offpolicy_list(request_id):
            continue
        key = shopper_key(user_id=user_id, session_id=session_id)
        if key and ((erased and shopper_key_hash(key) in erased) or gate_targets.get(key) == product_id):
            continue
        history = _history((context or {}).get("history") or [])
        if not history:
            continue
        examples.append(
            (
                request_id,
                RewardExample(
                    history=history,
                    product_id=int(product_id),
                    propensity=float(propensity),
                    purchased=purchased_at is not None,
                ),
            )
        )
        if len(examples) >= limit:
            break
    if not with_pages:
        return [example for _, example in examples]
    pages: dict[Any, list[ProductId]] = defaultdict(list)
    shown = ImpressionItem.objects.filter(impression_id__in={rid for rid, _ in examples}).order_by("position")
    for request_id, product_id in shown.values_list("impression_id", "product_id").iterator(chunk_size=5000):
        pages[request_id].append(int(product_id))
    return [replace(example, shown=tuple(pages[rid])) for rid, example in examples]


def new_products(known: set[ProductId]) -> tuple[list[ProductId], np.ndarray]:
    """Embedded products the student does not know (created after it was trained), with their text vectors from
    pgvector: ids first, then the vectors of the new ones only (the whole table can be large)."""
    embeddings = ProductEmbedding.objects.filter(model_name=embedding_model_name())
    new_ids = sorted(int(p) for p in embeddings.values_list("product_id", flat=True) if int(p) not in known)
    if not new_ids:
        return [], np.zeros((0, 384), dtype=np.float32)
    vectors = dict(embeddings.filter(product_id__in=new_ids).values_list("product_id", "vector"))
    return new_ids, np.stack([np.asarray(vectors[p], dtype=np.float32) for p in new_ids])


# ----------------------------------------------------------------------------------------------------- the job


def student_update(*, promote: bool = True, seed: int = 0) -> ModelVersion | None:
    """One online update on top of the active version; the registered candidate, or None when there is no
    active version, updates are off, or nothing happened since the last update."""
    from dragonrec.recommender.ml.online import OnlineUpdate, online_update

    conf = online_settings()
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if not conf["enabled"] or active is None or nothing_new(active):
        return None
    started = time.perf_counter()
    since = _data_cutoff(active)
    until = events_span()["received"] or since
    sequences, gate_targets, n_events = recent_sequences(
        since=since, until=until, max_shoppers=int(conf["max_shoppers"])
    )
    rewards = reward_examples(
        since=since,
        gate_targets=gate_targets,
        limit=int(conf["max_rewards"]),
        with_pages=conf["form"] == "listwise",
    )
    replay: list[list[HistoryEvent]] = []
    if float(conf["replay_share"]) > 0:
        replay, _, _ = recent_sequences(
            since=since - timedelta(days=float(conf["replay_days"])),
            until=since,
            max_shoppers=int(conf["replay_shoppers"]),
        )
    parent = load_student(active)  # as serving loads it
    new_ids, new_vectors = new_products(set(parent.product_ids))
    if not sequences and not rewards and not new_ids:
        return None
    update = OnlineUpdate(
        form=str(conf["form"]),
        steps=int(conf["steps"]),
        lr=float(conf["lr"]),
        clip=float(conf["clip"]),
        replay_share=float(conf["replay_share"]),
        time_budget_s=float(conf["time_budget_s"]),
    )
    version = model_version_create(
        status=ModelVersion.Status.TRAINING,
        kind=ModelVersion.Kind.ONLINE,
        parent=active,
        architecture=active.architecture,
        hyperparameters={**active.hyperparameters, "online_update": asdict(update)},
        data_snapshot={
            "events": n_events,
            "sequences": len(sequences),
            "rewards": len(rewards),
            "replay_sequences": len(replay),
            "new_products": len(new_ids),
            "since": since.isoformat(),
            "gate_received_until": until.isoformat(),  # this update's data cutoff; the gate is rebuilt from it
        },
        notes=f"online update of {active.version}",
    )
    loaded = time.perf_counter()
    try:
        student = online_update(
            parent,
            sequences=sequences,
            rewards=rewards,
            replay=replay,
            new_items=(new_ids, new_vectors) if new_ids else None,
            inactive=inactive_products(set(parent.product_ids) | set(new_ids)),
            update=update,
            seed=seed,
        )
        tuned = time.perf_counter()
        student.version = version.version
        student.meta = {**student.meta, "parent": active.version, "online_update": asdict(update)}
        with tempfile.TemporaryDirectory() as tmp:
            student.save(Path(tmp))
            version.artifact = artifact_save(local_dir=Path(tmp), version=version.version)
        version.data_snapshot["products"] = student.n_items
        version.metrics = {
            "data_seconds": round(loaded - started, 2),
            "fine_tune_seconds": round(tuned - loaded, 2),
            "update_seconds": round(time.perf_counter() - started, 2),  # until the candidate is stored
        }
        version.training_log = list(student.meta.get("online_log", []))  # loss per step
        version.status = ModelVersion.Status.CANDIDATE
        version.save()
    except Exception:
        version.status = ModelVersion.Status.FAILED
        version.save(update_fields=["status"])
        raise
    # the gate's figures beside popularity and item-kNN, on the gate split rebuilt from this update's data cutoff
    train, _, gate = training_split(training_sequences(received_until=until))
    version_quality_record(version=version, student=student, train=train, gate=gate)
    if promote:
        online_candidate_promote(version=version, students={version.pk: student, active.pk: parent})
    version.refresh_from_db()
    return version


# ----------------------------------------------------------------------------------------------------- promotion


@dataclass(frozen=True)
class LoggedList:
    history: list[HistoryEvent]
    items: list[ProductId]  # in logged order (position 1 first)
    propensities: list[float]
    clicked: list[bool]


def offpolicy_log(*, since: datetime, limit: int) -> list[LoggedList]:
    """The most recent `limit` held-out served lists since `since` (is_offpolicy_list), with their items."""
    # the held-out share is drawn by hash, so read a few times the lists it should yield (at least 20% are held
    # out by default; fewer only if the setting was lowered, and then the check reads fewer lists)
    share = max(float(online_settings()["offpolicy_share"]), 1e-3)
    recent = Impression.objects.filter(created_at__gte=since).order_by("-created_at")
    scan = int(limit / share * 1.5) + 10
    lists = [(rid, ctx) for rid, ctx in recent.values_list("request_id", "context")[:scan] if is_offpolicy_list(rid)]
    lists = lists[:limit]
    items: dict[Any, list[tuple[int, int, float, bool]]] = defaultdict(list)
    rows = ImpressionItem.objects.filter(impression_id__in=[rid for rid, _ in lists]).values_list(
        "impression_id", "position", "product_id", "propensity", "clicked_at"
    )
    for rid, position, product_id, propensity, clicked_at in rows.iterator(chunk_size=5000):
        items[rid].append((position, int(product_id), float(propensity), clicked_at is not None))
    out = []
    for rid, context in lists:
        shown = sorted(items.get(rid, []))
        if len(shown) < 2:  # a one-item list has no order to judge
            continue
        out.append(
            LoggedList(
                history=_history((context or {}).get("history") or []),
                items=[pid for _, pid, _, _ in shown],
                propensities=[p for _, _, p, _ in shown],
                clicked=[c for _, _, _, c in shown],
            )
        )
    return out


def page_orders(student: Any, lists: list[LoggedList], text_vectors: dict[ProductId, np.ndarray]) -> list[list[int]]:
    """Each list's items re-ranked by `student` from the list's history (products it does not know are scored from
    their text, as serving does; ties keep the logged order)."""
    union = sorted({pid for lst in lists for pid in lst.items})
    column = {pid: i for i, pid in enumerate(union)}
    dim = student.config.text_dim
    tv = np.stack([text_vectors.get(pid, np.zeros(dim, dtype=np.float32)) for pid in union])
    candidates, ok = student.candidate_matrix(union, text_vectors=tv)
    users = student.user_vectors([lst.history for lst in lists])
    orders = []
    for u, lst in zip(users, lists, strict=True):
        cols = [column[pid] for pid in lst.items]
        scores = np.where(ok[cols], candidates[cols] @ u, -np.inf)
        orders.append([lst.items[i] for i in np.argsort(-scores, kind="stable")])
    return orders


def offpolicy_estimate(student: Any, lists: list[LoggedList], text_vectors: dict[ProductId, np.ndarray]) -> Any:
    """SNIPS estimate (core.offpolicy.snips) of the click rate per slot of `student`'s order of the logged pages:
    target propensity 1 where it puts the logged item in the logged position, else 0."""
    orders = page_orders(student, lists, text_vectors)
    reward, pscore, target, list_ids = [], [], [], []
    for i, (lst, order) in enumerate(zip(lists, orders, strict=True)):
        for k, pid in enumerate(lst.items):
            reward.append(float(lst.clicked[k]))
            pscore.append(lst.propensities[k])
            target.append(1.0 if order[k] == pid else 0.0)
            list_ids.append(i)
    return offpolicy.snips(reward=reward, pscore=pscore, target_pscore=target, lists=list_ids)


def _text_vectors(lists: list[LoggedList]) -> dict[ProductId, np.ndarray]:
    ids = {pid for lst in lists for pid in lst.items}
    rows = ProductEmbedding.objects.filter(model_name=embedding_model_name(), product_id__in=ids)
    return {int(p): np.asarray(v, dtype=np.float32) for p, v in rows.values_list("product_id", "vector")}


def offpolicy_passes(*, version: ModelVersion, active: ModelVersion, students: dict[int, Any]) -> tuple[bool, str]:
    """The off-policy check: the candidate's SNIPS click-rate estimate on the held-out recent lists must be at least
    (1 - offpolicy_tolerance) x the active version's. Recorded in `version.metrics["offpolicy"]`; with no held-out
    list in the window there is nothing to be worse on, and the check passes (saying so)."""
    conf = online_settings()
    since = timezone.now() - timedelta(hours=float(conf["offpolicy_window_hours"]))
    lists = offpolicy_log(since=since, limit=int(conf["offpolicy_max_lists"]))
    if not lists:
        version.metrics["offpolicy"] = {"lists": 0, "passed": True}
        return True, "off-policy check skipped: no held-out served lists in the window"
    vectors = _text_vectors(lists)
    mine = offpolicy_estimate(_student(version, students), lists, vectors)
    theirs = offpolicy_estimate(_student(active, students), lists, vectors)
    tolerance = float(conf["offpolicy_tolerance"])
    passed = mine.value >= (1.0 - tolerance) * theirs.value
    version.metrics["offpolicy"] = {
        "estimator": "snips",
        "lists": mine.n_lists,
        "candidate": mine.as_dict(),
        "active": theirs.as_dict(),
        "tolerance": tolerance,
        "passed": passed,
    }
    verdict = "passes" if passed else "fails"
    return passed, (
        f"off-policy check {verdict}: SNIPS click rate {mine.value:.4f} vs {active.version}'s {theirs.value:.4f} "
        f"on {mine.n_lists} held-out lists (tolerance {tolerance:.0%})"
    )


def _figure(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def _student(version: ModelVersion, students: dict[int, Any]) -> Any:
    student = students.get(version.pk)
    if student is None:
        student = students[version.pk] = load_student(version)
    return student


@transaction.atomic
def online_candidate_promote(*, version: ModelVersion, students: dict[int, Any] | None = None) -> bool:
    """Activate an online-update candidate only if BOTH the held-out gate (registry.gate_passes, as the nightly
    retrain) and the off-policy check pass against the version active now (locked until the decision). Both
    checks and the reason are recorded on the version (`metrics`, `decision`), whatever the outcome."""
    students = dict(students or {})
    active = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None or active.pk == version.pk:
        model_version_activate(version=version)
        return True
    gate_ok = gate_passes(version=version, active=active, scorer=GateScorer(version, students=students))
    offpolicy_ok, offpolicy_reason = offpolicy_passes(version=version, active=active, students=students)
    promoted = gate_ok and offpolicy_ok
    gate_reason = (
        f"gate {'passes' if gate_ok else 'fails'}: NDCG@10 {_figure(version.metrics.get('gate_ndcg@10'))} vs "
        f"{active.version}'s {_figure(version.metrics.get('active_gate_ndcg@10'))}"
    )
    outcome = "promoted" if promoted else "kept as a candidate"
    version.decision = f"[{timezone.now():%Y-%m-%d %H:%M} UTC] {outcome}: {gate_reason}; {offpolicy_reason}"
    version.save(update_fields=["metrics", "decision"])
    logger.info("%s %s", version.version, version.decision)
    if promoted:
        model_version_activate(version=version)
    return promoted
