"""The online update's off-policy check: on a salted-hash share of served lists (`offpolicy_share`, never trained on),
each version re-ranks the page it was shown (the student's order of the logged items) and SNIPS estimates the click
rate of that order from the logged propensities (core.offpolicy, item-position model: a slot counts where the version
would have put the logged item in the logged position). The lifecycle's promotion decision runs it for every online
update (registry.lifecycle); the update itself leaves the held-out lists out of its rewards (is_offpolicy_list).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.utils import timezone

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core import offpolicy
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.models import ModelVersion, ProductEmbedding, ServedList
from dragonrec.recommender.selectors import served_pages
from dragonrec.recommender.services.embeddings import embedding_model_name
from dragonrec.recommender.services.students import load_student

if TYPE_CHECKING:  # the student (torch) is loaded only when a check runs
    from dragonrec.recommender.ml.student import Student

OFFPOLICY_SALT = "dragonrec-offpolicy-v1"  # changing it reshuffles which lists are held out for the check


def online_settings() -> dict[str, Any]:
    """ONLINE_UPDATE with the defaults of the keys a host project left out."""
    return {**DEFAULTS["ONLINE_UPDATE"], **recommender_settings.ONLINE_UPDATE}


def is_offpolicy_list(request_id: Any) -> bool:
    """Whether a served list belongs to the off-policy check's log (and is never trained on): a salted hash of its
    request id, so the split needs no storage and is the same in every update."""
    digest = hashlib.sha256(f"{OFFPOLICY_SALT}:{request_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < float(online_settings()["offpolicy_share"])


def logged_history(raw: Any) -> list[HistoryEvent]:
    """A served list's recorded history ([[product id, event type], ...], oldest first) as events."""
    return [HistoryEvent(product_id=int(p), event_type=str(e), timestamp=float(i)) for i, (p, e) in enumerate(raw)]


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
    recent = ServedList.objects.filter(served_at__gte=since).order_by("-served_at").defer("context")
    scan = int(limit / share * 1.5) + 10
    lists = [sl for sl in recent[:scan] if is_offpolicy_list(sl.request_id)][:limit]
    out = []
    for page in served_pages(lists):  # the history read back from events before each list was served
        if len(page.items) < 2:  # a one-item list has no order to judge
            continue
        out.append(
            LoggedList(
                history=logged_history(page.history),
                items=[item.product_id for item in page.items],
                propensities=[item.propensity for item in page.items],
                clicked=[item.clicked_at is not None for item in page.items],
            )
        )
    return out


def page_orders(
    student: Student, lists: list[LoggedList], text_vectors: dict[ProductId, np.ndarray]
) -> list[list[int]]:
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


def offpolicy_estimate(
    student: Student, lists: list[LoggedList], text_vectors: dict[ProductId, np.ndarray]
) -> offpolicy.Estimate:
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


def offpolicy_passes(*, version: ModelVersion, active: ModelVersion, students: dict[int, Student]) -> tuple[bool, str]:
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


def _student(version: ModelVersion, students: dict[int, Student]) -> Student:
    student = students.get(version.pk)
    if student is None:
        student = students[version.pk] = load_student(version)
    return student
