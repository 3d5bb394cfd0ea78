"""Recording served lists (impressions) off the request path.

A request pushes one JSON record onto a Redis list; `impressions_flush` (a Celery task, scheduled by the first
push into an empty buffer, plus a beat safety net) writes them in batches. Why: written inline, an impression
was four database round trips and ~3 ms of ORM work per request, the largest share of a recommendation's cost
after ranking; a batch of a hundred costs about what one did.

Nothing is lost on the way:
- Redis unreachable at push time: the record is written to the database inline instead.
- The flush moves a batch atomically (one Lua script) from the buffer to a list of its own, writes it idempotently
  (services/served_lists.py writes a list once) and only then deletes that list. Two flushers (a lock
  that expired mid-flush, a request flushing for back-pressure) therefore never take the same records, and a
  flusher killed mid-batch leaves its list behind with an expiring "alive" mark: once the mark is gone, the next
  flush puts the records back on the buffer (a batch written twice is harmless, one never written is not).
- A click can arrive before its impression is flushed: the flush attributes clicks already recorded for the lists
  it writes, and the rewards job sweeps recent clicks again (`clicks_attribute_recent`).
- A record whose product was deleted meanwhile keeps that item's id (served lists hold ids, not foreign keys).

Impression fatigue is kept beside the buffer (services/fatigue.py) and pushed in the same round trip.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import LockError

from dragonrec.db_routing import primary_reads
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.services.fatigue import CLICKED_KEY as CLICKED_KEY  # re-exported: privacy erases them
from dragonrec.recommender.services.fatigue import SEEN_KEY as SEEN_KEY
from dragonrec.recommender.services.fatigue import fatigue_clicks_record as fatigue_clicks_record
from dragonrec.recommender.services.fatigue import fatigue_seen_push
from dragonrec.recommender.services.fatigue import fatigued_ids as fatigued_ids
from dragonrec.recommender.services.feedback import clicks_attribute_since
from dragonrec.recommender.services.served_lists import served_lists_write
from dragonrec.recommender.task_names import IMPRESSIONS_FLUSH, TEACHER_SCORE, task_send

logger = logging.getLogger(__name__)

BUFFER_KEY = "dragonrec:impressions:buffer"
LOCK_KEY = "dragonrec:impressions:flush-lock"
# Set (with an expiry) by the push that schedules a flush, cleared by the flush: one message per flush interval,
# and a flush message that got lost is made up for by the first push after the flag expires.
SCHEDULED_KEY = "dragonrec:impressions:flush-scheduled"
SCHEDULED_TTL_S = 30
BATCH_SIZE = 500
# A click comes after its list was served; this allows for the storefront's clock. Narrow on purpose: the scan is
# over every event since, on each flush; a click outside it is credited by the rewards job's sweep instead.
CLICK_SKEW = timedelta(minutes=1)
PROCESSING_KEY = "dragonrec:impressions:processing:{}"  # per flusher: the batch it is writing
ALIVE_KEY = "dragonrec:impressions:alive:{}"  # per flusher, expiring: its owner is still writing that batch
FLUSHERS_KEY = "dragonrec:impressions:flushers"  # tokens of flushers that may hold a batch
# A batch of 500 writes in well under a second; a flusher silent for 5 minutes is dead (or so stuck that its
# batch is better written by someone else: writes are idempotent).
CLAIM_TTL_S = 300
LOCK_TIMEOUT_S = 120


def _redis() -> Any:
    return get_redis_connection("default")


def impression_record_build(
    *,
    request_id: uuid.UUID,
    user_id: int | None,
    session_id: str,
    scenario: str,
    anchor_ids: list[int],
    ranker: str,
    model_version: str,
    context: dict[str, Any],
    items: Iterable[tuple[int, int, float, str, float]],
    teach: bool = False,
    policy: dict[str, Any] | None = None,
    experiment: str = "",
    arm: str = "",
) -> dict[str, Any]:
    """A served list as plain JSON-able data; `items` are (product_id, position, score, source, propensity);
    `policy` says what served it (ranker, model version, exploration); `teach` asks for a teacher judgment once
    the impression is stored."""
    return {
        "request_id": str(request_id),
        "created_at": timezone.now().isoformat(),
        "user_id": user_id,
        "session_id": session_id,
        "scenario": scenario,
        "anchor_ids": list(anchor_ids),
        "ranker": ranker,
        "model_version": model_version,
        "context": context,
        "policy": policy or {"ranker": ranker, "model_version": model_version},
        "experiment": experiment,
        "arm": arm,
        "items": [list(item) for item in items],
        "teach": teach,
    }


def impression_record(record: dict[str, Any], *, now: bool = False) -> None:
    """Record a served list: buffered in Redis (the default), or written at once when `now` (a request that is
    about to wait for the teacher's judgment of it) or when Redis is unreachable."""
    if not now:
        try:
            pipe = _redis().pipeline(transaction=False)
            pipe.rpush(BUFFER_KEY, orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY))  # compact JSON, in C
            delay = float(recommender_settings.IMPRESSION_FLUSH_S)
            pipe.set(SCHEDULED_KEY, 1, nx=True, ex=int(delay) + SCHEDULED_TTL_S)
            fatigue_seen_push(pipe, record)
            length, first = pipe.execute()[:2]  # one round trip
        except Exception:  # the broker/cache being down must not cost the record or the response
            logger.warning("impression buffer unavailable; writing %s inline", record["request_id"], exc_info=True)
        else:
            if first:
                _flush_schedule()
            if int(length) > int(recommender_settings.IMPRESSION_BUFFER_MAX):
                _flush_from_request()
            return
    impressions_write([record])
    if now:
        with contextlib.suppress(Exception):  # fatigue is a soft signal: never fail a request for it
            pipe = _redis().pipeline(transaction=False)
            fatigue_seen_push(pipe, record)
            pipe.execute()


def _flush_from_request() -> None:
    """Back-pressure: no worker is flushing (down, or far behind), so this request writes a batch itself. Slower
    requests while the workers are gone beat a Redis that fills up (and, with an eviction policy, drops the list)."""
    try:
        impressions_flush(max_batches=1, reschedule=False)
    except Exception:  # the database is in trouble too: the records stay buffered, the response still goes out
        logger.exception("could not flush the impression buffer from a request")


def _flush_schedule() -> None:
    try:
        task_send(IMPRESSIONS_FLUSH, countdown=float(recommender_settings.IMPRESSION_FLUSH_S))
    except Exception:  # the beat entry flushes within a minute anyway
        logger.warning("could not schedule the impression flush", exc_info=True)


# Move up to ARGV[1] records from the head of the buffer to this flusher's processing list, mark it alive and
# register it, atomically: no other flusher can see those records any more, and none are in neither list.
_CLAIM_SCRIPT = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('RPUSH', KEYS[2], unpack(items))
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('SET', KEYS[4], 1, 'EX', tonumber(ARGV[3]))
end
return items
"""
# Put the batches of flushers whose alive mark expired back at the head of the buffer. The keys are derived
# inside the script (fine on one Redis server; a Redis Cluster would need them in one hash slot).
_REQUEUE_SCRIPT = """
local moved = 0
for _, token in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[2] .. token) == 0 then
    local key = ARGV[1] .. token
    local items = redis.call('LRANGE', key, 0, -1)
    for i = #items, 1, -1 do
      redis.call('LPUSH', KEYS[1], items[i])
    end
    moved = moved + #items
    redis.call('DEL', key)
    redis.call('SREM', KEYS[2], token)
  end
end
return moved
"""


def impressions_flush(
    *, max_batches: int = 100, reschedule: bool = True, lock_timeout_s: float = LOCK_TIMEOUT_S
) -> int:
    """Write buffered impressions to the database, a batch at a time, until the buffer is empty; returns how many
    records this call wrote. Normally one flusher at a time (a Redis lock), but correctness does not depend on the
    lock: each batch is claimed atomically, so overlapping flushers split the records between them."""
    client = _redis()
    lock = client.lock(LOCK_KEY, timeout=lock_timeout_s, blocking_timeout=0)
    if not lock.acquire(blocking=False):
        if reschedule:
            _flush_schedule()  # another flusher is busy; come back rather than leave late pushes waiting
        return 0
    token = uuid.uuid4().hex
    written = 0
    try:
        client.delete(SCHEDULED_KEY)  # pushes from now on schedule the next flush
        requeued = impressions_requeue_orphans(client=client)
        if requeued:
            logger.warning("put %s impression records of a dead flusher back on the buffer", requeued)
        for _ in range(max_batches):
            raw = client.eval(
                _CLAIM_SCRIPT,
                4,
                BUFFER_KEY,
                PROCESSING_KEY.format(token),
                FLUSHERS_KEY,
                ALIVE_KEY.format(token),
                BATCH_SIZE,
                token,
                CLAIM_TTL_S,
            )
            if not raw:
                break
            records = []
            for blob in raw:
                try:
                    records.append(json.loads(blob))
                except ValueError:
                    logger.error("dropping an unreadable impression record: %r", blob[:200])
            impressions_write(records)  # raises: the batch stays claimed, and is requeued once the mark expires
            pipe = client.pipeline(transaction=True)
            pipe.delete(PROCESSING_KEY.format(token), ALIVE_KEY.format(token))
            pipe.srem(FLUSHERS_KEY, token)
            pipe.execute()
            written += len(records)
            with contextlib.suppress(LockError):  # keep other flushers away while this one is making progress
                lock.extend(lock_timeout_s, replace_ttl=True)
    finally:
        with contextlib.suppress(LockError):  # expired meanwhile: nothing to release
            lock.release()
    return written


def impressions_requeue_orphans(*, client: Any | None = None) -> int:
    """Return batches claimed by flushers that died before writing them to the buffer; how many records moved."""
    client = client or _redis()
    return int(
        client.eval(_REQUEUE_SCRIPT, 2, BUFFER_KEY, FLUSHERS_KEY, PROCESSING_KEY.format(""), ALIVE_KEY.format(""))
    )


def impressions_buffered() -> int:
    """Records not yet written: in the buffer, or claimed by a flusher that has not finished its batch."""
    client = _redis()
    tokens = [t.decode() for t in client.smembers(FLUSHERS_KEY)]
    return int(client.llen(BUFFER_KEY)) + sum(int(client.llen(PROCESSING_KEY.format(t))) for t in tokens)


@dataclass(frozen=True)
class BufferState:
    depth: int  # records not yet written (impressions_buffered)
    oldest_at: datetime | None  # when the oldest of them was served; None when the buffer is empty

    def lag_s(self, now: datetime) -> float:
        """How long the oldest buffered list has waited to be written: the flush lag."""
        return max(0.0, (now - self.oldest_at).total_seconds()) if self.oldest_at else 0.0


def impressions_buffer_state() -> BufferState:
    """Depth of the impression buffer and the serving time of its oldest record (the buffer's head, or the head of
    a batch a flusher has claimed, whichever is older), for /metrics and the dashboard. Raises when Redis is down."""
    client = _redis()
    tokens = [t.decode() for t in client.smembers(FLUSHERS_KEY)]
    pipe = client.pipeline(transaction=False)
    pipe.lindex(BUFFER_KEY, 0)
    for token in tokens:
        pipe.lindex(PROCESSING_KEY.format(token), 0)
    heads = [json.loads(raw).get("created_at") for raw in pipe.execute() if raw]
    times = [datetime.fromisoformat(created) for created in heads if created]
    return BufferState(depth=impressions_buffered(), oldest_at=min(times) if times else None)


@primary_reads  # a request may write inline (Redis down, back-pressure): what exists is read where it is written
def impressions_write(records: list[dict[str, Any]]) -> None:
    """Store impression records as compact served lists (idempotent), attribute clicks that already arrived for
    them, and queue the teacher judgments they ask for after the commit."""
    if not records:
        return
    user_ids = {int(r["user_id"]) for r in records if r.get("user_id")}
    existing_users = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    with transaction.atomic():
        served_lists_write(records, existing_users=existing_users)
        teach = [r["request_id"] for r in records if r.get("teach")]
        if teach:
            transaction.on_commit(lambda: _teacher_queue(teach))
    _clicks_for(records)


def _teacher_queue(request_ids: list[str]) -> None:
    try:
        for request_id in request_ids:
            task_send(TEACHER_SCORE, request_id)
    except Exception:  # broker down: the lists are stored; a judgment is an extra, never worth a failed request
        logger.warning("could not queue teacher judgments for %s lists", len(request_ids), exc_info=True)


def _clicks_for(records: list[dict[str, Any]]) -> None:
    """Clicks recorded before their list was flushed: attribute them now."""
    oldest = min(datetime.fromisoformat(r["created_at"]) for r in records)
    clicks_attribute_since(start=oldest - CLICK_SKEW, request_ids=[r["request_id"] for r in records])
