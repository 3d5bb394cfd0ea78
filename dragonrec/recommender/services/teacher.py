"""The LLM teacher from Celery: build the client from settings, judge a served list, store the judgment whatever
happened, and cache good scores where serving looks for them."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any, TypedDict

from django.core.cache import cache
from django_redis import get_redis_connection

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.core.types import HistoryEvent, Preferences
from dragonrec.recommender.models import TeacherJudgment
from dragonrec.recommender.stores import products_from_db
from dragonrec.recommender.teacher.client import TeacherClient
from dragonrec.recommender.teacher.config import TeacherConfig
from dragonrec.recommender.teacher.prompt import resolve_history
from dragonrec.recommender.teacher.protocol import plain_reason
from dragonrec.recommender.teacher.result import TeacherResult


def history_signature(history: list[HistoryEvent]) -> str:
    """Identifies 'this user with exactly this recent history': teacher scores are cached per signature."""
    payload = json.dumps([(e.product_id, e.event_type) for e in history[-20:]])
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def teacher_cache_key(user_key: str, signature: str) -> str:
    return f"dragonrec:teacher-scores:{user_key}:{signature}"


# one client per process and configuration: it holds an HTTP connection pool
_clients: ProcessCache[TeacherConfig, TeacherClient] = ProcessCache("teacher client")


def teacher_config() -> TeacherConfig:
    s = recommender_settings
    return TeacherConfig(
        api_key=s.TEACHER_API_KEY,
        base_url=s.TEACHER_BASE_URL,
        model=s.TEACHER_MODEL,
        timeout_s=float(s.TEACHER_TIMEOUT_S),
        max_retries=int(s.TEACHER_MAX_RETRIES),
        backoff_base_s=float(s.TEACHER_BACKOFF_BASE_S),
        backoff_cap_s=float(s.TEACHER_BACKOFF_CAP_S),
        breaker_threshold=int(s.TEACHER_BREAKER_THRESHOLD),
        breaker_cooldown_s=float(s.TEACHER_BREAKER_COOLDOWN_S),
        hourly_budget_usd=s.TEACHER_HOURLY_BUDGET_USD,
        price_per_1k_input_usd=float(s.TEACHER_PRICE_PER_1K_INPUT_USD),
        price_per_1k_output_usd=float(s.TEACHER_PRICE_PER_1K_OUTPUT_USD),
        max_candidates=int(s.TEACHER_CANDIDATES),
        cache_ttl_s=int(s.TEACHER_CACHE_TTL_S),
    )


def teacher_client() -> TeacherClient:
    """One client per process, a new one when the settings change."""
    config = teacher_config()
    return _clients.get(config, lambda _: TeacherClient(config, get_redis_connection("default")))


def teacher_judge(*, payload: dict[str, Any], source: str = "serving") -> TeacherResult:
    """Judge `payload["candidates"]` for `payload["history"]`; always stores a TeacherJudgment.

    payload: request_id, user_key, signature, history [[product id, event type], ...], preferences, candidates.
    """
    history = [
        HistoryEvent(product_id=int(pid), event_type=str(kind), timestamp=float(i))
        for i, (pid, kind) in enumerate(payload.get("history", []))
    ]
    candidate_ids = [int(pid) for pid in payload.get("candidates", [])]
    known = products_from_db({e.product_id for e in history} | set(candidate_ids))
    candidates = [known[pid] for pid in candidate_ids if pid in known]
    prefs = payload.get("preferences") or {}
    preferences = Preferences(
        categories=tuple(prefs.get("categories", ())),
        brands=tuple(prefs.get("brands", ())),
        price_min=prefs.get("price_min"),
        price_max=prefs.get("price_max"),
    )
    result = teacher_client().score(resolve_history(history, known), preferences, candidates)
    request_id = payload.get("request_id")
    TeacherJudgment.objects.create(
        prompt_version=result.prompt_version,
        model=result.model or recommender_settings.TEACHER_MODEL,
        user_key=str(payload.get("user_key", ""))[:200],
        request_id=uuid.UUID(request_id) if request_id else None,
        cache_key=result.cache_key or "",
        history=[[e.product_id, e.event_type] for e in history],
        preferences=prefs,
        candidates=[c.id for c in candidates],
        scores={str(k): v for k, v in result.scores.items()},
        reasons={str(k): v for k, v in result.reasons.items()},
        problems=[p.to_dict() for p in result.problems][:200],
        raw_answer=result.raw_answer or "",
        latency_ms=int(result.latency_ms or 0),
        prompt_tokens=int(result.prompt_tokens or 0),
        completion_tokens=int(result.completion_tokens or 0),
        cost_usd=Decimal(str(round(result.cost_usd or 0.0, 6))),
        cost_estimated=result.cost_estimated,
        flagged=sorted(int(pid) for pid in result.flagged_ids),
        cache_hit=bool(result.cache_hit),
        error=str(result.error or ""),
        error_detail=(result.error_detail or "")[:5000],
        source=source,
    )
    if result.ok and result.scores and payload.get("user_key") and payload.get("signature"):
        cache.set(
            teacher_cache_key(payload["user_key"], payload["signature"]),
            serving_scores(result),
            timeout=int(recommender_settings.TEACHER_CACHE_TTL_S),
        )
    return result


class ServingJudgment(TypedDict):
    """One product's teacher judgment as serving reads it from the cache (`serving_scores` writes it)."""

    score: float  # 0-10
    reason: str  # plain text, fit to show a shopper


TeacherScores = dict[str, ServingJudgment]  # product id (as text: the cache stores JSON) -> its judgment


def serving_scores(result: TeacherResult) -> TeacherScores:
    """What serving may use of a judgment: products whose text tried to instruct the model are left to the local
    ranker (their score may be the injection's), and reasons become plain, short text fit to show a shopper."""
    flagged = set(result.flagged_ids)
    max_chars = int(recommender_settings.TEACHER_REASON_MAX_CHARS)
    return {
        str(pid): {"score": score, "reason": plain_reason(result.reasons.get(pid, ""), max_chars)}
        for pid, score in result.scores.items()
        if pid not in flagged
    }
