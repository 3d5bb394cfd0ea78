"""What a teacher call comes back as: a TeacherResult (scores and reasons, or the error that stopped it, with its
cost and timings), and how an SDK exception is classified (retried or not, counted by the breaker or not)."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dragonrec.recommender.core.types import ProductId
from dragonrec.recommender.teacher.prompt import PROMPT_VERSION
from dragonrec.recommender.teacher.protocol import Problem

if TYPE_CHECKING:
    from openai import OpenAIError


# Answer size: {"id": 123456, "score": 7, "reason": "<~12 words>"} is ~35 tokens; 60 per candidate plus the
# wrapper leaves room for wordier models without letting a rambling one run up the bill.
ANSWER_TOKENS_PER_CANDIDATE = 60
ANSWER_TOKENS_OVERHEAD = 50
# For the budget reservation, and the charge of an answer without token usage: English and JSON average ~4
# characters per token; 3 errs on the expensive side.
CHARS_PER_TOKEN_ESTIMATE = 3
# Problem kind for candidates beyond `max_candidates` in `score` (use `score_batches` to score them all).
NOT_SENT = "not_sent"


class ErrorKind(StrEnum):
    TIMEOUT = "timeout"  # no answer within timeout_s (after retries)
    RATE_LIMITED = "rate_limited"  # 429 after retries, or a Retry-After longer than backoff_cap_s: see retry_after_s
    SERVER_ERROR = "server_error"  # 5xx (or an unreadable HTTP body) after retries
    CONNECTION_ERROR = "connection_error"  # the endpoint could not be reached (refused, DNS, TLS)
    REQUEST_REJECTED = "request_rejected"  # another 4xx: bad key, unknown model, prompt too long. Not retried.
    BAD_ANSWER = "bad_answer"  # an answer came, but not a readable {"scores": [...]} with any candidate scored
    CIRCUIT_OPEN = "circuit_open"  # failed fast: the endpoint failed too often lately, no request was sent
    BUDGET_EXCEEDED = "budget_exceeded"  # refused: this hour's spend budget is used up, no request was sent
    DISABLED = "disabled"  # no key and no base URL configured
    INTERNAL_ERROR = "internal_error"  # anything else (Redis down, a bug): logged with its traceback


# Failures that say "the endpoint is unwell": retried, and counted by the circuit breaker. A bad answer is the
# model's fault, not the endpoint's; a rejected request will not get better by retrying.
RETRYABLE = frozenset({ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED, ErrorKind.SERVER_ERROR, ErrorKind.CONNECTION_ERROR})
BREAKER_FAILURES = RETRYABLE | {ErrorKind.REQUEST_REJECTED}


@dataclass(slots=True)
class TeacherResult:
    """One scoring call's outcome. `scores` may cover only some candidates; see `problems` for why."""

    scores: dict[ProductId, float] = field(default_factory=dict)  # 0-10, only for candidates the teacher scored
    reasons: dict[ProductId, str] = field(default_factory=dict)
    raw_answer: str = ""  # the model's message content, verbatim ("" when no answer came)
    latency_ms: float = 0.0  # wall time of this call, retries and backoff included
    prompt_tokens: int = 0  # what THIS call spent: 0 on a cache hit or when no request succeeded
    completion_tokens: int = 0
    cost_usd: float = 0.0
    model: str = ""  # the model that answered, as the API reports it (e.g. "gpt-4o-mini-2024-07-18")
    prompt_version: str = PROMPT_VERSION
    cache_hit: bool = False
    error: ErrorKind | None = None
    error_detail: str = ""
    problems: list[Problem] = field(default_factory=list)  # validation findings, see recommender.teacher.protocol
    candidate_ids: list[ProductId] = field(default_factory=list)  # the candidates sent, in prompt order
    flagged_ids: list[ProductId] = field(default_factory=list)  # products with instruction-like text (redacted)
    attempts: int = 0  # HTTP requests made
    retry_after_s: float | None = None  # when rate limited: how long the server asked us to wait
    cache_key: str = ""  # sha256 of what was asked: equal keys = the same question
    cost_estimated: bool = False  # the API reported no token usage: `cost_usd` is estimated from text lengths

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (ids become strings as JSON object keys do), for a JSONField or a log line."""
        return {
            "scores": {str(k): v for k, v in self.scores.items()},
            "reasons": {str(k): v for k, v in self.reasons.items()},
            "raw_answer": self.raw_answer,
            "latency_ms": self.latency_ms,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "cache_hit": self.cache_hit,
            "error": self.error.value if self.error else None,
            "error_detail": self.error_detail,
            "problems": [p.to_dict() for p in self.problems],
            "candidate_ids": list(self.candidate_ids),
            "flagged_ids": list(self.flagged_ids),
            "attempts": self.attempts,
            "retry_after_s": self.retry_after_s,
            "cache_key": self.cache_key,
            "cost_estimated": self.cost_estimated,
        }


@dataclass(slots=True)
class Failure:
    kind: ErrorKind
    detail: str
    retry_after_s: float | None = None


def classify_failure(exc: OpenAIError) -> Failure:
    import openai

    detail = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is a subclass
        return Failure(ErrorKind.TIMEOUT, detail)
    if isinstance(exc, openai.APIConnectionError):
        return Failure(ErrorKind.CONNECTION_ERROR, detail)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return Failure(ErrorKind.RATE_LIMITED, detail, retry_after_s(exc.response.headers))
        if status == 408:
            return Failure(ErrorKind.TIMEOUT, detail)
        # 409 is OpenAI's lock timeout: transient like a 5xx (the SDK retries it too).
        if status >= 500 or status == 409:
            return Failure(ErrorKind.SERVER_ERROR, detail, retry_after_s(exc.response.headers))
        return Failure(ErrorKind.REQUEST_REJECTED, detail)
    if isinstance(exc, openai.APIResponseValidationError):
        return Failure(ErrorKind.SERVER_ERROR, detail)  # a 200 whose body is not a chat completion (a proxy page)
    return Failure(ErrorKind.BAD_ANSWER, detail)


def estimated_tokens(chars: int) -> int:
    return chars // CHARS_PER_TOKEN_ESTIMATE + 1


def retry_after_s(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` (OpenAI's) or `Retry-After` (seconds or an HTTP date); None when absent."""
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None
