"""The teacher client: one resilient, budgeted, cached OpenAI call that scores candidates. Never raises.

Runs inside Celery tasks, never on the request path. Every outcome, failures included, comes back as a
`TeacherResult` so the caller can store the judgment (with its error) and move on:

    >>> client = TeacherClient(TeacherConfig(api_key=key), redis.Redis.from_url(url))
    >>> result = client.score(resolve_history(events, products), preferences, candidates)
    >>> if result.ok:
    ...     best = max(result.scores, key=result.scores.get)
    ... elif result.error is ErrorKind.RATE_LIMITED and result.retry_after_s:
    ...     raise self.retry(countdown=result.retry_after_s)

The order of the guards, cheapest first: disabled -> cache -> circuit breaker -> spend budget -> HTTP with
retries. The breaker, the budget and the cache live in Redis so all worker processes share them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import redis

from dragonrec.recommender.core.types import Preferences, Product, ProductId
from dragonrec.recommender.teacher.breaker import CircuitBreaker
from dragonrec.recommender.teacher.budget import SpendBudget
from dragonrec.recommender.teacher.config import TeacherConfig
from dragonrec.recommender.teacher.prompt import PROMPT_VERSION, HistoryItem, Prompt, build_prompt
from dragonrec.recommender.teacher.protocol import Problem, TeacherAnswerError, parse_answer
from dragonrec.recommender.teacher.result import (
    ANSWER_TOKENS_OVERHEAD,
    ANSWER_TOKENS_PER_CANDIDATE,
    BREAKER_FAILURES,
    NOT_SENT,
    RETRYABLE,
    ErrorKind,
    Failure,
    TeacherResult,
    classify_failure,
    estimated_tokens,
)

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)


class TeacherClient:
    """Scores candidates with the configured LLM. Thread-safe; create one per worker process and reuse it."""

    def __init__(self, config: TeacherConfig, redis: redis.Redis) -> None:
        self.config = config
        self.redis = redis
        prefix = config.redis_prefix
        self.breaker = CircuitBreaker(
            redis,
            f"{prefix}:breaker:{config.endpoint_id}",
            threshold=config.breaker_threshold,
            cooldown_s=config.breaker_cooldown_s,
            # The half-open probe makes a single attempt; its lease must outlive it, then expire if its worker died.
            probe_ttl_s=config.timeout_s + 5.0,
        )
        self.budget = SpendBudget(redis, f"{prefix}:spend", limit_usd=config.hourly_budget_usd)
        self._openai: openai.OpenAI | None = None
        self._random = random.Random()

    @property
    def openai(self) -> openai.OpenAI:
        # Built lazily: a disabled teacher never constructs an SDK client, and a forked Celery worker gets its own
        # connection pool.
        if self._openai is None:
            import openai  # the `teacher` extra: a shop without a teacher need not install the SDK

            self._openai = openai.OpenAI(
                api_key=self.config.resolved_api_key,
                base_url=self.config.resolved_base_url,
                timeout=self.config.timeout_s,
                max_retries=0,  # we retry ourselves: our backoff, our Retry-After cap, one count for the breaker
            )
        return self._openai

    # ------------------------------------------------------------------------------------------------ public API
    def score(
        self,
        history: Sequence[HistoryItem],
        preferences: Preferences,
        candidates: Sequence[Product],
    ) -> TeacherResult:
        """Score up to `config.max_candidates` candidates (the first ones; the rest are reported as `not_sent`).

        `history` is oldest first, as (event, product) pairs: see `prompt.resolve_history`.
        """
        started = time.monotonic()
        try:
            result = self._score(history, preferences, candidates)
        except Exception as exc:  # never raise into the caller: the judgment is stored with its error instead
            logger.exception("teacher: unexpected failure")
            result = TeacherResult(error=ErrorKind.INTERNAL_ERROR, error_detail=f"{type(exc).__name__}: {exc}")
        result.latency_ms = round((time.monotonic() - started) * 1000, 1)
        if result.error is not None and result.error is not ErrorKind.DISABLED:
            logger.warning("teacher: %s (%s) after %d attempt(s)", result.error, result.error_detail, result.attempts)
        return result

    def score_batches(
        self,
        history: Sequence[HistoryItem],
        preferences: Preferences,
        candidates: Sequence[Product],
    ) -> list[TeacherResult]:
        """Any number of candidates, `config.max_candidates` per call: one result (one judgment) per call."""
        first_seen: dict[ProductId, Product] = {}
        for product in candidates:
            first_seen.setdefault(product.id, product)
        unique = list(first_seen.values())
        size = max(1, self.config.max_candidates)
        return [self.score(history, preferences, unique[i : i + size]) for i in range(0, len(unique), size)]

    # ------------------------------------------------------------------------------------------------ internals
    def _score(
        self,
        history: Sequence[HistoryItem],
        preferences: Preferences,
        candidates: Sequence[Product],
    ) -> TeacherResult:
        config = self.config
        if not config.enabled:
            return TeacherResult(model=config.model, error=ErrorKind.DISABLED, error_detail="no API key or base URL")

        by_id: dict[ProductId, Product] = {}
        for product in candidates:
            by_id.setdefault(product.id, product)
        limit = max(1, config.max_candidates)
        sent, not_sent = list(by_id.values())[:limit], list(by_id)[limit:]
        prompt = build_prompt(history, preferences, sent)
        ids = {str(p.id): p.id for p in sent}
        result = TeacherResult(
            model=config.model,
            candidate_ids=[p.id for p in sent],
            flagged_ids=list(prompt.flagged_ids),
            cache_key=self._cache_key(prompt),
            problems=[Problem(NOT_SENT, str(pid), f"over max_candidates={limit}") for pid in not_sent],
        )
        if not sent:
            return result

        if cached := self._cache_get(result.cache_key):
            self._fill_from_answer(result, cached["raw_answer"], prompt, ids)
            result.model = cached.get("model") or config.model
            result.cache_hit = True
            return result

        decision = self.breaker.allow()
        if decision is None:
            result.error, result.error_detail = ErrorKind.CIRCUIT_OPEN, f"{self.breaker.state()}: failing fast"
            return result

        max_tokens = ANSWER_TOKENS_OVERHEAD + ANSWER_TOKENS_PER_CANDIDATE * len(sent)
        prompt_chars = sum(len(m["content"]) for m in prompt.messages)
        estimated_prompt_cost = config.cost_usd(estimated_tokens(prompt_chars), 0)
        reservation = self.budget.reserve(estimated_prompt_cost + config.cost_usd(0, max_tokens))
        if reservation is None:
            if decision == "probe":
                self.breaker.release_probe()  # no request was sent: let the next caller probe
            spent, budget = self.budget.spent_usd(), config.hourly_budget_usd
            result.error, result.error_detail = ErrorKind.BUDGET_EXCEEDED, f"spent ${spent:.4f} of ${budget}/hour"
            return result

        # Half-open: a single attempt, so a still-dead endpoint costs one timeout, not a full retry ladder.
        attempts_allowed = 1 if decision == "probe" else 1 + max(0, config.max_retries)
        response, failure = self._call_with_retries(prompt, max_tokens, attempts_allowed, result)

        if response is None:
            assert failure is not None
            if failure.kind in BREAKER_FAILURES:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            # A timed-out request may still be billed by the provider: keep its prompt cost booked.
            self.budget.settle(reservation, estimated_prompt_cost if failure.kind is ErrorKind.TIMEOUT else 0.0)
            result.error, result.error_detail, result.retry_after_s = (
                failure.kind,
                failure.detail,
                failure.retry_after_s,
            )
            return result

        # The endpoint answered: whatever the content, it is up.
        self.breaker.record_success()
        message = response.choices[0].message if response.choices else None
        raw = (message.content if message is not None else None) or ""
        usage = response.usage
        result.prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        result.completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        if result.prompt_tokens or result.completion_tokens:
            result.cost_usd = round(config.cost_usd(result.prompt_tokens, result.completion_tokens), 8)
        else:
            # No usage reported (some compatible servers, proxies): an answer is never free, or an endpoint that
            # omits usage would make the hourly budget unlimited. Charged by its length, and marked as estimated.
            result.cost_usd = round(config.cost_usd(estimated_tokens(prompt_chars), estimated_tokens(len(raw))), 8)
            result.cost_estimated = True
        self.budget.settle(reservation, result.cost_usd)
        result.model = response.model or config.model

        if not raw and message is not None and getattr(message, "refusal", None):
            result.error, result.error_detail = ErrorKind.BAD_ANSWER, f"refused: {message.refusal}"[:200]
            return result
        self._fill_from_answer(result, raw, prompt, ids)
        if result.ok:
            self._cache_set(result.cache_key, {"raw_answer": raw, "model": result.model})
        return result

    def _call_with_retries(
        self, prompt: Prompt, max_tokens: int, attempts_allowed: int, result: TeacherResult
    ) -> tuple[Any, Failure | None]:
        import openai

        config = self.config
        failure: Failure | None = None
        for attempt in range(attempts_allowed):
            result.attempts += 1
            try:
                # Prompt.messages are plain role/content dicts (prompt.py does not depend on the optional SDK), not
                # the SDK's message TypedDicts.
                response = self.openai.chat.completions.create(  # type: ignore[call-overload]
                    model=config.model,
                    messages=prompt.messages,
                    temperature=config.temperature,
                    response_format={"type": "json_object"},
                    max_tokens=max_tokens,
                    timeout=config.timeout_s,
                )
                return response, None
            except openai.OpenAIError as exc:
                failure = classify_failure(exc)
            if failure.kind not in RETRYABLE or attempt + 1 >= attempts_allowed:
                break
            if failure.retry_after_s is not None:
                if failure.retry_after_s > config.backoff_cap_s:
                    # Waiting minutes inside a worker wastes it; the task can re-queue itself with this countdown.
                    break
                delay = failure.retry_after_s
            else:
                delay = self._random.uniform(0, min(config.backoff_cap_s, config.backoff_base_s * 2**attempt))
            time.sleep(delay)
        return None, failure

    @staticmethod
    def _fill_from_answer(result: TeacherResult, raw: str, prompt: Prompt, ids: dict[str, ProductId]) -> None:
        result.raw_answer = raw
        try:
            parsed = parse_answer(raw, prompt.candidate_ids)
        except TeacherAnswerError as exc:
            result.error, result.error_detail = ErrorKind.BAD_ANSWER, str(exc)[:300]
            return
        result.problems.extend(parsed.problems)
        result.scores = {ids[cid]: score for cid, score in parsed.scores.items()}
        result.reasons = {ids[cid]: parsed.reasons.get(cid, "") for cid in parsed.scores}
        if not result.scores:
            result.error, result.error_detail = ErrorKind.BAD_ANSWER, "no candidate was scored"

    # ------------------------------------------------------------------------------------------------ cache
    def _cache_key(self, prompt: Prompt) -> str:
        # The rendered messages carry the history, preferences and candidates exactly as the model sees them.
        material = {
            "model": self.config.model,
            "prompt_version": PROMPT_VERSION,
            "temperature": self.config.temperature,
            "messages": prompt.messages,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def _cache_get(self, key: str) -> dict[str, Any] | None:
        if self.config.cache_ttl_s <= 0:
            return None
        value = self.redis.get(f"{self.config.redis_prefix}:cache:{key}")
        if value is None:
            return None
        try:
            data = json.loads(value)
        except ValueError:
            return None
        return data if isinstance(data, dict) and isinstance(data.get("raw_answer"), str) else None

    def _cache_set(self, key: str, value: dict[str, Any]) -> None:
        if self.config.cache_ttl_s > 0:
            self.redis.set(f"{self.config.redis_prefix}:cache:{key}", json.dumps(value), ex=self.config.cache_ttl_s)
