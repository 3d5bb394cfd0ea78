"""What an online update learns from: the shoppers active since the active version's data cutoff (their recent
sequences, a gate shopper's last event held out), the rewards of served lists (the off-policy check's share left out)
and the products embedded since."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.models import ModelVersion, ProductEmbedding
from dragonrec.recommender.selectors import clicked_lists, served_pages
from dragonrec.recommender.services.embeddings import embedding_model_name
from dragonrec.recommender.services.offpolicy_check import is_offpolicy_list, logged_history
from dragonrec.recommender.services.registry.selectors import MIN_VALID_HISTORY, is_gate_shopper
from dragonrec.tracking.identity import shopper_key, shopper_key_hash
from dragonrec.tracking.selectors import (
    erased_key_hashes,
    product_events_received_after,
    recent_shoppers,
    shoppers_product_events,
)

if TYPE_CHECKING:  # torch is imported when an update runs, not with this module
    from dragonrec.recommender.ml.online import RewardExample


def data_cutoff(version: ModelVersion) -> datetime:
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
    return data_cutoff(base), base.created_at


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
) -> list[RewardExample]:
    """One RewardExample per item clicked (then perhaps carted or bought) since `since` on a served list that is
    not held out for the off-policy check, newest first: as the simulator builds them from its reward log.
    `with_pages`: each with the items of its list in served order (the listwise form's negatives; one more query)."""
    from dragonrec.recommender.ml.online import RewardExample

    erased = erased_key_hashes()
    examples: list[tuple[list[ProductId], RewardExample]] = []
    lists = (sl for sl in clicked_lists(since=since) if not is_offpolicy_list(sl.request_id))
    for page in served_pages(lists):
        served = page.served
        key = shopper_key(user_id=served.user_id, session_id=served.session_id)
        if key and erased and shopper_key_hash(key) in erased:
            continue
        history = logged_history(page.history)
        if not history:
            continue
        shown = [item.product_id for item in page.items]
        # newest click first within a list as across lists (lists come newest first)
        for item in sorted(page.items, key=lambda i: i.clicked_at or since, reverse=True):
            if item.clicked_at is None or item.clicked_at <= since or gate_targets.get(key) == item.product_id:
                continue
            example = RewardExample(
                history=history,
                product_id=item.product_id,
                propensity=item.propensity,
                purchased=item.purchased_at is not None,
            )
            examples.append((shown, example))
        if len(examples) >= limit:
            break
    examples = examples[:limit]
    if not with_pages:
        return [example for _, example in examples]
    return [replace(example, shown=tuple(shown)) for shown, example in examples]


def new_products(known: set[ProductId]) -> tuple[list[ProductId], np.ndarray]:
    """Embedded products the student does not know (created after it was trained), with their text vectors from
    pgvector: ids first, then the vectors of the new ones only (the whole table can be large)."""
    embeddings = ProductEmbedding.objects.filter(model_name=embedding_model_name())
    new_ids = sorted(int(p) for p in embeddings.values_list("product_id", flat=True) if int(p) not in known)
    if not new_ids:
        return [], np.zeros((0, 384), dtype=np.float32)
    vectors = dict(embeddings.filter(product_id__in=new_ids).values_list("product_id", "vector"))
    return new_ids, np.stack([np.asarray(vectors[p], dtype=np.float32) for p in new_ids])
